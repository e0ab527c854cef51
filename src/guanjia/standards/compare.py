"""比对: clause-by-clause comparison of two standards (two editions of one, or two regions'
standards on one subject).

Clauses are aligned in four passes, cheapest first, so two 500-clause standards compare in
milliseconds rather than through a full fuzzy matrix (bench/bench_compare.py):

1. same number and the same text (after normalisation)          → same
2. the same text at another number (renumbered or moved)          → moved, similarity 1
3. same number, similar text (ratio ≥ SAME_NUMBER_ACCEPT), or the same
   title ("1 范围" in two regions' standards) whatever the text   → changed
4. among what is left only: the best candidates of each clause by rapidfuzz (sieved on
   texts narrowed to a one-byte alphabet, then scored on the real ones), assigned
   greedily, best first; a pair at the same number needs CHANGED_MIN and is "changed",
   at different numbers MOVED_MIN and is "moved" (moved and edited: similarity < 1)
5. the rest                                                       → removed / added

A clause's content is its title and text; similarity is rapidfuzz's ratio on the normalised
content (NFKC, no whitespace). Changed and moved pairs carry a character-level diff
(difflib) and the numbers that changed, side by side with their units.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from decimal import Decimal

from rapidfuzz import fuzz, process

from .document import ClauseDoc, StandardDoc
from .quantities import Quantity, json_number, quantities

SAME, CHANGED, MOVED, ADDED, REMOVED = "same", "changed", "moved", "added", "removed"
STATUSES = (SAME, CHANGED, MOVED, ADDED, REMOVED)

SAME_NUMBER_ACCEPT = 0.8  # pass 3: same number, at least this similar → changed at once
CHANGED_MIN = 0.5  # pass 4: same number
MOVED_MIN = 0.7  # pass 4: different numbers
CANDIDATES = 8  # pass 4: best candidates kept per clause
SAME_NUMBER_BONUS = 0.1  # pass 4: prefer the pair at the same number among near-equals
POSITION_WEIGHT = 0.05  # pass 4: … and the one at about the same place in the document

_SPACE = re.compile(r"\s+")
_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "「": '"', "」": '"'})


def content(clause: ClauseDoc) -> str:
    """What is compared and shown: the clause's title and its text."""
    return " ".join(part for part in (clause.title.strip(), clause.text.strip()) if part)


def comparable(text: str) -> str:
    return _SPACE.sub("", unicodedata.normalize("NFKC", text).translate(_QUOTES))


@dataclass
class NumberChange:
    a: Decimal | None
    b: Decimal | None
    unit: str

    def to_dict(self) -> dict:
        return {"a": json_number(self.a), "b": json_number(self.b), "unit": self.unit}


@dataclass
class Pair:
    status: str
    a_number: str | None
    b_number: str | None
    a_text: str | None
    b_text: str | None
    similarity: float | None  # 0..1; None for added and removed clauses
    numbers: list[NumberChange] = field(default_factory=list)
    diff: list[dict] = field(default_factory=list)  # {"op", "a", "b"}
    a_index: int | None = None  # position in a.clauses / b.clauses
    b_index: int | None = None

    def to_dict(self) -> dict:
        return {
            "status": self.status,
            "a_number": self.a_number,
            "b_number": self.b_number,
            "a_text": self.a_text,
            "b_text": self.b_text,
            "similarity": self.similarity,
            "numbers": [n.to_dict() for n in self.numbers],
            "diff": self.diff,
        }


@dataclass
class CompareResult:
    a: str  # codes
    b: str
    pairs: list[Pair]
    a_title: str = ""
    b_title: str = ""

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for pair in self.pairs:
            counts[pair.status] += 1
        return counts

    def to_dict(self) -> dict:
        return {
            "a": self.a,
            "b": self.b,
            "a_title": self.a_title,
            "b_title": self.b_title,
            "counts": self.counts,
            "pairs": [p.to_dict() for p in self.pairs],
        }


