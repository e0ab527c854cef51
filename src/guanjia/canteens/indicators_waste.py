"""The waste and satisfaction indicators of the canteens (registered when the app is ready),
over every canteen of the scope's agencies that the scope's user may see. The definitions
are those of `waste` (DB50/T 9001—2022 3.1, 3.2, 3.3 and 9.2)."""

from __future__ import annotations

from guanjia.core.indicator_registry import IndicatorScope, Period, indicator

from . import waste
from .models import Canteen


def _source(scope: IndicatorScope) -> waste.Source:
    canteens = scope.restrict(Canteen).filter(agency__in=scope.agencies())
    return waste.Source(canteens, scope.user)


@indicator(
    "canteen.clean_plate_rate",
    unit="%",
    label="光盘率",
    higher_is_better=True,
    description="统计期内光盘观察的光盘数之和除以观察餐盘数之和（DB50/T 9001—2022 3.1；8.2 要求"
    "不低于85%）。光盘：餐盘中没有可食用的剩余，骨头、果核、果皮、汤汁不计。",
)
def clean_plate_rate(scope: IndicatorScope, period: Period) -> float | None:
    return waste.clean_plate_rate(_source(scope), period.start, period.end)


@indicator(
    "canteen.per_capita_kitchen_waste_g",
    unit="克/人次",
    label="人均餐厨垃圾量",
    higher_is_better=False,
    description="统计期内既有称重记录又有就餐人数（大于0）的餐次：各类别（加工损耗、变质过期、"
    "倾销量、餐盘剩余，含可食与不可食部分）称重之和×1000÷就餐人次之和（DB50/T 9001—2022 "
    "3.2；7.2 要求不超过150克每人次）。",
)
def per_capita_kitchen_waste_g(scope: IndicatorScope, period: Period) -> float | None:
    return waste.per_capita_waste_g(_source(scope), period.start, period.end)


@indicator(
    "canteen.discarded_food_kg",
    unit="千克/日",
    label="倾销量日均值",
    higher_is_better=False,
    description="统计期内“倾销量（未售出成品）”称重之和÷有就餐人数且有称重记录的供餐日数"
    "（DB50/T 9001—2022 3.3；6.3 要求较上年度下降不少于10%）。",
)
def discarded_food_kg(scope: IndicatorScope, period: Period) -> float | None:
    return waste.discarded_daily_kg(_source(scope), period.start, period.end)


@indicator(
    "canteen.satisfaction_rate",
    unit="%",
    label="就餐人员满意度",
    higher_is_better=True,
    description="统计期内满意度问卷中总体满意度为4分或5分（满分5分）的份数占全部份数的百分比"
    "（DB50/T 9001—2022 9.2 要求不低于90%）。",
)
def satisfaction_rate(scope: IndicatorScope, period: Period) -> float | None:
    return waste.satisfaction_rate(_source(scope), period.start, period.end)
