"""Indicators of procurement and stock (registered when the app is ready). They read
through `scope.restrict(...)`: nobody learns through an indicator what they may not list."""

from __future__ import annotations

from guanjia.core.indicator_registry import IndicatorScope, Period, indicator

from . import stock
from .models import Canteen, StockMovement


@indicator(
    "canteen.stock_turnover_days",
    unit="天",
    label="食材库存周转天数",
    higher_is_better=False,
    description="统计期内平均库存金额除以日均出库金额。平均库存金额为统计期每个自然日日终库存"
    "金额的平均值；日均出库金额为统计期内出库与报损（按移动加权平均成本）金额之和除以统计期"
    "自然日数。统计期内没有出库时无数据。DB50/T 9001—2022 5.2：不应超过7天。",
)
def stock_turnover_days(scope: IndicatorScope, period: Period) -> float | None:
    """Over the canteens in scope, together:

    average stock value = mean over each calendar day d of the period of the stock value
    at the end of d (Σ IN qty × cost − Σ OUT/LOSS qty × cost of the movements up to d);
    average daily issue value = Σ OUT and LOSS qty × cost in the period ÷ the period's
    calendar days; turnover days = average stock value ÷ average daily issue value.
    None when nothing was issued or written off in the period."""
    canteens = scope.restrict(Canteen).filter(agency__in=scope.agencies())
    movements = scope.restrict(StockMovement).filter(canteen__in=canteens)
    days = stock.turnover_days(movements, period.start, period.end)
    return None if days is None else round(float(days), 2)
