"""Fixtures of the evaluation tests: the two sample local standards imported, their
requirements read out, the canteen ones linked to indicators, and a canteen at agency A."""

import datetime as dt

import pytest

from guanjia.canteens import services as canteen_services
from guanjia.standards import linking
from guanjia.standards.models import Requirement

from ..standards.library_fixtures import import_fixture

LINKS = {
    ("DB50/T 9001—2022", "7.2"): "canteen.per_capita_kitchen_waste_g",
    ("DB50/T 9001—2022", "8.2"): "canteen.clean_plate_rate",
    ("DB51/T 9002—2021", "5.2"): "telemetry.report_interval_p95_s",
}


@pytest.fixture
def standards(world):
    """DB50/T 9001—2022 (canteens, Chongqing) and DB51/T 9002—2021 (vehicles, Sichuan),
    maintained by the top agencies, with the three requirements above linked."""
    found = {
        "9001": import_fixture("9001", world["A"], is_public=True)[0],
        "9002": import_fixture("9002", world["B"], is_public=True)[0],
    }
    for standard in found.values():
        linking.refresh_requirements(None, standard)
    for (code, clause), key in LINKS.items():
        req = Requirement.objects.get(clause__standard__code=code, clause__number=clause)
        linking.confirm_link(None, req, key)
    return found


@pytest.fixture
def canteen(world):
    return canteen_services.save_canteen(
        None, agency=world["A1"], code="dz-finance", name="大足区财政局食堂"
    )


SEPT = dt.date(2026, 9, 1)
