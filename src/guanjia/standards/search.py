"""Full-text search of the standards library: codes, titles, clauses and terms.

How it works
------------
* **Segmentation.** Text is cut into words by jieba (rjieba) with the HMM off, so that the
  same characters are always cut the same way in a clause and in a query, plus the words of
  government-affairs administration in `data/search_words.txt`. A long word is also indexed
  under the dictionary words inside it (jieba's search mode, extended to sub-words of any
  length), and every standard code written in the text under a compact key (`db50t9001`,
  `db50t9001y2022`), so a citation is found however the code was typed.
* **Three tables** (migration 0002_search), the same columns on both databases.
  `standards_search`: one row per standard header (code in its written forms, title,
  English title), clause (number, title, text) and term (term, English, definition), with
  the space-joined words (body) and what a snippet shows (text); its id is
  `standard id << 20 | position`, so one standard is one id range. The database
  full-text-indexes the body: SQLite an external-content FTS5 table (unicode61 over the
  words), PostgreSQL a generated `to_tsvector('simple', body)`.
  `standards_search_word`: each standard's words once, weighted (BM25's saturating term
  frequency — title ×3, terms ×2, clauses ×1 — normalised by the standard's length): an
  impact-weighted inverted index at the level of the standard. `standards_search_df`: in
  how many standards each word is, kept by indexing, for BM25's idf.
* **Searching** takes two steps. (1) Which standards: the query, compiled to a small
  boolean tree (words, alternatives, phrases of single characters), is evaluated over
  `standards_search_word` in plain SQL, identical on both databases; a word costs at most
  one row per standard however many clauses hold it. (2) Which clauses: the same tree,
  rendered as an FTS5 MATCH string or a tsquery, runs over the rows of the chosen
  standards only (FTS5: one rowid range per standard); the matching rows are ordered for
  the snippets by BM25 over their words, in Python. Measured first and dropped: ranking
  rows by bm25 / ts_rank_cd across the library (a common word is in a third of 500,000
  clauses: 150–400 ms on either database), and bm25 in step (2) (FTS5 computes its idf by
  reading the term's whole posting list, once per standard asked about).
* **Ranking.** Exact code match first (any written form; an undated code matches every
  edition, in force first), then relevance; an in-force edition ranks above a superseded
  or withdrawn one at equal relevance (relevance is weighed by status).
* **Scope.** The caller's data scope comes first: `Standard.objects.restrict(user)` with the
  filters (user None = the system, e.g. the CLI) decides step (1) — applied to the best
  standards of the whole library, and compiled into the query itself when too few of those
  are in scope, so a narrow scope or filter still gets its full page.

The vendor-specific SQL — the tree rendered for the database's full-text, the clause
query, bulk loading, keeping FTS5 in step — is in `_SQLite` / `_PostgreSQL`; all else,
ranking included, is one Python code path, so both databases give the same results.

Keeping it current: `index_standard(standard)` after a standard is imported or changed (the
importer calls it in its transaction), `remove_standard(id)` when one is deleted (a
post_delete receiver here does it), `reindex_all()` / `guanjia standards search --reindex`
after the word list changes or to rebuild.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import cache
from itertools import pairwise
from pathlib import Path

from django.core.exceptions import EmptyResultSet, FieldDoesNotExist
from django.db import connection, transaction
from django.db.models import Case, Q, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .codes import CODE_IN_TEXT, Code, looks_like_code, parse_code
from .models import STATUS_RANK, Clause, Document, Standard, Term

TABLE = "standards_search"  # rows: headers, clauses, terms
WORD_TABLE = "standards_search_word"  # (word, standard_id, weight)
DF_TABLE = "standards_search_df"  # (word, n): in how many standards; '' = how many standards
FTS_TABLE = "standards_search_fts"  # SQLite only
DOC_TABLE = "standards_document_search"  # rows: (document id, head words, body words)
DOC_FTS_TABLE = "standards_document_search_fts"  # SQLite only
SHIFT = 20  # row id = standard id << SHIFT | position (up to a million rows a standard)
WORDS_FILE = Path(__file__).with_name("data") / "search_words.txt"

HEADER, CLAUSE, TERM = "title", "clause", "term"  # kinds of row
BOOST = {HEADER: 3, TERM: 2, CLAUSE: 1}  # a word in the title counts three times
K1, B, AVERAGE_LENGTH = 1.2, 0.5, 1000  # BM25's saturation and length normalisation
MAX_WORD = 64  # longer "words" (runs of digits, URLs) get no row in the word table


# -- segmentation ------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+")  # runs of letters and digits: what unicode61 and PG keep
_CODE = re.compile(r"(?<![A-Za-z0-9])(?:" + CODE_IN_TEXT.pattern + ")")
# Single-character words a query can do without (kept inside phrases).
_STOP = frozenset("的了和与及或等在是对为之其并且把被")


@cache
def _jieba():
    import rjieba

    seg = rjieba.Jieba()
    for line in WORDS_FILE.read_text(encoding="utf-8").splitlines():
        word, _sep, freq = line.strip().partition(" ")
        if word and not word.startswith("#"):
            seg.add_word(word, int(freq) if freq.strip() else 1000, None)
    return seg


def normalise(text: str) -> str:
    """Full-width to half-width, compatibility forms folded, lower case."""
    return unicodedata.normalize("NFKC", text or "").lower()


def _compact(code: Code) -> list[str]:
    """One token per written form of a code: undated and, if dated, dated."""
    undated = re.sub(r"[^0-9a-z]", "", code.undated_key.lower().replace(".", "d"))
    return [undated] + ([f"{undated}y{code.year}"] if code.year else [])


def codes_in(text: str) -> list[Code]:
    found = []
    for m in _CODE.finditer(unicodedata.normalize("NFKC", text or "")):
        try:
            found.append(parse_code(m.group()))
        except ValueError:
            continue
    return found


def words(text: str) -> list[str]:
    """The words a text is indexed under."""
    seg = _jieba()
    out: list[str] = []
    for token in seg.cut(normalise(text), False):
        for piece in _WORD.findall(token):
            out.append(piece)
            if len(piece) > 2 and not piece.isascii():
                out.extend(w for w in seg.cut_all(piece) if 1 < len(w) < len(piece))
    for code in codes_in(text):
        out.extend(_compact(code))
    return out


# -- queries -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Word:
    text: str


@dataclass(frozen=True)
class Phrase:
    words: tuple[str, ...]


@dataclass(frozen=True)
class AllOf:
    parts: tuple


@dataclass(frozen=True)
class AnyOf:
    parts: tuple


@dataclass(frozen=True)
class Either:
    """A word, or, where a text cut it otherwise, the words inside it."""

    word: Word
    parts: AllOf


def _cover(word: str) -> list[Word]:
    """The dictionary words inside a long word, longest first from the left, and the
    characters no word covers (光盘率 → 光盘 + 率): how the word is found in a text that cut
    it differently."""
    subs = {w for w in _jieba().cut_all(word) if 1 < len(w) < len(word)}
    out, i = [], 0
    while i < len(word):
        best = max((w for w in subs if word.startswith(w, i)), key=len, default=None)
        out.append(Word(best or word[i]))
        i += len(best) if best else 1
    return out if any(len(w.text) > 1 for w in out) else []


def compile_query(text: str) -> tuple[list, list[str]]:
    """A query's parts (all required) and its surface strings (for highlighting).

    Multi-character words must match as words (a long word also as the words inside it);
    runs of single characters — what jieba leaves of words it does not know — match as a
    phrase; a lone character (not a stop word) as itself."""
    pieces = [p for t in _jieba().cut(normalise(text), False) for p in _WORD.findall(t)]
    nodes: list = []
    surface: list[str] = []
    run: list[str] = []

    def flush():
        if len(run) == 1 and run[0] not in _STOP:
            nodes.append(Word(run[0]))
            surface.append(run[0])
        elif len(run) > 1:
            nodes.append(Phrase(tuple(run)))
            surface.append("".join(run))
        run.clear()

    for piece in pieces:
        if len(piece) == 1 and not piece.isascii():
            run.append(piece)
            continue
        flush()
        surface.append(piece)
        cover = _cover(piece) if len(piece) > 2 and not piece.isascii() else []
        nodes.append(Either(Word(piece), AllOf(tuple(cover))) if cover else Word(piece))
    flush()
    return list(dict.fromkeys(nodes)), list(dict.fromkeys(surface))


# -- the vendor adapters -----------------------------------------------------------------------


class _SQLite:
    def render(self, node) -> str:
        match node:
            case Word(text):
                return f'"{text}"'
            case Phrase(ws):
                return '"' + " ".join(ws) + '"'
            case AllOf(parts):
                return "(" + " AND ".join(map(self.render, parts)) + ")"
            case AnyOf(parts):
                return "(" + " OR ".join(map(self.render, parts)) + ")"
            case Either(word, parts):
                return self.render(AnyOf((word, parts)))
        raise TypeError(node)

    def clause_hits(self, cursor, expression: str, standard_ids: list[int]) -> list[tuple]:
        """(id, kind, number, body, text) of the rows of these standards matching
        `expression`, one range of the FTS5 index per standard. (No bm25: FTS5 counts each
        term's rows across the whole table for it, once per range.)"""
        arms, params = [], []
        for sid in standard_ids:
            arms.append(
                f"SELECT d.id, d.kind, d.number, d.body, d.text FROM {FTS_TABLE} AS f "
                f"JOIN {TABLE} AS d ON d.id = f.rowid "
                f"WHERE f.{FTS_TABLE} MATCH %s AND f.rowid BETWEEN %s AND %s"
            )
            params += [expression, *_id_range(sid)]
        cursor.execute(" UNION ALL ".join(arms), params)
        return cursor.fetchall()

    def load(self, cursor, table: str, columns: tuple, rows: list[tuple]) -> None:
        placeholders = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
        for i in range(0, len(rows), 5000):
            cursor.executemany(sql, rows[i : i + 5000])

    def added(self, cursor, lo: int, hi: int) -> None:
        cursor.execute(
            f"INSERT INTO {FTS_TABLE}(rowid, body) "
            f"SELECT id, body FROM {TABLE} WHERE id BETWEEN %s AND %s",
            [lo, hi],
        )

    def removing(self, cursor, lo: int, hi: int) -> None:
        cursor.execute(
            f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, body) "
            f"SELECT 'delete', id, body FROM {TABLE} WHERE id BETWEEN %s AND %s",
            [lo, hi],
        )

    def clear(self, cursor) -> None:
        cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('delete-all')")
        cursor.execute(f"DELETE FROM {TABLE}")
        cursor.execute(f"DELETE FROM {WORD_TABLE}")
        cursor.execute(f"DELETE FROM {DF_TABLE}")

    def bulk_end(self, cursor) -> None:
        cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
        cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')")
        cursor.execute(f"ANALYZE {WORD_TABLE}")

    def after_bulk(self) -> None:
        pass

    def document_match(self) -> str:
        """SQL giving the ids of the documents whose words match the expression (%s)."""
        return f"SELECT rowid FROM {DOC_FTS_TABLE} WHERE {DOC_FTS_TABLE} MATCH %s"

    def documents_rebuilt(self, cursor) -> None:
        cursor.execute(f"INSERT INTO {DOC_FTS_TABLE}({DOC_FTS_TABLE}) VALUES ('rebuild')")


