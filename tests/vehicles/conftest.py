"""Fixtures of the vehicle tests: valid VINs, a car factory going through the services."""

from datetime import date
from decimal import Decimal
from itertools import count

import pytest

from guanjia.vehicles import services
from guanjia.vehicles.validators import vin_check_digit

_serial = count(1)


def make_vin(body: str = "LSVAU2180N218") -> str:
    """A valid VIN: 16 given characters (position 9 a placeholder) with the check digit."""
    serial = f"{next(_serial):04d}"
    raw = (body + serial)[:17]
    raw = raw[:8] + "0" + raw[9:]
    return raw[:8] + vin_check_digit(raw) + raw[9:]


def make_plate(prefix: str = "川A", n: int | None = None, nev: bool = False) -> str:
    n = next(_serial) if n is None else n
    return f"{prefix}D{n % 100000:05d}" if nev else f"{prefix}{n % 100000:05d}"


def vehicle_fields(agency, **overrides) -> dict:
    fields = {
        "plate": make_plate(),
        "vin": make_vin(),
        "category": "QT",
        "energy_type": "gasoline",
        "displacement_l": Decimal("1.5"),
        "purchase_price": Decimal("150000"),
        "purchase_date": date(2022, 3, 1),
        "agency": agency,
    }
    return fields | overrides


@pytest.fixture
def make_vehicle():
    def make(agency, actor=None, **overrides):
        return services.create_vehicle(actor, **vehicle_fields(agency, **overrides))

    return make


# The browser fixtures (Debian chromium through Playwright) shared with tests/web.
from ..web.test_browser import browser, page  # noqa: E402, F401
