"""Cars, shops and cards for the lifecycle and signal tests, made with the ORM (the register's
validation is tested elsewhere) and the lifecycle services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import count

from django.utils import timezone

from guanjia.vehicles import lifecycle
from guanjia.vehicles.models import Vehicle

_serial = count(1)


def car(agency, plate: str | None = None, **fields) -> Vehicle:
    n = next(_serial)
    values = {
        "plate": plate or f"渝B{n:05d}",
        "vin": f"LSVTEST{n:010d}",
        "category": "QT",
        "energy_type": "gasoline",
        "displacement_l": Decimal("1.6"),
        "purchase_price": Decimal("146000"),
        "purchase_date": dt.date(2022, 1, 1),
        "tank_l": Decimal("50"),
        "fuel_norm_l_100km": Decimal("8"),
        "agency": agency,
    }
    return Vehicle.objects.create(**(values | fields))


def shop(agency, name="大足区定点汽修厂", **fields):
    return lifecycle.save_repair_shop(
        None, agency=agency, name=name, contract_until=dt.date(2030, 12, 31), **fields
    )


def at(day: str, hour: int = 9) -> dt.datetime:
    return timezone.make_aware(dt.datetime.fromisoformat(day).replace(hour=hour))


def fill(
    card=None, plate="", day="2026-03-02", litres="40", km=None, amount=None, actor=None, **kw
):
    return lifecycle.record_refuelling(
        actor,
        at=at(day, kw.pop("hour", 9)),
        litres=Decimal(litres),
        amount=Decimal(amount or Decimal(litres) * Decimal("7.8")),
        plate=plate,
        card=card,
        odometer_km=km,
        **kw,
    )