class _PostgreSQL:
    def render(self, node) -> str:
        match node:
            case Word(text):
                return f"'{text}'"
            case Phrase(ws):
                return "(" + " <-> ".join(f"'{w}'" for w in ws) + ")"
            case AllOf(parts):
                return "(" + " & ".join(map(self.render, parts)) + ")"
            case AnyOf(parts):
                return "(" + " | ".join(map(self.render, parts)) + ")"
            case Either(word, parts):
                return self.render(AnyOf((word, parts)))
        raise TypeError(node)

    def clause_hits(self, cursor, expression: str, standard_ids: list[int]) -> list[tuple]:
        cursor.execute(
            f"SELECT id, kind, number, body, text FROM {TABLE} "
            "WHERE standard_id = ANY(%s) AND tsv @@ to_tsquery('simple', %s)",
            [list(standard_ids), expression],
        )
        return cursor.fetchall()

    def load(self, cursor, table: str, columns: tuple, rows: list[tuple]) -> None:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def added(self, cursor, lo: int, hi: int) -> None:
        pass  # the tsvector is a generated column

    def removing(self, cursor, lo: int, hi: int) -> None:
        pass

    def clear(self, cursor) -> None:
        cursor.execute(f"TRUNCATE {TABLE}, {WORD_TABLE}, {DF_TABLE}")

    def bulk_end(self, cursor) -> None:
        cursor.execute(f"ANALYZE {TABLE}")
        cursor.execute(f"ANALYZE {WORD_TABLE}")

    def after_bulk(self) -> None:
        """Index-only scans of the word table want its visibility map set: VACUUM, which
        cannot run inside a transaction (skipped when called inside one, as in tests)."""
        if not connection.in_atomic_block:
            with connection.cursor() as cursor:
                cursor.execute(f"VACUUM {WORD_TABLE}")

    def document_match(self) -> str:
        return f"SELECT id FROM {DOC_TABLE} WHERE tsv @@ to_tsquery('simple', %s)"

    def documents_rebuilt(self, cursor) -> None:
        cursor.execute(f"ANALYZE {DOC_TABLE}")


