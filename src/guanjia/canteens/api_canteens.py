"""Canteens, diner counts, events and forecasts under /api/v1/canteens/.

Reads start from `restrict(request.user)`; writes go through the services, which check the
permission and re-check the written object's scope. A canteen a caller cannot see is 404.
Card-swipe systems post each day's counts here (`POST /canteens/{id}/diners`).
"""

import datetime as dt

from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from guanjia.core.api import WRITE_ERRORS, LimitOffset
from guanjia.core.schemas import Error
from guanjia.core.scope import subtree_q

from . import forecasts, services
from .models import AttendanceEvent, Canteen, DinerCount, Meal

router = Router(tags=["机关食堂"])


def canteen_or_404(request, pk: int, action: str = "view") -> Canteen:
    return get_object_or_404(Canteen.objects.restrict(request.user, action), pk=pk)


class CanteenOut(Schema):
    id: int
    code: str
    name: str
    agency_id: int
    agency_name: str = Field(alias="agency.name")
    mode: str
    meals: list[str] = Field(alias="meal_list")
    capacity: int
    staff_served: int
    waste_target_g: float


class CanteenFilter(Schema):
    agency: int | None = Field(None, description="单位 id（含下级单位）")
    q: str | None = None


@router.get("/canteens", response=list[CanteenOut], summary="食堂列表")
@paginate(LimitOffset)
def list_canteens(request, filters: Query[CanteenFilter]):
    qs = Canteen.objects.restrict(request.user).select_related("agency")
    if filters.agency:
        from guanjia.core.models import Agency

        agency = get_object_or_404(Agency.objects.restrict(request.user), pk=filters.agency)
        qs = qs.filter(subtree_q("agency", agency))
    if filters.q:
        qs = qs.filter(name__contains=filters.q)
    return qs.order_by("pk")


@router.get("/canteens/{pk}", response={200: CanteenOut, 404: Error}, summary="食堂详情")
def get_canteen(request, pk: int):
    return canteen_or_404(request, pk)


class DinersOut(Schema):
    date: dt.date
    meal: str
    diners: int
    source: str


class DinersIn(Schema):
    date: dt.date
    meal: Meal = Meal.LUNCH
    diners: int = Field(ge=0)


class RangeFilter(Schema):
    start: dt.date | None = None
    end: dt.date | None = Field(None, description="截止日期（不含）")
    meal: Meal | None = None


def _range(filters: RangeFilter, back: int = 28, ahead: int = 1):
    today = timezone.localdate()
    return (
        filters.start or today - dt.timedelta(days=back),
        filters.end or today + dt.timedelta(days=ahead),
    )


@router.get("/canteens/{pk}/diners", response=list[DinersOut], summary="就餐人数")
@paginate(LimitOffset)
def list_diners(request, pk: int, filters: Query[RangeFilter]):
    canteen = canteen_or_404(request, pk)
    start, end = _range(filters)
    qs = DinerCount.objects.restrict(request.user).filter(
        canteen=canteen, date__gte=start, date__lt=end
    )
    if filters.meal:
        qs = qs.filter(meal=filters.meal)
    return qs.order_by("date", "meal")


@router.post(
    "/canteens/{pk}/diners", response={201: DinersOut, **WRITE_ERRORS}, summary="上报就餐人数"
)
def post_diners(request, pk: int, data: DinersIn):
    """同一食堂同一天同一餐次再次上报即更正。"""
    canteen = canteen_or_404(request, pk)
    row = services.record_diners(request.user, canteen, data.date, data.diners, data.meal)
    return Status(201, row)


class EventOut(Schema):
    id: int
    date: dt.date
    meal: str
    kind: str
    change: int
    title: str


class EventIn(Schema):
    date: dt.date
    meal: str = ""
    kind: AttendanceEvent.Kind
    change: int
    title: str


@router.get("/canteens/{pk}/events", response=list[EventOut], summary="用餐事件")
@paginate(LimitOffset)
def list_events(request, pk: int):
    canteen = canteen_or_404(request, pk)
    return (
        AttendanceEvent.objects.restrict(request.user)
        .filter(canteen=canteen)
        .order_by("date", "pk")
    )


@router.post(
    "/canteens/{pk}/events", response={201: EventOut, **WRITE_ERRORS}, summary="登记用餐事件"
)
def post_event(request, pk: int, data: EventIn):
    return Status(201, services.add_event(request.user, canteen_or_404(request, pk), **data.dict()))


class ForecastOut(Schema):
    date: dt.date
    meal: str
    forecast: int | None
    p10: int | None
    p90: int | None
    actual: int | None
    deviation_pct: float | None
    tags: str


class ForecastPage(Schema):
    canteen_id: int
    deviation_rate: float | None = Field(description="Σ|预测−实际| ÷ Σ实际（%）")
    days: list[ForecastOut]


@router.get(
    "/canteens/{pk}/forecast", response={200: ForecastPage, 404: Error}, summary="预测与实际"
)
def get_forecast(request, pk: int, filters: Query[RangeFilter]):
    canteen = canteen_or_404(request, pk)
    start, end = _range(filters, back=7, ahead=14)
    visible = Canteen.objects.restrict(request.user).filter(pk=canteen.pk)
    rows = forecasts.forecast_vs_actual(visible, start, end, filters.meal)
    return {
        "canteen_id": canteen.pk,
        "deviation_rate": forecasts.deviation_rate(rows),
        "days": [r.__dict__ | {"deviation_pct": r.deviation_pct} for r in rows],
    }


class RefreshOut(Schema):
    canteen_id: int
    stored: int
    origin: dt.date


@router.post(
    "/canteens/{pk}/forecast/refresh",
    response={200: RefreshOut, **WRITE_ERRORS},
    summary="重新预测",
)
def refresh_forecast(request, pk: int):
    """按已有就餐人数与登记事件预测未来 14 天（历史不足 4 周的餐次不预测）。"""
    canteen = canteen_or_404(request, pk, "change")
    origin = timezone.localdate()
    stored = forecasts.refresh(request.user, canteen, origin=origin)
    return {"canteen_id": canteen.pk, "stored": stored, "origin": origin}
