"""The scoring rules every scorecard shares: points for an item, and the grade of a total.

* **linear**: 0 points at `zero_at`, full marks at `full_at`, a straight line between,
  clamped outside. Works in both directions: a rate that should rise (光盘率: 0 at 60,
  full at 85) and an amount that should fall (餐厨垃圾: 0 at 250 g, full at 150 g).
* **threshold**: full marks when the value meets `op threshold` (`>= 85`), else 0.
* **reviewer**: a person's points between 0 and the weight, checked here.

No data (None) always scores 0: missing records are not evidence of good work. Points are
Decimals to one place (half up), so totals add up the way a printed report does.

Grades: 优秀 ≥ excellent line, 良好 ≥ good line, 合格 ≥ pass line, else 不合格. Where a
scheme does not state an excellent line it is halfway from the good line to 100
(`midpoint_excellent`: 90 when good is 80), so moving the good line moves it too.
"""

from __future__ import annotations

import operator
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal("0")
ONE = Decimal("1")
TENTH = Decimal("0.1")
HUNDRED = Decimal("100")

EXCELLENT, GOOD, PASS, FAIL = "优秀", "良好", "合格", "不合格"
GRADES = (EXCELLENT, GOOD, PASS, FAIL)

OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq}


def dec(value) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def points(value) -> Decimal:
    """A score rounded the way reports print it: one place, half up."""
    return dec(value).quantize(TENTH, ROUND_HALF_UP)


def linear_score(value, zero_at, full_at, weight) -> Decimal:
    """Points for `value`: 0 at `zero_at`, `weight` at `full_at`, linear between, clamped.
    None (no data) scores 0. If both ends are equal the item is pass/fail at that value
    (full marks only when equal: the direction is unknown)."""
    weight = dec(weight)
    if value is None or zero_at is None or full_at is None:
        return ZERO
    value, zero_at, full_at = dec(value), dec(zero_at), dec(full_at)
    if zero_at == full_at:
        return weight if value == full_at else ZERO
    share = (value - zero_at) / (full_at - zero_at)
    share = min(max(share, ZERO), ONE)
    return points(weight * share)


def threshold_score(value, op: str, threshold, weight) -> Decimal:
    """Full marks when `value op threshold` holds, else 0; None (no data) scores 0."""
    if op not in OPS:
        raise ValueError(f"unknown comparison {op!r}")
    if value is None or threshold is None:
        return ZERO
    return dec(weight) if OPS[op](round(dec(value), 6), dec(threshold)) else ZERO


def reviewer_score(score, weight) -> Decimal:
    """A person's points, checked to lie between 0 and the weight; ValueError if not."""
    score = points(score)
    if not ZERO <= score <= dec(weight):
        raise ValueError(score)
    return score


def midpoint_excellent(good_line) -> Decimal:
    """The excellent line of a scheme that states none: halfway from good to 100."""
    return points((dec(good_line) + HUNDRED) / 2)


def grade(score, pass_line, good_line, excellent_line) -> str:
    score = dec(score)
    if score >= dec(excellent_line):
        return EXCELLENT
    if score >= dec(good_line):
        return GOOD
    if score >= dec(pass_line):
        return PASS
    return FAIL


def ranks(scores: list) -> list[int]:
    """Competition ranks of scores sorted best first: ties share a rank (1, 2, 2, 4)."""
    out: list[int] = []
    for n, score in enumerate(scores):
        out.append(out[n - 1] if n and scores[n - 1] == score else n + 1)
    return out
