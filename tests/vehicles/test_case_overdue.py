"""Cases open past their 24 hours (DB51/T 9002—2021 8.2, 违规用车预警应在24小时内核查处理):
marked and filtered in the case list and the API, by the same definition as the indicator
vehicles.case_handled_24h_rate."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from guanjia.vehicles import cases
from guanjia.vehicles.cases import Proposal
from guanjia.vehicles.models import MisuseCase

from ..conftest import api_client
from .lifecycle_fixtures import at

pytestmark = pytest.mark.django_db


def opened(agency, key, hours_ago, handled=False, user=None):
    [case] = cases.open_cases(
        None,
        [Proposal("fuel_tank_overfill", agency.pk, key, f"线索{key}", at("2026-03-01"), {})],
    )
    if handled:
        cases.verify_case(user, case, "属实")
    MisuseCase.objects.filter(pk=case.pk).update(
        opened_at=timezone.now() - timedelta(hours=hours_ago)
    )
    case.refresh_from_db()
    return case


@pytest.fixture
def three(world, users):
    return {
        "fresh": opened(world["A"], "k23", 23),
        "late": opened(world["A"], "k25", 25),
        "handled": opened(world["A"], "k48", 48, handled=True, user=users["agency"]),
    }


def test_the_boundary(three):
    now = timezone.now()
    assert not cases.is_overdue(three["fresh"], now)
    assert cases.is_overdue(three["late"], now)
    assert not cases.is_overdue(three["handled"], now)  # handled, however late
    assert cases.is_overdue(three["fresh"], now + timedelta(hours=1))
    assert not cases.is_overdue(three["handled"], now + timedelta(days=30))
    overdue = MisuseCase.objects.filter(cases.overdue_q(now))
    assert list(overdue) == [three["late"]]


def test_list_page_marks_and_filters(three, users):
    c = Client()
    c.force_login(users["agency"])
    page = c.get("/vehicles/cases/").content.decode()
    rows = {t: r for r in page.split("<tr>") for t in ("线索k23", "线索k25", "线索k48") if t in r}
    assert "超过24小时未处理" in rows["线索k25"]
    assert "超过24小时未处理" not in rows["线索k23"] + rows["线索k48"]
    assert 'name="overdue"' in page and "只看超时未处理" in page
    only = c.get("/vehicles/cases/?overdue=on").content.decode()
    assert "线索k25" in only and "线索k23" not in only and "线索k48" not in only


def test_api_output_and_filter(three, users, world):
    client = api_client(users["agency"])
    items = client.get("/api/v1/vehicles/cases").json()["items"]
    assert {i["title"]: i["overdue"] for i in items} == {
        "线索k23": False,
        "线索k25": True,
        "线索k48": False,
    }
    only = client.get("/api/v1/vehicles/cases?overdue=true").json()["items"]
    assert [i["title"] for i in only] == ["线索k25"]
    rest = client.get("/api/v1/vehicles/cases?overdue=false").json()["items"]
    assert {i["title"] for i in rest} == {"线索k23", "线索k48"}
    b_late = opened(world["B"], "kb", 30)
    assert b_late.pk not in [
        i["id"] for i in client.get("/api/v1/vehicles/cases?overdue=true").json()["items"]
    ]