def backend():
    return _PostgreSQL() if connection.vendor == "postgresql" else _SQLite()


# -- writing the index -------------------------------------------------------------------------

ROW_COLUMNS = ("id", "standard_id", "kind", "number", "body", "text")
WORD_COLUMNS = ("word", "standard_id", "weight")


def _id_range(standard_id: int) -> tuple[int, int]:
    return standard_id << SHIFT, ((standard_id + 1) << SHIFT) - 1


def _code_text(code: str, key: str) -> str:
    try:
        parsed = parse_code(key or code)
    except ValueError:
        return code
    return f"{parsed.display} {parsed.key} {code}"


def _pairs(tokens: list[str]) -> list[str]:
    """Adjacent single characters joined: how a phrase of single characters is looked up in
    the word table."""
    return [
        a + b
        for a, b in pairwise(tokens)
        if len(a) == len(b) == 1 and not a.isascii() and not b.isascii()
    ]


def _weights(fields: list[tuple[str, list[str]]]) -> dict[str, float]:
    """A standard's words with BM25's term weight: the frequency (title ×3, terms ×2)
    saturating at K1, normalised by the standard's length."""
    tf: dict[str, int] = {}
    length = 0
    for kind, tokens in fields:
        length += len(tokens)
        boost = BOOST[kind]
        for word in tokens + _pairs(tokens):
            if len(word) <= MAX_WORD:
                tf[word] = tf.get(word, 0) + boost
    norm = K1 * (1 - B + B * length / AVERAGE_LENGTH)
    return {w: round(f * (K1 + 1) / (f + norm), 5) for w, f in tf.items()}


def _documents(standard_ids: list[int]) -> Iterator[tuple[list[tuple], list[tuple]]]:
    """For each standard: its rows of `standards_search` and of `standards_search_word`."""
    clauses: dict[int, list] = {}
    for row in (
        Clause.objects.filter(standard_id__in=standard_ids)
        .order_by("standard_id", "position")
        .values_list("standard_id", "number", "title", "text")
    ):
        clauses.setdefault(row[0], []).append(row[1:])
    terms: dict[int, list] = {}
    for row in (
        Term.objects.filter(standard_id__in=standard_ids)
        .order_by("standard_id", "number", "pk")
        .values_list("standard_id", "number", "term", "english", "definition")
    ):
        terms.setdefault(row[0], []).append(row[1:])
    for sid, code, key, title, english in Standard.objects.filter(pk__in=standard_ids).values_list(
        "pk", "code", "code_key", "title", "english_title"
    ):
        base = sid << SHIFT
        header = words(f"{_code_text(code, key)} {title} {english}")
        rows = [(base, sid, HEADER, "", " ".join(header), title)]
        fields = [(HEADER, header)]
        seq = 0
        for seq, (number, ctitle, text) in enumerate(clauses.get(sid, ()), start=1):
            tokens = words(f"{number} {ctitle} {text}")
            shown = f"{ctitle} {text}" if ctitle and text else ctitle or text
            rows.append((base + seq, sid, CLAUSE, number, " ".join(tokens), shown))
            fields.append((CLAUSE, tokens))
        for offset, (number, term, term_en, definition) in enumerate(terms.get(sid, ()), 1):
            tokens = words(f"{number} {term} {term_en} {definition}")
            shown = f"{term} {term_en}：{definition}" if term_en else f"{term}：{definition}"
            rows.append((base + seq + offset, sid, TERM, number, " ".join(tokens), shown))
            fields.append((TERM, tokens))
        yield rows, [(w, sid, weight) for w, weight in _weights(fields).items()]


