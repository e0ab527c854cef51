"""Indicators of online dispatch (registered when the vehicles app is ready).

vehicles.utilization_rate — 车辆使用率, in vehicle-workdays, not hours:
    used / available × 100, where
    available = Σ over the cars of the agencies in scope of the workdays of the period on
                which the car was held (from its purchase date; up to, not including, its
                disposal date; a car marked disposed without a disposal record counts not at
                all), and
    used      = the (car, workday) pairs on which the car was out on a completed trip (a trip
                over several days counts each workday it spans).
    Why days: what an office asks of its fleet is whether each car is needed on a working
    day (the 编制 question); hours would punish a car kept for a two-hour meeting run, and
    would depend on the requested windows rather than on use. The register keeps no status
    history, so a car sealed or in repair today counts as available over the whole period.
    Workdays are China's official working days (法定节假日 and 调休 by chinese-calendar),
    with the platform's calendar table first (guanjia.core.calendar).

dispatch.approval_hours — 用车审批平均时长 as the MEDIAN hours from a request being filed
    to its approval, over the requests approved in the period (rejections left out). The
    median, because one request forgotten over a holiday would otherwise outweigh a month
    of prompt approvals.

dispatch.pooling_rate — 拼车率: requests dispatched (assigned, on the road or completed)
    whose window starts in the period and which shared a car with another request
    (`pool_lead` set), as a share of all dispatched requests of the period.

Each reads through `scope.restrict(...)`: trips through the dispatch scope, cars through the
vehicles scope, so nobody learns through an indicator what they may not list.
"""

from __future__ import annotations

import statistics
from datetime import date, timedelta

from django.db.models import Count
from django.utils import timezone

from guanjia.core.calendar import is_workday
from guanjia.core.indicator_registry import IndicatorScope, Period, indicator

from .models import TripRequest, Vehicle

S = TripRequest.Status
DISPATCHED = (S.ASSIGNED, S.IN_PROGRESS, S.COMPLETED)


def _days(start: date, end: date):
    day = start
    while day < end:
        yield day
        day += timedelta(days=1)


@indicator(
    "vehicles.utilization_rate",
    unit="%",
    label="公务用车使用率",
    higher_is_better=True,
    description="统计期内各工作日中车辆至少有一次已完成出车的“车·日”数，占在编车辆“车·日”"
    "总数的百分比（工作日按国家法定节假日和调休安排；车辆自购置日起、处置日前计入）。"
    "没有在编车辆时无数据。",
)
def utilization_rate(scope: IndicatorScope, period: Period) -> float | None:
    if scope.user is not None:
        # Trips are read through the dispatch scope: someone who sees the cars but none of
        # the agencies' trips gets no data, not 0 %.
        from .dispatch import agencies_reached

        if not agencies_reached(scope.user, "view").filter(pk__in=scope.agencies()).exists():
            return None
    cars = scope.restrict(Vehicle).filter(agency__in=scope.agencies())
    workdays = [d for d in _days(period.start, period.end) if is_workday(d)]
    available = 0
    groups = (
        cars.values("purchase_date", "disposal__disposed_on", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for g in groups:
        until = g["disposal__disposed_on"]
        if until is None and g["status"] == Vehicle.Status.DISPOSED:
            continue
        first = g["purchase_date"]
        held = sum(1 for d in workdays if d >= first and (until is None or d < until))
        available += held * g["n"]
    if not available:
        return None
    lo, hi = period.bounds()
    trips = (
        scope.restrict(TripRequest)
        .filter(status=S.COMPLETED, vehicle__in=cars, started_at__lt=hi, ended_at__gte=lo)
        .values_list("vehicle_id", "started_at", "ended_at")
    )
    used: set[tuple[int, date]] = set()
    for vehicle_id, started, ended in trips.iterator():
        first = max(timezone.localtime(started).date(), period.start)
        last = min(timezone.localtime(ended).date(), period.end - timedelta(days=1))
        used.update(
            (vehicle_id, d) for d in _days(first, last + timedelta(days=1)) if is_workday(d)
        )
    return round(100 * len(used) / available, 2)


@indicator(
    "dispatch.approval_hours",
    unit="小时",
    label="用车审批时长（中位数）",
    higher_is_better=False,
    description="统计期内获批的用车申请，从提出申请到审批通过所用小时数的中位数"
    "（驳回的申请不计）。没有获批申请时无数据。",
)
def approval_hours(scope: IndicatorScope, period: Period) -> float | None:
    lo, hi = period.bounds()
    rows = (
        scope.restrict(TripRequest)
        .filter(agency__in=scope.agencies(), approved_at__gte=lo, approved_at__lt=hi)
        .exclude(status=S.REJECTED)
        .values_list("created_at", "approved_at")
    )
    hours = [(approved - created).total_seconds() / 3600 for created, approved in rows]
    return round(statistics.median(hours), 2) if hours else None


@indicator(
    "dispatch.pooling_rate",
    unit="%",
    label="拼车率",
    higher_is_better=True,
    description="统计期内用车开始的已派车申请（已派车、出车中、已完成）中，与其他申请合乘"
    "一车（集约管车）的百分比。没有派车时无数据。",
)
def pooling_rate(scope: IndicatorScope, period: Period) -> float | None:
    lo, hi = period.bounds()
    trips = scope.restrict(TripRequest).filter(
        agency__in=scope.agencies(), status__in=DISPATCHED, start_at__gte=lo, start_at__lt=hi
    )
    total = trips.count()
    if not total:
        return None
    return round(100 * trips.filter(pool_lead__isnull=False).count() / total, 2)
