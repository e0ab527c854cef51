"""Full-text search of the standards library: codes, titles, clauses and terms.

How it works
------------
* **Segmentation.** Text is cut into words by jieba (rjieba) with the HMM off, so that the
  same characters are always cut the same way in a clause and in a query, plus the words of
  government-affairs administration in `data/search_words.txt`. A long word is also indexed
  under the dictionary words inside it (jieba's search mode, extended to sub-words of any
  length), and every standard code written in the text under a compact key (`db50t9001`,
  `db50t9001y2022`), so a citation is found however the code was typed.
* **The index.** One row per standard header (code in all its written forms, title, English
  title), per clause (number, title, text) and per term (term, English, definition) goes
  into the table `standards_search`, the same columns on both databases; its id is
  `standard id << 20 | position`, so one standard's rows are one id range. The database
  indexes the segmented body: SQLite an external-content FTS5 table over it (tokenizer
  unicode61 on the space-joined words), PostgreSQL a generated `to_tsvector('simple', body)`
  column with a GIN index (migration 0002_search).
* **Queries** are cut the same way and compiled to a small boolean tree (words, phrases of
  single characters, prefixes) that `_SQLite` / `_PostgreSQL` render as an FTS5 MATCH
  string or a tsquery: with the few statements that keep FTS5 in step, the only
  vendor-specific code. Everything else — scope, filters, grouping, ranking, snippets — is
  one Python code path.
* **Ranking.** Exact code match first (any written form; an undated code matches every
  edition, in force first), then relevance: bm25 (SQLite) or ts_rank_cd (PostgreSQL) of a
  standard's best matching row, raised a little by each further matching clause; an
  in-force edition ranks above a superseded or withdrawn one at equal relevance.
* **Scope.** The caller's data scope comes first: `Standard.objects.restrict(user)` with the
  filters is compiled into the match query itself (user None = the system, e.g. the CLI).

Keeping it current: `index_standard(standard)` after a standard is imported or changed (the
importer calls it in its transaction), `remove_standard(id)` when one is deleted (a
post_delete receiver here does it), `reindex_all()` / `guanjia standards search --reindex`
after the word list changes or to rebuild.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.signals import post_delete
from django.dispatch import receiver

from .codes import CODE_IN_TEXT, Code, looks_like_code, parse_code
from .models import STATUS_RANK, Clause, Standard, Term

TABLE = "standards_search"
FTS_TABLE = "standards_search_fts"  # SQLite only
SHIFT = 20  # row id = standard id << SHIFT | position (up to a million rows a standard)
WORDS_FILE = Path(__file__).with_name("data") / "search_words.txt"

HEADER, CLAUSE, TERM = "title", "clause", "term"  # kinds of row


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
    prefix: bool = False


@dataclass(frozen=True)
class Phrase:
    words: tuple[str, ...]


@dataclass(frozen=True)
class AllOf:
    parts: tuple


@dataclass(frozen=True)
class AnyOf:
    parts: tuple


def _cover(word: str) -> list[Word]:
    """The dictionary words inside a long word, longest first from the left; a character no
    word covers stays as a prefix (so 光盘率 → 光盘 + 率*)."""
    subs = {w for w in _jieba().cut_all(word) if 1 < len(w) < len(word)}
    out, i = [], 0
    while i < len(word):
        best = max((w for w in subs if word.startswith(w, i)), key=len, default=None)
        out.append(Word(best) if best else Word(word[i], prefix=True))
        i += len(best) if best else 1
    return out if any(not w.prefix for w in out) else []


def compile_query(text: str) -> tuple[list, list[str]]:
    """A query's parts (all required) and its surface strings (for highlighting).

    Multi-character words must match as words (a long word also as the words inside it);
    runs of single characters — what jieba leaves of words it does not know — match as a
    phrase; a lone character as a prefix, since in a text it may be cut together with the
    next one."""
    pieces = [p for t in _jieba().cut(normalise(text), False) for p in _WORD.findall(t)]
    nodes: list = []
    surface: list[str] = []
    run: list[str] = []

    def flush():
        if len(run) == 1 and run[0] not in _STOP:
            nodes.append(Word(run[0], prefix=True))
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
        nodes.append(AnyOf((Word(piece), AllOf(tuple(cover)))) if cover else Word(piece))
    flush()
    return list(dict.fromkeys(nodes)), list(dict.fromkeys(surface))


# -- the vendor adapters -----------------------------------------------------------------------


class _SQLite:
    def render(self, node) -> str:
        match node:
            case Word(text, prefix):
                return f'"{text}"' + ("*" if prefix else "")
            case Phrase(ws):
                return '"' + " ".join(ws) + '"'
            case AllOf(parts):
                return "(" + " AND ".join(map(self.render, parts)) + ")"
            case AnyOf(parts):
                return "(" + " OR ".join(map(self.render, parts)) + ")"
        raise TypeError(node)

    def match_sql(self, scope_sql: str | None) -> str:
        sql = (
            f"SELECT rowid >> {SHIFT} AS sid, rowid AS id, -bm25({FTS_TABLE}) AS s "
            f"FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"
        )
        return sql + (f" AND (rowid >> {SHIFT}) IN ({scope_sql})" if scope_sql else "")

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

    def bulk_start(self, cursor) -> None:
        pass

    def bulk_end(self, cursor) -> None:
        cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
        cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')")


class _PostgreSQL:
    def render(self, node) -> str:
        match node:
            case Word(text, prefix):
                return f"'{text}'" + (":*" if prefix else "")
            case Phrase(ws):
                return "(" + " <-> ".join(f"'{w}'" for w in ws) + ")"
            case AllOf(parts):
                return "(" + " & ".join(map(self.render, parts)) + ")"
            case AnyOf(parts):
                return "(" + " | ".join(map(self.render, parts)) + ")"
        raise TypeError(node)

    def match_sql(self, scope_sql: str | None) -> str:
        sql = (
            f"SELECT standard_id AS sid, id, ts_rank_cd(tsv, q, 1) AS s "
            f"FROM {TABLE}, to_tsquery('simple', %s) AS q WHERE tsv @@ q"
        )
        return sql + (f" AND standard_id IN ({scope_sql})" if scope_sql else "")

    def added(self, cursor, lo: int, hi: int) -> None:
        pass  # the tsvector is a generated column

    def removing(self, cursor, lo: int, hi: int) -> None:
        pass

    def clear(self, cursor) -> None:
        cursor.execute(f"TRUNCATE {TABLE}")

    def bulk_start(self, cursor) -> None:
        cursor.execute(f"DROP INDEX IF EXISTS {TABLE}_tsv")

    def bulk_end(self, cursor) -> None:
        cursor.execute(f"CREATE INDEX {TABLE}_tsv ON {TABLE} USING gin (tsv)")
        cursor.execute(f"ANALYZE {TABLE}")


def backend():
    return _PostgreSQL() if connection.vendor == "postgresql" else _SQLite()


# -- writing the index -------------------------------------------------------------------------


def _id_range(standard_id: int) -> tuple[int, int]:
    return standard_id << SHIFT, ((standard_id + 1) << SHIFT) - 1


def _code_text(code: str, key: str) -> str:
    try:
        parsed = parse_code(key or code)
    except ValueError:
        return code
    return f"{parsed.display} {parsed.key} {code}"


def _rows(standard_ids: list[int]) -> Iterator[tuple]:
    """(id, standard_id, kind, number, source_id, body) for the given standards."""
    clauses: dict[int, list] = {}
    for row in (
        Clause.objects.filter(standard_id__in=standard_ids)
        .order_by("standard_id", "position")
        .values_list("standard_id", "pk", "number", "title", "text")
    ):
        clauses.setdefault(row[0], []).append(row[1:])
    terms: dict[int, list] = {}
    for row in (
        Term.objects.filter(standard_id__in=standard_ids)
        .order_by("standard_id", "number", "pk")
        .values_list("standard_id", "pk", "number", "term", "english", "definition")
    ):
        terms.setdefault(row[0], []).append(row[1:])
    for sid, code, key, title, english in Standard.objects.filter(pk__in=standard_ids).values_list(
        "pk", "code", "code_key", "title", "english_title"
    ):
        base = sid << SHIFT
        header = f"{_code_text(code, key)} {title} {english}"
        yield base, sid, HEADER, "", None, " ".join(words(header) + words(title))
        seq = 0
        for seq, (pk, number, ctitle, text) in enumerate(clauses.get(sid, ()), start=1):
            yield base + seq, sid, CLAUSE, number, pk, " ".join(words(f"{number} {ctitle} {text}"))
        for offset, (pk, number, term, english, definition) in enumerate(terms.get(sid, ()), 1):
            body = " ".join(words(f"{number} {term} {english} {definition}"))
            yield base + seq + offset, sid, TERM, number, pk, body


def _insert(cursor, rows: Iterable[tuple], batch: int = 2000) -> int:
    sql = (
        f"INSERT INTO {TABLE} (id, standard_id, kind, number, source_id, body) "
        "VALUES (%s, %s, %s, %s, %s, %s)"
    )
    count, chunk = 0, []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= batch:
            cursor.executemany(sql, chunk)
            count += len(chunk)
            chunk = []
    if chunk:
        cursor.executemany(sql, chunk)
        count += len(chunk)
    return count


def remove_standard(standard_id: int) -> None:
    """Drop a standard's rows from the index."""
    lo, hi = _id_range(int(standard_id))
    with transaction.atomic(), connection.cursor() as cursor:
        backend().removing(cursor, lo, hi)
        cursor.execute(f"DELETE FROM {TABLE} WHERE id BETWEEN %s AND %s", [lo, hi])


