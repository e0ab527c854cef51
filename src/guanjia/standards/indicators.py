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