def char_diff(a: str, b: str) -> list[dict]:
    """difflib opcodes as {"op": equal|insert|delete|replace, "a": fragment, "b": fragment}."""
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return [
        {"op": op, "a": a[i1:i2], "b": b[j1:j2]} for op, i1, i2, j1, j2 in matcher.get_opcodes()
    ]


def number_changes(a_text: str, b_text: str) -> list[NumberChange]:
    """The numbers that differ between two versions of a clause, side by side: the two
    sequences of quantities are aligned (difflib over (value, unit)); within a replaced
    stretch, quantities pair by unit first, then in order; a number only on one side has
    None on the other."""
    qa, qb = quantities(a_text), quantities(b_text)
    key = lambda q: (q.value, q.unit)  # noqa: E731
    matcher = difflib.SequenceMatcher(None, [key(q) for q in qa], [key(q) for q in qb], False)
    changes: list[NumberChange] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        changes += _pair_quantities(qa[i1:i2], qb[j1:j2])
    return changes


def _pair_quantities(qa: list[Quantity], qb: list[Quantity]) -> list[NumberChange]:
    left_b = list(qb)
    paired: list[tuple[Quantity | None, Quantity | None]] = []
    left_a = []
    for q in qa:
        same_unit = next((r for r in left_b if r.unit == q.unit), None)
        if same_unit is not None:
            left_b.remove(same_unit)
            paired.append((q, same_unit))
        else:
            left_a.append(q)
    for q in left_a:
        paired.append((q, left_b.pop(0) if left_b else None))
    paired += [(None, r) for r in left_b]
    order = {id(q): n for n, q in enumerate(qb)}
    paired.sort(key=lambda p: order.get(id(p[1]), len(order)) if p[1] else len(order))
    return [
        NumberChange(
            x.value if x else None,
            y.value if y else None,
            (y.unit if y else "") or (x.unit if x else ""),
        )
        for x, y in paired
    ]


def _narrow_alphabet(texts: list[str]) -> dict[int, int]:
    """A translation of the texts' characters onto code points below 256, the most frequent
    ones each to their own, the rest shared by hash. rapidfuzz compares such strings several
    times faster (a lookup table instead of a hash map per character), and since characters
    are only ever merged, never split, the ratio of two narrowed texts is never below the
    true one: a sieve that keeps every true candidate."""
    counts = Counter(ch for text in texts for ch in text)
    table = {}
    for rank, (ch, _n) in enumerate(counts.most_common()):
        table[ord(ch)] = rank if rank < 200 else 200 + ord(ch) % 56
    return table