def _load(cursor, adapter, standard_ids: list[int]) -> int:
    rows, word_rows = [], []
    for standard_rows, standard_words in _documents(standard_ids):
        rows += standard_rows
        word_rows += standard_words
    adapter.load(cursor, TABLE, ROW_COLUMNS, rows)
    adapter.load(cursor, WORD_TABLE, WORD_COLUMNS, word_rows)
    return len(rows)


def remove_standard(standard_id: int) -> None:
    """Drop a standard from the index."""
    sid = int(standard_id)
    lo, hi = _id_range(sid)
    with transaction.atomic(), connection.cursor() as cursor:
        backend().removing(cursor, lo, hi)
        cursor.execute(
            f"UPDATE {DF_TABLE} SET n = n - 1 WHERE word IN "
            f"(SELECT word FROM {WORD_TABLE} WHERE standard_id = %s) "
            f"OR (word = '' AND EXISTS (SELECT 1 FROM {TABLE} WHERE id = %s))",
            [sid, lo],
        )
        cursor.execute(f"DELETE FROM {TABLE} WHERE id BETWEEN %s AND %s", [lo, hi])
        cursor.execute(f"DELETE FROM {WORD_TABLE} WHERE standard_id = %s", [sid])


def index_standard(standard) -> int:
    """(Re)index one standard — its code, titles, clauses and terms as they are now stored —
    and return the number of rows written. Call it after importing or changing a standard,
    inside the same transaction."""
    sid = int(getattr(standard, "pk", standard))
    adapter = backend()
    with transaction.atomic():
        remove_standard(sid)
        with connection.cursor() as cursor:
            count = _load(cursor, adapter, [sid])
            adapter.added(cursor, *_id_range(sid))
            if count:  # in word order, so that concurrent imports lock rows in one order
                cursor.execute(
                    f"INSERT INTO {DF_TABLE} (word, n) SELECT word, 1 FROM {WORD_TABLE} "
                    "WHERE standard_id = %s UNION ALL SELECT '', 1 ORDER BY 1 "
                    f"ON CONFLICT (word) DO UPDATE SET n = {DF_TABLE}.n + 1",
                    [sid],
                )
    return count


def reindex_all(batch: int = 500) -> dict:
    """Rebuild the whole index in one transaction, in bulk (FTS5 builds its index once, at
    the end)."""
    ids = list(Standard.objects.order_by("pk").values_list("pk", flat=True))
    adapter = backend()
    rows = 0
    with transaction.atomic(), connection.cursor() as cursor:
        adapter.clear(cursor)
        for i in range(0, len(ids), batch):
            rows += _load(cursor, adapter, ids[i : i + batch])
        cursor.execute(
            f"INSERT INTO {DF_TABLE} (word, n) SELECT word, COUNT(*) FROM {WORD_TABLE} "
            "GROUP BY word UNION ALL SELECT '', %s",
            [len(ids)],
        )
        adapter.bulk_end(cursor)
    adapter.after_bulk()
    return {"standards": len(ids), "rows": rows, "documents": reindex_documents()}


@receiver(post_delete, sender=Standard, dispatch_uid="standards-search-remove")
def _on_standard_deleted(sender, instance, **kwargs):
    remove_standard(instance.pk)


# -- status ------------------------------------------------------------------------------------

# The status itself is the library's (`Standard.objects.with_status()`, `derived_status`):
# here only how much a status weighs on relevance — an edition in force outranks a
# superseded or withdrawn one at equal relevance; ties go by `status_rank`.
STATUS_WEIGHT = {"in_force": 1.0, "published": 1.0, "superseded": 0.85, "withdrawn": 0.8}


# -- searching ---------------------------------------------------------------------------------


@dataclass
class _Found:
    pk: int
    code: str
    code_key: str
    title: str
    level: str
    year: int | None
    agency_id: int
    status: str


@dataclass
class Snippet:
    clause: str  # clause or term number; "" for the title
    kind: str  # title / clause / term
    text: str
    highlights: list[tuple[int, int]] = field(default_factory=list)  # [start, end) in text


@dataclass
class Result:
    id: int
    code: str
    code_key: str
    title: str
    level: str
    status: str
    year: int | None
    agency_id: int
    score: float  # 0–1: 1 for an exact code match and for the most relevant text match
    match: str  # "code" or "text"
    clauses: list[str]  # numbers of the matching clauses and terms, in document order
    snippets: list[Snippet]

    def as_dict(self) -> dict:
        return asdict(self)


