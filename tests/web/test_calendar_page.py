"""The working calendar page: a system administrator keys next year's 放假安排 and every
part of the platform follows it; others may read it but not change it."""

import datetime as dt

import pytest
from django.test import Client

from guanjia.core.calendar import clear_cache, is_workday
from guanjia.core.models import CalendarDay
from guanjia.core.scope import DataScope

from ..conftest import make_role, make_user

pytestmark = pytest.mark.django_db
SPRING_FESTIVAL_2027 = dt.date(2027, 2, 8)  # a Monday; chinese-calendar stops at 2026


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def fresh_calendar():
    clear_cache()
    yield
    clear_cache()


def test_keying_a_day_off_changes_the_platform_calendar(users):
    admin = client_for(users["all"])
    page = admin.get("/system/calendar/?year=2027").content.decode()
    assert "未收录" in page  # 2027 is not in the package
    assert is_workday(SPRING_FESTIVAL_2027)
    r = admin.post(
        "/system/calendar/",
        {"date": "2027-02-08", "is_workday": "0", "name": "春节", "source": "国办发明电"},
    )
    assert r.status_code == 302
    assert not is_workday(SPRING_FESTIVAL_2027)
    assert "春节" in admin.get("/system/calendar/?year=2027").content.decode()
    entry = CalendarDay.objects.get(date=SPRING_FESTIVAL_2027)
    assert admin.post(f"/system/calendar/{entry.pk}/delete/").status_code == 302
    assert is_workday(SPRING_FESTIVAL_2027)


def test_readers_cannot_change_the_calendar(world):
    reader = make_user(
        "reader", world["A"], make_role("sys_reader", DataScope.ALL, ["system.view"])
    )
    client = client_for(reader)
    assert client.get("/system/calendar/").status_code == 200
    client.post("/system/calendar/", {"date": "2027-02-08", "is_workday": "0", "name": "春节"})
    assert not CalendarDay.objects.exists()
    nobody = client_for(make_user("nobody", world["A"]))
    assert nobody.get("/system/calendar/").status_code == 403
