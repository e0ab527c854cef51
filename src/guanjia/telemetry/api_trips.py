"""Trips (行程) under /api/v1/telemetry/trips: segmented from positions by
`guanjia telemetry trips`, with the dispatch order each was matched to. Only trips of
vehicles in the caller's telemetry scope (Trip.objects.restrict)."""

import datetime as dt

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from guanjia.core.api import LimitOffset
from guanjia.core.models import Agency
from guanjia.core.scope import subtree_q

from .models import Trip
from .positions import CHINA

router = Router(tags=["实时监控"])


class TripOut(Schema):
    id: int
    vehicle_id: int
    plate: str = Field(alias="vehicle.plate")
    agency_id: int = Field(alias="vehicle.agency_id")
    started_at: dt.datetime
    ended_at: dt.datetime
    start_lat: float
    start_lon: float
    end_lat: float
    end_lon: float
    distance_km: float
    max_speed_kmh: float
    points: int
    order_id: int | None
    order_number: str | None
    match_score: float | None

    @staticmethod
    def resolve_order_number(obj) -> str | None:
        return obj.order.number if obj.order_id else None


class TripFilter(Schema):
    vehicle: int | None = None
    agency: int | None = Field(None, description="单位 id（含下级单位）")
    date: dt.date | None = Field(None, description="开始日期（北京时间）")
    matched: bool | None = Field(None, description="是否匹配到派车单")


def _trips(request):
    return Trip.objects.restrict(request.user).select_related("vehicle", "order")


def filtered(user, f: TripFilter):
    qs = Trip.objects.restrict(user).select_related("vehicle", "order")
    if f.vehicle:
        qs = qs.filter(vehicle_id=f.vehicle)
    if f.agency:
        agency = get_object_or_404(Agency.objects.restrict(user), pk=f.agency)
        qs = qs.filter(subtree_q("vehicle__agency", agency))
    if f.date:
        start = dt.datetime.combine(f.date, dt.time.min, CHINA)
        qs = qs.filter(started_at__gte=start, started_at__lt=start + dt.timedelta(days=1))
    if f.matched is not None:
        qs = qs.filter(order__isnull=not f.matched)
    return qs.order_by("-started_at", "-pk")


@router.get("/trips", response=list[TripOut], summary="行程")
@paginate(LimitOffset)
def list_trips(request, filters: Query[TripFilter]):
    return filtered(request.user, filters)


@router.get("/trips/{int:trip_id}", response=TripOut, summary="行程详情")
def get_trip(request, trip_id: int):
    return get_object_or_404(_trips(request), pk=trip_id)