def _as_date(value) -> date | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _framework_q(user, node) -> Q:
    """Standards attached to a framework node or to any node below it."""
    try:
        field = Standard._meta.get_field("framework_nodes")
    except FieldDoesNotExist:
        raise LookupError("标准体系框架尚未建立，不能按框架节点筛选") from None
    model = field.related_model
    if not isinstance(node, model):
        nodes = model.objects.all() if user is None else model.objects.restrict(user)
        node = nodes.filter(pk=node).first()
        if node is None:
            raise ValueError("没有这个标准体系节点，或无权查看")
    return Q(framework_nodes__path__startswith=node.path)


def scoped_standards(
    user,
    *,
    level=None,
    region=None,
    status=None,
    framework_node=None,
    date_from=None,
    date_to=None,
):
    """The standards `user` may read (None: the system), filtered. ValueError on a bad filter."""
    from guanjia.core.models import Region

    qs = Standard.objects.all() if user is None else Standard.objects.restrict(user)
    if level:
        if level not in Standard.Level.values:
            choices = ", ".join(Standard.Level.values)
            raise ValueError(f"未知的标准层级：{level}（可选 {choices}）")
        qs = qs.filter(level=level)
    if region:
        node = region if isinstance(region, Region) else Region.objects.filter(code=region).first()
        if node is None:
            raise ValueError(f"未知的行政区划代码：{region}")
        qs = qs.filter(region__path__startswith=node.path)
    if status:
        if status not in Standard.Status.values:
            choices = ", ".join(Standard.Status.values)
            raise ValueError(f"未知的标准状态：{status}（可选 {choices}）")
        qs = qs.with_status().filter(status=status)
    if framework_node not in (None, ""):
        qs = qs.filter(_framework_q(user, framework_node))
    if start := _as_date(date_from):
        qs = qs.filter(issue_date__gte=start)
    if end := _as_date(date_to):
        qs = qs.filter(issue_date__lte=end)
    return qs


def split_codes(query: str) -> tuple[str, list[Code], list[str]]:
    """(the rest of the query, the standard codes in it, the codes as written)."""
    q = unicodedata.normalize("NFKC", query or "").strip()
    if looks_like_code(q):
        return "", [parse_code(q)], [q]
    codes, written, rest = [], [], q
    for m in _CODE.finditer(q.upper()):
        try:
            codes.append(parse_code(m.group()))
        except ValueError:
            continue
        written.append(q[m.start() : m.end()])
        rest = rest.replace(written[-1], " ")
    return rest.strip(), codes, written


def _leaves(node) -> Iterator[Word]:
    match node:
        case Word():
            yield node
        case Phrase(ws):
            yield from (Word(a + b) for a, b in pairwise(ws))
        case AllOf(parts) | AnyOf(parts):
            for part in parts:
                yield from _leaves(part)
        case Either(word, parts):
            yield word
            yield from _leaves(parts)


def _in_standards(node, df: dict[Word, int]):
    """The node as looked up in the word table. A word the query cut into pieces is looked
    up by itself when some standard holds it, by its pieces only when none does (the pieces
    of a word in a text are in the table too, so asking for both would only cost)."""
    match node:
        case Word():
            return node
        case Phrase(ws):
            pairs = tuple(Word(a + b) for a, b in pairwise(ws))
            return pairs[0] if len(pairs) == 1 else AllOf(pairs)
        case Either(word, parts):
            return word if df.get(word, 1) else _in_standards(parts, df)
        case AllOf(parts) | AnyOf(parts) if len(parts) == 1:
            return _in_standards(parts[0], df)
        case AllOf(parts):
            return AllOf(tuple(_in_standards(p, df) for p in parts))
        case AnyOf(parts):
            return AnyOf(tuple(_in_standards(p, df) for p in parts))
    raise TypeError(node)


def _absent(node, df: dict[Word, int]) -> bool:
    """True when no standard can hold `node` (a required word is in none)."""
    match node:
        case Word():
            return df.get(node, 1) == 0
        case AllOf(parts):
            return any(_absent(p, df) for p in parts)
        case AnyOf(parts):
            return all(_absent(p, df) for p in parts)
    return False


def _word_sql(node, idf: dict[Word, float]) -> tuple[str, list]:
    """SQL giving (sid, s): each standard holding `node` (as `_in_standards` gives it),
    once, with its score — over the word table, in plain SQL, the same on both databases."""
    match node:
        case Word(text):
            return (
                f"SELECT standard_id AS sid, weight * %s AS s FROM {WORD_TABLE} WHERE word = %s",
                [idf.get(node, 1.0), text],
            )
        case AllOf(parts) | AnyOf(parts):
            arms, params = [], []
            for i, part in enumerate(parts):
                sql, part_params = _word_sql(part, idf)
                arms.append(f"SELECT sid, s FROM ({sql}) AS p{i}")
                params += part_params
            union = " UNION ALL ".join(arms)
            if isinstance(node, AnyOf):
                return f"SELECT sid, MAX(s) AS s FROM ({union}) AS u GROUP BY sid", params
            return (
                f"SELECT sid, SUM(s) AS s FROM ({union}) AS u GROUP BY sid HAVING COUNT(*) = %s",
                [*params, len(parts)],
            )
    raise TypeError(node)


