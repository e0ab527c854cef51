"""One canteen's value of a canteen.* indicator.

The registered indicators (indicators*.py) answer for an agency and everything below it —
what the standards' requirements and the cross-agency views ask. A canteen's own page, its
dashboard and its anti-food-waste evaluation need the number of that canteen alone, even
when its agency runs several canteens; this module computes each canteen.* indicator by the
same definition over the one canteen, through the caller's scope. Keys of other domains
fall back to the canteen's agency (not below).
"""

from __future__ import annotations

from guanjia.core.indicator_registry import IndicatorScope, Period, get_indicator

from . import forecasts, stock, waste
from .models import Canteen, StockMovement


def _deviation(src: waste.Source, start, end):
    return forecasts.deviation_rate(forecasts.forecast_vs_actual(src.canteens, start, end))


def _turnover(src: waste.Source, start, end):
    movements = waste.scoped(StockMovement, src.user).filter(canteen__in=src.canteens)
    days = stock.turnover_days(movements, start, end)
    return None if days is None else round(float(days), 2)


PER_CANTEEN = waste.MEASURES | {
    "canteen.forecast_deviation_rate": _deviation,
    "canteen.stock_turnover_days": _turnover,
}


def canteen_value(
    key: str, canteen: Canteen, period: Period, user=None
) -> tuple[float | None, str]:
    """(value, basis): basis "canteen" when computed over the canteen alone, "agency" when a
    key of another domain was computed over the canteen's agency. KeyError for a key that
    is not registered."""
    if key in PER_CANTEEN:
        return PER_CANTEEN[key](
            waste.source_for(user, canteen), period.start, period.end
        ), "canteen"
    scope = IndicatorScope(agency=canteen.agency, include_below=False, user=user)
    return get_indicator(key).compute(scope, period), "agency"
