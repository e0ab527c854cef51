"""Requirement evaluation: the standards an agency applies, their quantitative requirements
linked to an indicator, each computed for the agency (and the agencies below it) and a
period, compared with its threshold, and stored.

Verdicts: `pass` when the value meets the requirement (`≥ 85`: value ≥ 85 …), `fail` when
not, `no-data` when the indicator has nothing to measure in the period (never a zero).
The trend is the same indicator over the previous period (a month, quarter or year before).
A requirement is "linked" when a person confirmed its indicator on the requirements page
(`standards.linking.confirm_link`); suggestions are not evaluated.

Results are derived data, like an index: written without audit records (what they are
computed from is audited), replaced whole for an (agency, period) on every run.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from guanjia.core.indicator_registry import IndicatorScope, Period, get_indicator
from guanjia.core.models import Agency
from guanjia.standards.applicability import applicable_standards
from guanjia.standards.models import Requirement, Standard

from .models import RequirementResult, Verdict

OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq}


@dataclass
class Result:
    requirement: Requirement
    indicator: str
    op: str
    threshold: float
    value: float | None
    previous: float | None
    status: str

    def as_dict(self) -> dict:
        clause = self.requirement.clause
        return {
            "standard": clause.standard.code,
            "standard_title": clause.standard.title,
            "clause": clause.number,
            "clause_text": clause.text[:200],
            "requirement": str(self.requirement),
            "strength": self.requirement.strength,
            "indicator": self.indicator,
            "op": self.op,
            "threshold": self.threshold,
            "unit": self.requirement.unit,
            "value": self.value,
            "previous_value": self.previous,
            "trend": trend(self.value, self.previous),
            "status": self.status,
        }


def verdict(value: float | None, op: str, threshold: float) -> str:
    if value is None:
        return Verdict.NO_DATA
    return Verdict.PASS if OPS[op](round(value, 6), threshold) else Verdict.FAIL


def trend(value: float | None, previous: float | None) -> str | None:
    """ "up", "down" or "flat" against the previous period; None when either is missing."""
    if value is None or previous is None:
        return None
    if abs(value - previous) < 1e-9:
        return "flat"
    return "up" if value > previous else "down"


def linked_requirements(agency: Agency, period: Period, user=None):
    """The confirmed, indicator-linked requirements of the standards `agency` applies on the
    period's last day (read through `user`'s standards scope when given)."""
    standards = Standard.objects.all() if user is None else Standard.objects.restrict(user)
    last_day = period.end - timedelta(days=1)
    # The ids first: as a subquery, the standards' derived status (with its EXISTS over
    # the replacements) made PostgreSQL rescan it per requirement — seconds per call.
    applied = list(applicable_standards(agency, last_day, standards).values_list("pk", flat=True))
    return (
        Requirement.objects.filter(clause__standard_id__in=applied)
        .exclude(indicator_key="")
        .exclude(confirmed_at=None)
        .select_related("clause__standard")
        .order_by("clause__standard__code", "clause__position", "pk")
    )


def evaluate(agency: Agency, period: Period, user=None) -> list[Result]:
    """Every linked requirement of `agency`'s standards measured over the agency and those
    below it, within `user`'s data scope (None: the system)."""
    scope = IndicatorScope(agency=agency, include_below=True, user=user)
    previous = period.previous()
    cache: dict[tuple[str, str], float | None] = {}

    def measure(key: str, p: Period):
        if (key, p.label) not in cache:
            try:
                cache[(key, p.label)] = get_indicator(key).compute(scope, p)
            except KeyError:  # a link to an indicator no longer registered
                cache[(key, p.label)] = None
        return cache[(key, p.label)]

    results = []
    for req in linked_requirements(agency, period, user):
        threshold = float(req.value)
        value = measure(req.indicator_key, period)
        results.append(
            Result(
                requirement=req,
                indicator=req.indicator_key,
                op=req.op,
                threshold=threshold,
                value=None if value is None else round(float(value), 4),
                previous=measure(req.indicator_key, previous),
                status=verdict(value, req.op, threshold),
            )
        )
    return results


def evaluate_and_store(agency: Agency, period: Period, user=None) -> list[Result]:
    """Evaluate and replace the stored results of (agency, period)."""
    results = evaluate(agency, period, user)
    now = timezone.now()
    rows = [
        RequirementResult(
            agency=agency,
            period=period.label,
            requirement=r.requirement,
            indicator=r.indicator,
            op=r.op,
            threshold=r.threshold,
            value=r.value,
            status=r.status,
            previous_value=r.previous,
            computed_at=now,
        )
        for r in results
    ]
    with transaction.atomic():
        RequirementResult.objects.filter(agency=agency, period=period.label).delete()
        RequirementResult.objects.bulk_create(rows)
    return results


def summary(results) -> dict:
    counts = {v.value: 0 for v in Verdict}
    for r in results:
        counts[r.status if isinstance(r, Result) else r["status"]] += 1
    measured = counts[Verdict.PASS] + counts[Verdict.FAIL]
    return counts | {
        "total": sum(counts.values()),
        "pass_rate": round(100.0 * counts[Verdict.PASS] / measured, 1) if measured else None,
    }


def recompute_stale(limit: int = 500) -> int:
    """Recompute the stored (agency, period) pairs marked stale; how many were redone."""
    pairs = list(
        RequirementResult.objects.filter(stale=True)
        .values_list("agency_id", "period")
        .distinct()[:limit]
    )
    agencies = Agency.objects.in_bulk({a for a, _p in pairs})
    for agency_id, label in pairs:
        evaluate_and_store(agencies[agency_id], Period.parse(label))
    return len(pairs)


def last_complete_periods(today: date) -> tuple[Period, Period]:
    """The last complete month and quarter before `today`."""
    first = today.replace(day=1)
    month = Period.parse(f"{(first - timedelta(days=1)):%Y-%m}")
    q = (today.month - 1) // 3
    quarter = Period.parse(f"{today.year}Q{q}" if q else f"{today.year - 1}Q4")
    return month, quarter