class Statistics:
    """In how many standards each word of a query is (kept up to date by indexing, in
    `standards_search_df`), and BM25's inverse document frequency from it."""

    def __init__(self, leaves: list[Word]):
        leaves = list(dict.fromkeys(leaves))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT word, n FROM {DF_TABLE} "
                f"WHERE word IN ({', '.join(['%s'] * (len(leaves) + 1))})",
                ["", *(leaf.text for leaf in leaves)],
            )
            counts = dict(cursor.fetchall())
        self.n = n = max(counts.pop("", 0), 1)
        self.df = {leaf: counts.get(leaf.text, 0) for leaf in leaves}
        self.idf = {w: math.log(1 + (n - df + 0.5) / (df + 0.5)) for w, df in self.df.items()}


def _standards_matching(nodes: list, stats: Statistics, scope, restricted: bool, limit: int):
    """[(standard id, score)] of the best `limit` standards in `scope` holding every node.

    A restricted scope is first applied to the best standards of the whole library (most
    standards are public documents, so most readers see most of them); only when too few of
    those are in scope does the scope go into the query itself, which costs a look at the
    scope for every standard holding the words."""
    if not nodes:
        return []
    root = _in_standards(nodes[0] if len(nodes) == 1 else AllOf(tuple(nodes)), stats.df)
    if _absent(root, stats.df):
        return []
    sql, params = _word_sql(root, stats.idf)
    query = f"SELECT sid, s FROM ({sql}) AS r{{where}} ORDER BY s DESC, sid LIMIT %s"
    with connection.cursor() as cursor:
        if not restricted:
            cursor.execute(query.format(where=""), [*params, limit])
            return [(sid, float(score)) for sid, score in cursor.fetchall()]
        cursor.execute(query.format(where=""), [*params, limit * 4])
        best = [(sid, float(score)) for sid, score in cursor.fetchall()]
        visible = set(scope.filter(pk__in=[sid for sid, _s in best]).values_list("pk", flat=True))
        found = [(sid, score) for sid, score in best if sid in visible]
        if len(found) >= limit or len(best) < limit * 4:
            return found[:limit]
        try:
            scope_sql, scope_params = scope.order_by().values("pk").query.sql_with_params()
        except EmptyResultSet:  # the caller may read no standard at all
            return []
        cursor.execute(
            query.format(where=f" WHERE sid IN ({scope_sql})"), [*params, *scope_params, limit]
        )
        return [(sid, float(score)) for sid, score in cursor.fetchall()]


def _clauses_matching(nodes: list, standard_ids: list[int], stats) -> dict[int, list[tuple]]:
    """{standard id: [(id, kind, number, body, text)]} from the database's full-text index:
    a standard's rows holding every node; where none does, its rows holding the query's
    most telling words (idf at least half the highest); where none does either, any."""
    if not nodes or not standard_ids:
        return {}
    adapter = backend()
    found: dict[int, list[tuple]] = {}
    passes = [nodes[0] if len(nodes) == 1 else AllOf(tuple(nodes))]
    if len(nodes) > 1:
        telling = {p: max(stats.idf.get(w, 0.0) for w in _leaves(p)) for p in nodes}
        best = max(telling.values())
        telling_nodes = tuple(p for p, idf in telling.items() if idf >= best / 2)
        passes.append(AnyOf(telling_nodes))
        if len(telling_nodes) < len(nodes):
            passes.append(AnyOf(tuple(nodes)))
    with connection.cursor() as cursor:
        for expression in passes:
            missing = [sid for sid in standard_ids if sid not in found]
            if not missing:
                break
            for row in adapter.clause_hits(cursor, adapter.render(expression), missing):
                found.setdefault(row[0] >> SHIFT, []).append(row)
    return found


def _row_words(nodes: list, idf: dict[Word, float]) -> dict[str, float]:
    """The words a row is scored by, with their idf (a phrase by its characters)."""
    out: dict[str, float] = {}
    for node in nodes:
        match node:
            case Word(text):
                out[text] = idf.get(node, 1.0)
            case Phrase(ws):
                weight = min((idf.get(Word(a + b), 1.0) for a, b in pairwise(ws)), default=1.0)
                out.update(dict.fromkeys(ws, weight))
            case AllOf(parts) | AnyOf(parts):
                out.update(_row_words(list(parts), idf))
            case Either(word, parts):
                out.update(_row_words([word, parts], idf))
    return out


def _row_score(kind: str, tokens: list[str], weights: dict[str, float]) -> float:
    """How well one row matches, to order a standard's snippets: BM25 over the row, the
    title counting three times and a term twice."""
    norm = K1 * (0.25 + 0.75 * len(tokens) / 30)
    score = 0.0
    for word, weight in weights.items():
        if tf := tokens.count(word):
            score += weight * tf * (K1 + 1) / (tf + norm)
    return score * BOOST[kind]


def _highlights(text: str, surface: list[str]) -> list[tuple[int, int]]:
    """Where the query's words are in `text`, merged, as [start, end) offsets."""
    folded = normalise(text)
    lowered = folded if len(folded) == len(text) else text.lower()
    spans = []
    for term in sorted(surface, key=len, reverse=True):
        start = lowered.find(term)
        while term and start >= 0:
            spans.append((start, start + len(term)))
            start = lowered.find(term, start + len(term))
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def _snippet(number: str, kind: str, text: str, surface: list[str], width: int = 100) -> Snippet:
    """A window of `text` around its first match, with the matches' offsets in the window."""
    spans = _highlights(text, surface)
    start = max(0, spans[0][0] - 20) if spans else 0
    end = min(len(text), start + width)
    lead = "…" if start > 0 else ""
    trail = "…" if end < len(text) else ""
    shift = len(lead) - start
    inside = [
        (max(a, start) + shift, min(b, end) + shift) for a, b in spans if b > start and a < end
    ]
    return Snippet(number, kind, lead + text[start:end] + trail, inside)


