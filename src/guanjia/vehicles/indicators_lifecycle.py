"""Indicators of the lifecycle and of the 私车公养 signals (registered when the app is
ready). Each reads through `scope.restrict(...)`: nobody learns through an indicator what
they may not list. The telemetry issue adds `vehicles.misuse_cases` (all rules) later."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db.models import Max

from guanjia.core.indicator_registry import IndicatorScope, Period, indicator

from . import lifecycle
from .models import MisuseCase, Refuelling
from .signals_private_use import LIQUID_FUELS, PRIVATE_USE_RULES


def _user(scope: IndicatorScope):
    return scope.user


def _private_cases(scope: IndicatorScope, period: Period):
    start, end = period.bounds()
    return scope.restrict(MisuseCase).filter(
        agency__in=scope.agencies(),
        rule__in=PRIVATE_USE_RULES,
        episode_start__gte=start,
        episode_start__lt=end,
    )


@indicator(
    "vehicles.private_use_cases",
    unit="起",
    label="私车公养线索数",
    higher_is_better=False,
    description="统计期内发生的私车公养线索（超油箱加油、一卡多车、油耗超定额、为登记外车辆加油"
    "或维修、为非本单位车辆支付维修费）起数，不含已排除的线索；按规则的分布见违规线索页。",
)
def private_use_cases(scope: IndicatorScope, period: Period) -> float | None:
    return float(_private_cases(scope, period).exclude(status=MisuseCase.Status.DISMISSED).count())


def _tco(scope: IndicatorScope, period: Period):
    costs = lifecycle.vehicle_costs(
        _user(scope), start=period.start, end=period.end, agency=scope.agency
    )
    if not scope.include_below:
        costs = {k: c for k, c in costs.items() if c.extra["agency_id"] == scope.agency.pk}
    total = lifecycle.Cost()
    for c in costs.values():
        total.add(c)
    return total


@indicator(
    "vehicles.cost_per_km",
    unit="元/公里",
    label="公务用车每公里运行成本",
    higher_is_better=False,
    description="统计期内购置折旧（按处置年限直线折旧）、燃油、维修保养、保险、年检费用之和减处置"
    "收入，除以加油记录里程读数得出的行驶里程；没有里程读数时无数据。",
)
def cost_per_km(scope: IndicatorScope, period: Period) -> float | None:
    per_km = _tco(scope, period).per_km
    return None if per_km is None else float(per_km)


@indicator(
    "vehicles.inspection_overdue_count",
    unit="辆",
    label="年检逾期车辆数",
    higher_is_better=False,
    description="统计期末日在用车辆中，最近一次年检已过有效期的车辆数；范围内没有年检记录时无数据。",
)
def inspection_overdue_count(scope: IndicatorScope, period: Period) -> float | None:
    n = lifecycle.overdue_inspection_count(
        _user(scope), scope.agencies(), period.end - timedelta(days=1)
    )
    return None if n is None else float(n)


@indicator(
    "vehicles.insurance_overdue_count",
    unit="辆",
    label="交强险脱保车辆数",
    higher_is_better=False,
    description="统计期末日在用车辆中，最近一份交强险已过期的车辆数；没有保险记录时无数据。",
)
def insurance_overdue_count(scope: IndicatorScope, period: Period) -> float | None:
    n = lifecycle.overdue_inspection_count(
        _user(scope), scope.agencies(), period.end - timedelta(days=1), kind="compulsory"
    )
    return None if n is None else float(n)


@indicator(
    "vehicles.fuel_per_100km",
    unit="升/百公里",
    label="平均百公里油耗",
    higher_is_better=False,
    description="统计期内燃油车辆的加油量除以行驶里程（×100）。里程按加油记录的里程读数：期内最后"
    "读数减期前最后读数；期前没有读数的车辆从期内第一次加油起算，那一次的油量不计入。",
)
def fuel_per_100km(scope: IndicatorScope, period: Period) -> float | None:
    start, end = period.bounds()
    fills = scope.restrict(Refuelling).filter(
        vehicle__agency__in=scope.agencies(),
        vehicle__energy_type__in=LIQUID_FUELS,
        odometer_km__isnull=False,
    )
    inside = fills.filter(at__gte=start, at__lt=end).order_by("vehicle_id", "at", "pk")
    litres = km = Decimal(0)
    last: dict[int, Decimal] = {}
    low = dict(
        fills.filter(at__lt=start, vehicle_id__in=inside.values("vehicle_id"))
        .values("vehicle_id")
        .annotate(hi=Max("odometer_km"))
        .values_list("vehicle_id", "hi")
    )
    for vid, filled, reading in inside.values_list("vehicle_id", "litres", "odometer_km"):
        if vid not in low:  # the first fill of a car without an earlier reading starts it
            low[vid] = reading
        else:
            litres += filled
        last[vid] = max(last.get(vid, reading), reading)
    for vid, hi in last.items():
        km += max(Decimal(0), hi - low[vid])
    if km <= 0:
        return None
    return round(float(litres * 100 / km), 2)
