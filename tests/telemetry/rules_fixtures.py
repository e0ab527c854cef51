"""Builders shared by the telemetry rule, trip, indicator and page tests: cars with
terminals, dispatch orders, and drives as lists of Position (China time in, epoch out)."""

from __future__ import annotations

import itertools
import math
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from guanjia.core.models import User
from guanjia.telemetry.positions import CHINA, Position
from guanjia.vehicles.models import Garage, TripRequest, Vehicle

_serial = itertools.count(1)

DAZU = (29.7050, 105.7210)  # 大足 (agency A, Chongqing)
CHENGDU = (30.6600, 104.0700)  # 成都 (agency B, Sichuan)


def china(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA)


def epoch(*args) -> int:
    return int(china(*args).timestamp())


def car(agency, key: str | None = None, plate: str | None = None, garage=None) -> Vehicle:
    n = next(_serial)
    return Vehicle.objects.create(
        plate=plate or f"渝T{n:05d}",
        vin=f"LSVTELEM{n:09d}",
        category="QT",
        energy_type="gasoline",
        purchase_price=Decimal("150000"),
        purchase_date=datetime(2022, 1, 1).date(),
        agency=agency,
        terminal_number=key or f"13800{n:06d}",
        terminal_key=key or f"13800{n:06d}",
        garage=garage,
    )


def garage(agency, lat=DAZU[0], lon=DAZU[1], radius_m=150, name=None) -> Garage:
    return Garage.objects.create(
        agency=agency, name=name or f"车库{next(_serial)}", lat=lat, lon=lon, radius_m=radius_m
    )


def order(vehicle, start: datetime, end: datetime, status="assigned", **extra) -> TripRequest:
    requester = User.objects.filter(agency=vehicle.agency).first() or User.objects.first()
    if requester is None:
        requester = User.objects.create_user(f"req{next(_serial)}", password="x")
    return TripRequest.objects.create(
        number=f"PC{next(_serial):012d}",
        agency=vehicle.agency,
        requester=requester,
        purpose="公务",
        origin="甲",
        destination="乙",
        start_at=start,
        end_at=end,
        status=status,
        vehicle=vehicle,
        **extra,
    )


def drive(
    key: str,
    start: datetime,
    minutes: float,
    *,
    interval: int = 30,
    speed: float = 40.0,
    origin=DAZU,
    heading_deg: float = 90.0,
    acc: bool = True,
    mileage0: float | None = None,
) -> list[Position]:
    """A car driving straight from `origin` at `speed` for `minutes`, one report per
    `interval` seconds (speed 0 = parked there)."""
    t0 = int(start.timestamp())
    n = int(minutes * 60 // interval) + 1
    out = []
    lat, lon = origin
    step_km = speed * interval / 3600.0
    for i in range(n):
        km = step_km * i
        dlat = km * math.cos(math.radians(heading_deg)) / 111.32
        dlon = km * math.sin(math.radians(heading_deg)) / (111.32 * math.cos(math.radians(lat)))
        out.append(
            Position(
                terminal=key,
                time=t0 + i * interval,
                lat=lat + dlat,
                lon=lon + dlon,
                speed_kmh=speed,
                direction=int(heading_deg) % 360,
                altitude_m=300,
                alarm=0,
                status=3 if acc else 2,
                mileage_km=None if mileage0 is None else round(mileage0 + km, 1),
            )
        )
    return out


def aware(dt: datetime) -> datetime:
    return timezone.localtime(dt)


__all__ = ["CHENGDU", "DAZU", "car", "china", "drive", "epoch", "garage", "order", "timedelta"]


def publish_live(home, positions) -> None:
    """Write a live snapshot file (as a gateway does) for `positions` into `home`."""
    from pathlib import Path

    from guanjia.telemetry import live

    keys = {p.terminal for p in positions}
    lookup = {
        v.terminal_key: (v.pk, v.agency_id) for v in Vehicle.objects.filter(terminal_key__in=keys)
    }
    state = live.LiveState(lookup=lookup.get)
    state.update(positions)
    state.publish(live.live_root(Path(home)) / "test.bin")
