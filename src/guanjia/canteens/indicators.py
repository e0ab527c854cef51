"""Indicators of the diner forecasts (registered when the canteens app is ready).

canteen.forecast_deviation_rate — 就餐人数预估偏差率 (DB50/T 9001—2022 4.3, 不宜超过10%):
    Σ|forecast − actual| ÷ Σ actual, in %, over the served meals of the period in the
    canteens of the agencies in scope that had a stored forecast (the last one made before
    the day). Weighted by diners: a 10-diner Saturday must not outweigh a 3,000-diner Monday.
"""

from guanjia.core.indicator_registry import IndicatorScope, Period, indicator

from . import forecasts
from .models import Canteen


def canteens_in(scope: IndicatorScope):
    """The canteens of the agencies in scope, through the caller's canteens scope."""
    return scope.restrict(Canteen).filter(agency__in=scope.agencies())


@indicator(
    "canteen.forecast_deviation_rate",
    unit="%",
    label="就餐人数预估偏差率",
    higher_is_better=False,
    description="统计期内有预测的供餐餐次中，|预测人数−实际人数| 之和占实际人数之和的百分比"
    "（DB50/T 9001—2022 4.3：不宜超过10%）。",
)
def forecast_deviation_rate(scope: IndicatorScope, period: Period) -> float | None:
    rows = forecasts.forecast_vs_actual(canteens_in(scope), period.start, period.end)
    return forecasts.deviation_rate(rows)
