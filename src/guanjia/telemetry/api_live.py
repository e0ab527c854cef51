"""The live map's data under /api/v1/telemetry/live: the latest position of every vehicle
the caller may see (Vehicle.objects.restrict and the telemetry.view roles, through
`live.visible`), optionally of one agency and those below it and inside a box.

Up to `cluster_above` vehicles (default 2,000) come as points; above that, as grid cells
of `cell` degrees (default 0.25°, about 25 km — the province view) with the count and
how many are moving, so the page never draws 96,000 markers; zooming in narrows the box
and brings the points back. Coordinates are WGS-84 as reported (see geo.py)."""

import time

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from guanjia.core.models import Agency
from guanjia.vehicles.models import Vehicle

from . import live

router = Router(tags=["实时监控"])

OFFLINE_S = 600  # no report for 10 minutes: shown as offline
MOVING_KMH = 3.0


class LiveQuery(Schema):
    agency: int | None = Field(None, description="单位 id（含下级单位）")
    bbox: str | None = Field(None, description="可视范围：西,南,东,北（经纬度，WGS-84）")
    since_s: int | None = Field(None, description="只要最近多少秒内有汇报的车辆")
    cluster_above: int = Field(2000, ge=1, le=100_000, description="超过多少辆时按网格汇总")
    cell: float = Field(0.25, gt=0, le=5, description="汇总网格边长（度）")


class LivePoint(Schema):
    vehicle_id: int
    agency_id: int
    plate: str
    time: str
    lat: float
    lon: float
    speed_kmh: float
    direction: int
    acc: bool
    state: str  # moving / parked / offline


class LiveCell(Schema):
    lat: float
    lon: float
    count: int
    moving: int


class LiveOut(Schema):
    items: list[LivePoint]
    count: int
    clustered: bool
    cells: list[LiveCell]
    server_time: float
    datum: str = "WGS-84"


def _bbox(text: str | None):
    if not text:
        return None
    try:
        w, s, e, n = (float(x) for x in text.split(","))
    except ValueError:
        return None
    return w, s, e, n


def state_of(p, now: float) -> str:
    if now - p.time > OFFLINE_S:
        return "offline"
    return "moving" if p.speed_kmh >= MOVING_KMH else "parked"


def snapshot_for(user, q: LiveQuery) -> dict:
    agency = None
    if q.agency:
        agency = get_object_or_404(Agency.objects.restrict(user), pk=q.agency)
    now = time.time()
    since = now - q.since_s if q.since_s else None
    entries = live.visible(user, agency=agency, since=since)
    box = _bbox(q.bbox)
    if box:
        w, s, e, n = box
        entries = [x for x in entries if w <= x.position.lon <= e and s <= x.position.lat <= n]
    if len(entries) > q.cluster_above:
        cells: dict[tuple[int, int], list] = {}
        for x in entries:
            p = x.position
            k = (int(p.lat // q.cell), int(p.lon // q.cell))
            c = cells.get(k)
            if c is None:
                c = cells[k] = [0.0, 0.0, 0, 0]
            c[0] += p.lat
            c[1] += p.lon
            c[2] += 1
            c[3] += state_of(p, now) == "moving"
        out = [
            {"lat": a / n, "lon": b / n, "count": n, "moving": m} for a, b, n, m in cells.values()
        ]
        return {
            "items": [],
            "count": len(entries),
            "clustered": True,
            "cells": out,
            "server_time": now,
        }
    plates = dict(
        Vehicle.objects.filter(pk__in=[x.vehicle_id for x in entries]).values_list("pk", "plate")
    )
    items = [
        {
            "vehicle_id": x.vehicle_id,
            "agency_id": x.agency_id,
            "plate": plates.get(x.vehicle_id, ""),
            "time": x.position.iso_time(),
            "lat": x.position.lat,
            "lon": x.position.lon,
            "speed_kmh": x.position.speed_kmh,
            "direction": x.position.direction,
            "acc": x.position.acc_on,
            "state": state_of(x.position, now),
        }
        for x in entries
    ]
    return {
        "items": items,
        "count": len(items),
        "clustered": False,
        "cells": [],
        "server_time": now,
    }


@router.get("/live", response=LiveOut, summary="实时位置")
def live_positions(request, q: Query[LiveQuery]):
    """数据范围内车辆的最新位置（WGS-84）；车辆多于 cluster_above 时按网格汇总。"""
    return snapshot_for(request.user, q)
