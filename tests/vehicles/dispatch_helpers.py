"""Small builders shared by the dispatch tests: cars, drivers, people and requests of the
test world (A 大足 with A1 below it; B 成都 with B1)."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from guanjia.core.scope import DataScope
from guanjia.vehicles import dispatch
from guanjia.vehicles.models import Driver, Garage, Vehicle

from ..conftest import make_role, make_user

_serial = itertools.count(1)
VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"


def new_vehicle(agency, plate=None, *, seats=5, status=Vehicle.Status.IN_SERVICE, **fields):
    n = next(_serial)
    return Vehicle.objects.create(
        plate=plate or f"渝A{n:05d}",
        vin=f"LSVTEST{n:010d}",
        category="QT",
        energy_type="gasoline",
        purchase_price=Decimal("150000"),
        purchase_date=fields.pop("purchase_date", date(2022, 1, 1)),
        agency=agency,
        seats=seats,
        status=status,
        **fields,
    )


def new_driver(agency, name=None, *, expiry=date(2035, 1, 1), active=True):
    n = next(_serial)
    return Driver.objects.create(
        agency=agency,
        name=name or f"驾驶员{n}",
        licence_number=f"5001{n:014d}",
        licence_expiry=expiry,
        is_active=active,
    )


def new_garage(agency, name="机关大院车库", lat=29.70, lon=105.72):
    return Garage.objects.create(agency=agency, name=name, lat=lat, lon=lon)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in March 2026, Chongqing time (for trips filed by the system)."""
    return timezone.make_aware(datetime(2026, 3, day, hour, minute))


def soon(hours: float = 24) -> datetime:
    """A whole hour about `hours` from now (for trips a user files)."""
    moment = timezone.now() + timedelta(hours=hours)
    return moment.replace(minute=0, second=0, microsecond=0)


def trip(requester, start, hours=2, *, agency=None, **fields):
    fields.setdefault("purpose", "到区政府开会")
    fields.setdefault("origin", "大足区财政局")
    fields.setdefault("destination", "大足区人民政府")
    return dispatch.request_trip(
        None,
        requester=requester,
        agency=agency,
        start_at=start,
        end_at=start + timedelta(hours=hours),
        **fields,
    )


STAFF_PERMS = ["org.view", "dispatch.view", "dispatch.add", "dispatch.change"]
FLEET_PERMS = ["vehicles.*", "dispatch.*", "org.view"]


@pytest.fixture(name="people")
def people_fixture(world):
    """Two staff members of A1 (only their own requests), the fleet manager of A (A and
    below) and one of B."""
    staff_role = make_role("t_staff", DataScope.SELF, STAFF_PERMS)
    fleet_role = make_role("t_fleet", DataScope.AGENCY_AND_BELOW, FLEET_PERMS)
    return {
        "staff": make_user("staff", world["A1"], staff_role),
        "staff2": make_user("staff2", world["A1"], staff_role),
        "fleet": make_user("fleet", world["A"], fleet_role),
        "b_fleet": make_user("b_fleet", world["B"], fleet_role),
    }