def index_standard(standard) -> int:
    """(Re)index one standard — its code, titles, clauses and terms as they are now stored —
    and return the number of rows written. Call it after importing or changing a standard,
    inside the same transaction."""
    sid = int(getattr(standard, "pk", standard))
    lo, hi = _id_range(sid)
    with transaction.atomic():
        remove_standard(sid)
        with connection.cursor() as cursor:
            count = _insert(cursor, _rows([sid]))
            backend().added(cursor, lo, hi)
    return count


def reindex_all(batch: int = 500) -> dict:
    """Rebuild the whole index in one transaction (bulk: the database builds its full-text
    index once at the end)."""
    ids = list(Standard.objects.order_by("pk").values_list("pk", flat=True))
    adapter = backend()
    rows = 0
    with transaction.atomic(), connection.cursor() as cursor:
        adapter.clear(cursor)
        adapter.bulk_start(cursor)
        for i in range(0, len(ids), batch):
            rows += _insert(cursor, _rows(ids[i : i + batch]))
        adapter.bulk_end(cursor)
    return {"standards": len(ids), "rows": rows}


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


def _framework_relation() -> str | None:
    """The relation from Standard to the framework nodes, once the frameworks exist."""
    for f in Standard._meta.get_fields():
        if f.is_relation and f.related_model and "framework" in f.related_model.__name__.lower():
            return f.name
    return None


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
    qs = qs.with_status()
    if status:
        if status not in Standard.Status.values:
            choices = ", ".join(Standard.Status.values)
            raise ValueError(f"未知的标准状态：{status}（可选 {choices}）")
        qs = qs.filter(status=status)
    if framework_node not in (None, ""):
        relation = _framework_relation()
        if relation is None:
            raise LookupError("标准体系框架尚未建立，不能按框架节点筛选")
        qs = qs.filter(**{relation: framework_node})
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