def _number_key(number: str):
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in number.split(".")]


def search(
    user,
    query: str,
    *,
    level=None,
    region=None,
    status=None,
    framework_node=None,
    date_from=None,
    date_to=None,
    limit: int = 20,
) -> list[Result]:
    """Search the standards `user` may read (None: the system) for `query` — words, a
    standard code in any written form, or both. See the module docstring for the ranking."""
    limit = max(1, min(int(limit), 200))
    scope = scoped_standards(
        user,
        level=level,
        region=region,
        status=status,
        framework_node=framework_node,
        date_from=date_from,
        date_to=date_to,
    )
    restricted = bool(scope.query.where)
    rest, codes, written = split_codes(query)
    nodes, surface = compile_query(rest)
    candidates = limit * 2 + 10

    exact: dict[int, int] = {}  # standard id → 2 this edition, 1 another edition
    if codes:
        wanted = Q()
        for code in codes:
            wanted |= Q(code_key=code.undated_key) | Q(code_key__startswith=code.undated_key + "-")
        dated = {code.key for code in codes if code.year}
        for pk, key in scope.filter(wanted).values_list("pk", "code_key"):
            exact[pk] = 2 if key in dated else 1

    text_nodes, where, restricted_to = nodes, scope, restricted
    if exact and nodes:  # "DB50/T 9001 光盘率": the words inside that standard
        where, restricted_to = scope.filter(pk__in=list(exact)), True
    elif codes:  # a code: the standard itself, then the standards that cite it
        text_nodes = []
        for code, as_written in zip(codes, written, strict=True):
            compiled, _surface = compile_query(as_written)
            text_nodes.append(Either(Word(_compact(code)[-1]), AllOf(tuple(compiled))))
        text_nodes += nodes
        surface += [normalise(w) for w in written]
        candidates += len(exact)
    stats = Statistics([leaf for node in text_nodes for leaf in _leaves(node)])
    found = _standards_matching(text_nodes, stats, where, restricted_to, candidates)
    if codes and not nodes:
        found = [f for f in found if f[0] not in exact]
    if not found and len(nodes) > 1 and not exact:  # nothing has every word: any word
        text_nodes = [AnyOf(tuple(nodes))]
        found = _standards_matching(text_nodes, stats, scope, restricted, candidates)

    score = dict(found)
    ids = list(exact) + [sid for sid, _s in found if sid not in exact]
    if not ids:
        return []
    # Every id came through the scope; this only drops rows of standards deleted meanwhile.
    standards = {
        row[0]: _Found(*row)
        for row in Standard.objects.filter(pk__in=ids)
        .with_status()
        .values_list("pk", "code", "code_key", "title", "level", "year", "agency_id", "status")
    }

    def relevance(sid: int) -> float:
        return score.get(sid, 0.0) * STATUS_WEIGHT.get(standards[sid].status, 0.9)

    def order(sid: int):
        s = standards[sid]
        rank = STATUS_RANK.get(s.status, 9)
        if sid in exact:
            return (0, -exact[sid], rank, -(s.year or 0), s.code_key)
        return (1, -relevance(sid), rank, 0, s.code_key)

    ranked = sorted((sid for sid in ids if sid in standards), key=order)[: limit + 5]
    # Which clauses: the full-text index, over the rows of these standards only. A standard
    # holding every word but in no row as asked (a phrase's characters apart) is dropped.
    hits = _clauses_matching(
        text_nodes, [sid for sid in ranked if sid not in exact or nodes], stats
    )
    chosen = [sid for sid in ranked if sid in exact or sid in hits][:limit]
    top = max((relevance(sid) for sid in chosen if sid not in exact), default=0.0) or 1.0
    weights = _row_words(text_nodes, stats.idf)
    return _results(chosen, standards, exact, hits, relevance, top, surface, weights)


def _results(chosen, standards, exact, hits, relevance, top, surface, weights) -> list[Result]:
    results = []
    for sid in chosen:
        s = standards[sid]
        rows = sorted(hits.get(sid, ()), key=lambda r: -_row_score(r[1], r[3].split(), weights))
        snippets: list[Snippet] = []
        for _id, kind, number, _body, text in rows:
            if len(snippets) == 3:
                break
            # A term is often a clause too (3.1 光盘率): one snippet per number.
            if text and not any(p.clause == number for p in snippets):
                snippets.append(_snippet(number, kind, text, surface))
        score = 1.0 if sid in exact else round(relevance(sid) / top, 4)
        results.append(
            Result(
                id=sid,
                code=s.code,
                code_key=s.code_key,
                title=s.title,
                level=s.level,
                status=s.status,
                year=s.year,
                agency_id=s.agency_id,
                score=score if math.isfinite(score) else 0.0,
                match="code" if sid in exact else "text",
                clauses=sorted({r[2] for r in rows if r[2]}, key=_number_key),
                snippets=snippets,
            )
        )
    return results


# -- the document library ----------------------------------------------------------------------
#
# The same words and the same query language over the working documents (migration
# 0006_document_search): one row per document, its body full-text-indexed by the database as
# the standards' rows are. Which documents: the query, compiled as for standards and rendered
# by the adapter, matched by the database's full-text index inside the caller's queryset (the
# scope and filters stay in the one SQL query); every word required, any word when no
# document has them all. Ranking, in Python and so the same on both databases: BM25's
# saturating term frequency over the body, normalised by its length, a word in the title or
# tags counting three times; the newest DOC_CANDIDATES matches are ranked.