def compare(a: StandardDoc, b: StandardDoc) -> CompareResult:
    a_clauses, b_clauses = a.clauses, b.clauses
    a_shown = [content(c) for c in a_clauses]
    b_shown = [content(c) for c in b_clauses]
    a_norm = [comparable(t) for t in a_shown]
    b_norm = [comparable(t) for t in b_shown]
    a_match: list[int | None] = [None] * len(a_clauses)
    b_match: list[int | None] = [None] * len(b_clauses)
    similarity: dict[int, float] = {}  # a index → similarity of its pair

    def link(i: int, j: int, s: float) -> None:
        a_match[i], b_match[j], similarity[i] = j, i, s

    # 1. Same number, same content.
    by_number_content: dict[tuple[str, str], deque[int]] = defaultdict(deque)
    for j, clause in enumerate(b_clauses):
        by_number_content[(clause.number, b_norm[j])].append(j)
    for i, clause in enumerate(a_clauses):
        if queue := by_number_content.get((clause.number, a_norm[i])):
            link(i, queue.popleft(), 1.0)

    # 2. Same content elsewhere: renumbered or moved.
    by_content: dict[str, deque[int]] = defaultdict(deque)
    for j in range(len(b_clauses)):
        if b_match[j] is None and b_norm[j]:
            by_content[b_norm[j]].append(j)
    for i in range(len(a_clauses)):
        if a_match[i] is None and a_norm[i] and (queue := by_content.get(a_norm[i])):
            link(i, queue.popleft(), 1.0)

    # 3. Same number, similar content.
    by_number: dict[str, deque[int]] = defaultdict(deque)
    for j, clause in enumerate(b_clauses):
        if b_match[j] is None and clause.number:
            by_number[clause.number].append(j)
    for i, clause in enumerate(a_clauses):
        if a_match[i] is None and clause.number and (queue := by_number.get(clause.number)):
            j = queue[0]
            s = fuzz.ratio(a_norm[i], b_norm[j]) / 100
            same_title = bool(clause.title) and comparable(clause.title) == comparable(
                b_clauses[j].title
            )
            if s >= SAME_NUMBER_ACCEPT or same_title:
                queue.popleft()
                link(i, j, s)

    # 4. Fuzzy, among the leftovers only.
    left_a = [i for i in range(len(a_clauses)) if a_match[i] is None]
    left_b = [j for j in range(len(b_clauses)) if b_match[j] is None]
    if left_a and left_b:
        narrow = _narrow_alphabet([a_norm[i] for i in left_a] + [b_norm[j] for j in left_b])
        choices = [b_norm[j].translate(narrow) for j in left_b]
        slot = {j: k for k, j in enumerate(left_b)}
        na, nb = max(len(a_clauses), 1), max(len(b_clauses), 1)
        candidates = []
        for i in left_a:
            # Candidates on the narrowed texts (an upper bound of the true ratio, so no
            # pair above the cut is lost), then the true ratio of each candidate.
            found = process.extract(
                a_norm[i].translate(narrow),
                choices,
                scorer=fuzz.ratio,
                limit=CANDIDATES,
                score_cutoff=MOVED_MIN * 100,
            )
            # Same-number partner, even if it is not among the best few.
            extra = [
                (b_norm[j], None, slot[j])
                for j in by_number.get(a_clauses[i].number, ())
                if b_match[j] is None
            ]
            for _choice, _score, k in [*found, *extra]:
                j = left_b[k]
                s = fuzz.ratio(a_norm[i], b_norm[j]) / 100
                same_number = bool(a_clauses[i].number) and (
                    a_clauses[i].number == b_clauses[j].number
                )
                if s < (CHANGED_MIN if same_number else MOVED_MIN):
                    continue
                priority = (
                    s
                    + (SAME_NUMBER_BONUS if same_number else 0)
                    - POSITION_WEIGHT * abs(i / na - j / nb)
                )
                candidates.append((priority, i, j, s))
        for _priority, i, j, s in sorted(candidates, key=lambda c: (-c[0], c[1], c[2])):
            if a_match[i] is None and b_match[j] is None:
                link(i, j, s)

    # Pairs in b's order; a removed clause follows the pair of its predecessor in a.
    after_b: dict[int, list[int]] = defaultdict(list)  # b index (-1: start) → removed a's
    anchor = -1
    for i in range(len(a_clauses)):
        if a_match[i] is None:
            after_b[anchor].append(i)
        else:
            anchor = a_match[i]

    def removed(i: int) -> Pair:
        c = a_clauses[i]
        return Pair(REMOVED, c.number, None, a_shown[i], None, None, a_index=i)

    pairs = [removed(i) for i in after_b[-1]]
    for j, clause in enumerate(b_clauses):
        i = b_match[j]
        if i is None:
            pairs.append(Pair(ADDED, None, clause.number, None, b_shown[j], None, b_index=j))
        else:
            pairs.append(
                _matched(a_clauses[i], clause, a_shown[i], b_shown[j], similarity[i], i, j)
            )
        pairs += [removed(k) for k in after_b[j]]
    return CompareResult(a.code, b.code, pairs, a.title, b.title)


def _matched(ca: ClauseDoc, cb: ClauseDoc, ta: str, tb: str, s: float, i: int, j: int) -> Pair:
    if ca.number == cb.number:
        status = SAME if s == 1.0 else CHANGED
    else:
        status = MOVED
    pair = Pair(status, ca.number, cb.number, ta, tb, round(s, 4), a_index=i, b_index=j)
    if s < 1.0:
        pair.diff = char_diff(ta, tb)
        pair.numbers = number_changes(ta, tb)
    return pair