def _match(nodes: list, scope, candidates: int) -> list[tuple[int, float, list]]:
    """[(standard id, best score, [(row id, score)])] of the best `candidates` standards."""
    if not nodes:
        return []
    adapter = backend()
    scope_sql, scope_params = (None, [])
    if scope is not None:
        try:
            scope_sql, scope_params = scope.order_by().values("pk").query.sql_with_params()
        except EmptyResultSet:  # the caller may read no standard at all
            return []
    expression = adapter.render(nodes[0] if len(nodes) == 1 else AllOf(tuple(nodes)))
    sql = (
        f"WITH m AS MATERIALIZED ({adapter.match_sql(scope_sql)}), "
        "top AS (SELECT sid, MAX(s) AS best FROM m GROUP BY sid ORDER BY best DESC, sid LIMIT %s) "
        "SELECT m.sid, top.best, m.id, m.s FROM m JOIN top ON top.sid = m.sid"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [expression, *scope_params, candidates])
        rows = cursor.fetchall()
    found: dict[int, tuple[float, list]] = {}
    for sid, best, row_id, score in rows:
        found.setdefault(sid, (float(best), []))[1].append((row_id, float(score)))
    return sorted(((sid, b, hits) for sid, (b, hits) in found.items()), key=lambda h: (-h[1], h[0]))


