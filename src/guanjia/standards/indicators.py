"""Indicators of the standards library (registered when the app is ready)."""

from __future__ import annotations

from datetime import timedelta

from guanjia.core.indicator_registry import IndicatorScope, Period, indicator

from .frameworks import coverage
from .models import AgencyFunction, Standard


@indicator(
    "standards.function_coverage_rate",
    unit="%",
    label="职能标准覆盖率",
    higher_is_better=True,
    description="范围内各单位的职能中，至少有一项现行标准覆盖的职能所占百分比"
    "（按统计期末日的标准状态）；没有登记职能时无数据。",
)
def function_coverage_rate(scope: IndicatorScope, period: Period) -> float | None:
    """Share of the functions of the agencies in scope covered by a standard in force."""
    functions = scope.restrict(AgencyFunction).filter(agency__in=scope.agencies())
    last_day = period.end - timedelta(days=1)
    return coverage(functions, scope.restrict(Standard), today=last_day).rate


@indicator(
    "standards.measurable_share",
    unit="%",
    label="量化条款指标关联率",
    higher_is_better=True,
    description="本单位采用的现行标准（按统计期末日）中，含量化要求的条款里至少有一项要求"
    "已确认关联到平台指标的条款所占百分比；没有含量化要求的条款时无数据。",
)
def measurable_share(scope: IndicatorScope, period: Period) -> float | None:
    """Quantitative clauses (with at least one Requirement) of the standards the scope's
    agency applies on the period's last day; the share whose requirement has a confirmed
    indicator link. Standards are read through the caller's standards scope."""
    from .applicability import applicable_standards
    from .models import Requirement

    last_day = period.end - timedelta(days=1)
    standards = applicable_standards(scope.agency, last_day, scope.restrict(Standard))
    ids = list(standards.values_list("pk", flat=True))  # ids first: see evaluation.services
    requirements = scope.restrict(Requirement).filter(clause__standard_id__in=ids)
    quantitative = set(requirements.values_list("clause_id", flat=True))
    if not quantitative:
        return None
    linked = set(
        requirements.exclude(indicator_key="")
        .exclude(confirmed_at=None)
        .values_list("clause_id", flat=True)
    )
    return round(100.0 * len(linked) / len(quantitative), 2)