DOC_MAX_CHARS = 500_000  # of extracted text indexed (PostgreSQL's tsvector is at most 1 MB)
DOC_CANDIDATES = 200
DOC_AVERAGE_LENGTH = 2000


def document_row(pk: int, title: str, tags: str, text: str) -> tuple[int, str, str]:
    """A document's row of the index: (id, words of title and tags, words of everything)."""
    head = words(f"{title} {tags}")
    body = head + words((text or "")[:DOC_MAX_CHARS])
    return int(pk), " ".join(head), " ".join(w for w in body if len(w) <= MAX_WORD)


def index_document(document) -> None:
    """(Re)index one document as it is now stored."""
    row = document_row(document.pk, document.title, document.tags, document.text)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {DOC_TABLE} WHERE id = %s", [row[0]])
        cursor.execute(f"INSERT INTO {DOC_TABLE} (id, head, body) VALUES (%s, %s, %s)", row)


def remove_document(document_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {DOC_TABLE} WHERE id = %s", [int(document_id)])


def reindex_documents(batch: int = 200) -> int:
    """Rebuild the document index from the stored documents; the number indexed."""
    ids = list(Document.objects.order_by("pk").values_list("pk", flat=True))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {DOC_TABLE}")
        for i in range(0, len(ids), batch):
            rows = [
                document_row(*values)
                for values in Document.objects.filter(pk__in=ids[i : i + batch]).values_list(
                    "pk", "title", "tags", "text"
                )
            ]
            cursor.executemany(
                f"INSERT INTO {DOC_TABLE} (id, head, body) VALUES (%s, %s, %s)", rows
            )
        backend().documents_rebuilt(cursor)
    return len(ids)


INDEXED_FIELDS = {"title", "tags", "text"}


@receiver(post_save, sender=Document, dispatch_uid="standards-document-index")
def _on_document_saved(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw:  # loaddata (a restore rebuilds the whole index afterwards)
        return
    if update_fields is not None and not INDEXED_FIELDS & set(update_fields):
        return
    index_document(instance)


@receiver(post_delete, sender=Document, dispatch_uid="standards-document-remove")
def _on_document_deleted(sender, instance, **kwargs):
    remove_document(instance.pk)


@dataclass
class DocumentSearch:
    documents: object  # the matching documents, best first (a queryset)
    count: int  # how many match (all of them, not only the ranked ones)
    partial: bool  # no document holds every word: these hold some
    surface: list[str]  # the query's words as written, for snippets

    def snippet(self, text: str, width: int = 160) -> Snippet:
        return _snippet("", "document", text or "", self.surface, width)


def document_query(query: str) -> tuple[list, list[str]]:
    """A query's parts over documents: its words, and any standard code in it in all its
    written forms (a document citing DB50/T 9001—2022 is found by "DB50/T9001")."""
    rest, codes, written = split_codes(query)
    nodes, surface = compile_query(rest)
    for code, as_written in zip(codes, written, strict=True):
        compiled, _surface = compile_query(as_written)
        nodes.append(Either(Word(_compact(code)[-1]), AllOf(tuple(compiled))))
        surface.append(normalise(as_written))
    return nodes, surface


def _document_score(head: str, body: str, weights: dict[str, float]) -> float:
    tokens, title = body.split(), head.split()
    norm = K1 * (1 - B + B * len(tokens) / DOC_AVERAGE_LENGTH)
    score = 0.0
    for word, weight in weights.items():
        if tf := tokens.count(word) + 2 * title.count(word):
            score += weight * tf * (K1 + 1) / (tf + norm)
    return score


def search_documents(queryset, query: str, limit: int = DOC_CANDIDATES) -> DocumentSearch:
    """The documents of `queryset` (already restricted to the caller's scope and filtered)
    matching `query`, best first; at most `limit` of them ranked and returned."""
    nodes, surface = document_query(query)
    if not nodes:
        return DocumentSearch(queryset.none(), 0, False, surface)
    adapter = backend()
    passes = [nodes[0] if len(nodes) == 1 else AllOf(tuple(nodes))]
    if len(nodes) > 1:
        passes.append(AnyOf(tuple(nodes)))
    matched, count, partial = queryset.none(), 0, False
    for expression in passes:
        sql = RawSQL(adapter.document_match(), [adapter.render(expression)])
        matched = queryset.filter(pk__in=sql)
        if count := matched.count():
            break
        partial = True
    if not count:
        return DocumentSearch(queryset.none(), 0, False, surface)
    ids = list(matched.order_by("-pk").values_list("pk", flat=True)[: max(1, limit)])
    weights = _row_words(nodes, {})
    scores: dict[int, float] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, head, body FROM {DOC_TABLE} WHERE id IN ({', '.join(['%s'] * len(ids))})",
            ids,
        )
        for pk, head, body in cursor.fetchall():
            scores[pk] = _document_score(head, body, weights)
    ranked = sorted(ids, key=lambda pk: (-scores.get(pk, 0.0), -pk))
    order = Case(*(When(pk=pk, then=Value(i)) for i, pk in enumerate(ranked)))
    documents = queryset.filter(pk__in=ranked).order_by(order)
    return DocumentSearch(documents, count, partial, surface)