def _highlights(text: str, surface: list[str]) -> list[tuple[int, int]]:
    lowered = normalise(text) if len(normalise(text)) == len(text) else text.lower()
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
    candidates = max(limit * 3, 30)

    exact: dict[int, int] = {}  # standard id → 2 this edition, 1 another edition
    if codes:
        wanted = Q()
        for code in codes:
            wanted |= Q(code_key=code.undated_key) | Q(code_key__startswith=code.undated_key + "-")
        dated = {code.key for code in codes if code.year}
        for pk, key in scope.filter(wanted).values_list("pk", "code_key"):
            exact[pk] = 2 if key in dated else 1

    if exact and nodes:  # "DB50/T 9001 光盘率": the words inside that standard
        hits = _match(nodes, scope.filter(pk__in=exact), candidates)
    elif codes:  # a code: the standard itself, then the standards that cite it
        code_nodes = []
        for code, text in zip(codes, written, strict=True):
            compact = _compact(code)[-1]
            as_written, _surface = compile_query(text)
            code_nodes.append(AnyOf((Word(compact), AllOf(tuple(as_written)))))
        surface += [normalise(w) for w in written]
        hits = _match(code_nodes + nodes, scope if restricted else None, candidates + len(exact))
        if not nodes:
            hits = [h for h in hits if h[0] not in exact]
    else:
        hits = _match(nodes, scope if restricted else None, candidates)
    if not hits and len(nodes) > 1 and not exact:  # nothing has every word: any word
        hits = _match([AnyOf(tuple(nodes))], scope if restricted else None, candidates)

    ids = list(exact) + [sid for sid, _best, _rows in hits if sid not in exact]
    if not ids:
        return []
    # Only `status` of the library's with_status(): compiling its rank expression costs more
    # than the search itself; the rank comes from STATUS_RANK here.
    standards = {
        row[0]: _Found(*row)
        for row in scope.filter(pk__in=ids).values_list(
            "pk", "code", "code_key", "title", "level", "year", "agency_id", "status"
        )
    }
    by_id = {sid: (best, rows) for sid, best, rows in hits}

    def relevance(sid: int) -> float:
        best, rows = by_id.get(sid, (0.0, []))
        more = min(len(rows) - 1, 10) if rows else 0
        return best * (1 + 0.05 * more) * STATUS_WEIGHT.get(standards[sid].status, 0.9)

    def order(sid: int):
        s = standards[sid]
        rank = STATUS_RANK.get(s.status, 9)
        if sid in exact:
            return (0, -exact[sid], rank, -(s.year or 0), s.code_key)
        return (1, -relevance(sid), rank, 0, s.code_key)

    chosen = sorted((sid for sid in ids if sid in standards), key=order)[:limit]
    top = max((relevance(sid) for sid in chosen if sid not in exact), default=0.0) or 1.0
    return _results(chosen, standards, exact, by_id, relevance, top, surface)


def _results(chosen, standards, exact, by_id, relevance, top, surface) -> list[Result]:
    row_ids = [rid for sid in chosen for rid, _s in by_id.get(sid, (0, []))[1]]
    rows: dict[int, tuple] = {}
    if row_ids:
        with connection.cursor() as cursor:
            for i in range(0, len(row_ids), 900):
                part = row_ids[i : i + 900]
                cursor.execute(
                    f"SELECT id, kind, number, source_id FROM {TABLE} "
                    f"WHERE id IN ({', '.join(['%s'] * len(part))})",
                    part,
                )
                rows.update({r[0]: r[1:] for r in cursor.fetchall()})
    # The three best rows of each standard give its snippets.
    best_rows = {
        sid: [rid for rid, _s in sorted(by_id[sid][1], key=lambda h: -h[1]) if rid in rows][:3]
        for sid in chosen
        if sid in by_id
    }
    wanted = [rows[rid] for rids in best_rows.values() for rid in rids]
    clause_ids = [src for kind, _n, src in wanted if kind == CLAUSE]
    term_ids = [src for kind, _n, src in wanted if kind == TERM]
    texts: dict[tuple[str, int], str] = {}
    if clause_ids:
        for pk, title, text in Clause.objects.filter(pk__in=clause_ids).values_list(
            "pk", "title", "text"
        ):
            texts[CLAUSE, pk] = f"{title} {text}".strip() if title and text else (title or text)
    if term_ids:
        for pk, term, english, definition in Term.objects.filter(pk__in=term_ids).values_list(
            "pk", "term", "english", "definition"
        ):
            label = f"{term} {english}" if english else term
            texts[TERM, pk] = f"{label}：{definition}"

    results = []
    for sid in chosen:
        s = standards[sid]
        numbers = {
            rows[rid][1] for rid, _sc in by_id.get(sid, (0, []))[1] if rid in rows and rows[rid][1]
        }
        snippets = []
        for rid in best_rows.get(sid, []):
            kind, number, source = rows[rid]
            text = s.title if kind == HEADER else texts.get((kind, source), "")
            if text and not any(p.clause == number and p.kind == kind for p in snippets):
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
                clauses=sorted(numbers, key=_number_key),
                snippets=snippets,
            )
        )
    return results
