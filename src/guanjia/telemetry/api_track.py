"""A vehicle's track under /api/v1/telemetry/track.

Only vehicles the caller may see (`Vehicle.objects.restrict(user)`, further limited by the
caller's `telemetry.view` roles) have a track here; any other id is 404. Positions come
from the archive and the not-yet-compacted write-ahead segments (archive.track).
"""

import datetime as dt

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from guanjia.core.schemas import Error
from guanjia.core.scope import scope_q
from guanjia.vehicles.models import Vehicle

from . import archive

router = Router(tags=["实时监控"])
MAX_POINTS = 100_000


class TrackQuery(Schema):
    vehicle_id: int
    start: dt.datetime | None = Field(None, alias="from")
    end: dt.datetime | None = Field(None, alias="to")
    limit: int = 20_000


class TrackPoint(Schema):
    time: str
    lat: float
    lon: float
    speed_kmh: float
    direction: int
    altitude_m: int
    alarm: int
    status: int
    mileage_km: float | None


class TrackOut(Schema):
    vehicle_id: int
    plate: str
    terminal: str
    count: int
    truncated: bool
    positions: list[TrackPoint]


def visible_vehicles(user):
    vehicles = Vehicle.objects.restrict(user)
    q = scope_q(Vehicle, user, "view", wanted="telemetry.view")
    return vehicles if q is None else vehicles.filter(q)


def _epoch(moment: dt.datetime | None) -> int | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=archive.CHINA)
    return int(moment.timestamp())


@router.get("/track", response={200: TrackOut, 400: Error, 404: Error})
def vehicle_track(request, filters: Query[TrackQuery]):
    """轨迹：车辆在时段内（含起止时刻；无时区的时间按北京时间）的定位点，按 GNSS 时间排序。"""
    vehicle = get_object_or_404(visible_vehicles(request.user), pk=filters.vehicle_id)
    if not vehicle.terminal_key:
        return Status(400, {"detail": "该车辆未登记车载终端"})
    since, until = _epoch(filters.start), _epoch(filters.end)
    if since is not None and until is not None and until < since:
        return Status(400, {"detail": "结束时间早于起始时间"})
    limit = max(1, min(filters.limit, MAX_POINTS))
    positions = archive.track(vehicle.terminal_key, since, None if until is None else until + 1)
    rows = archive.track_rows(positions[:limit])
    return {
        "vehicle_id": vehicle.pk,
        "plate": vehicle.plate,
        "terminal": vehicle.terminal_key,
        "count": len(rows),
        "truncated": len(positions) > limit,
        "positions": rows,
    }
