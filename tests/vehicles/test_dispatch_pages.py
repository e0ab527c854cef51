"""The dispatch pages through Django's test client: who sees which requests and actions,
the board's sections and its query count, the assignment panel, the printable 派车单."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guanjia.vehicles import dispatch
from guanjia.vehicles.models import TripRequest

from .dispatch_helpers import at, new_driver, new_vehicle, people_fixture, soon, trip  # noqa: F401

S = TripRequest.Status


def text(r) -> str:
    return r.content.decode()


@pytest.fixture
def staff_page(client_for, people):
    return client_for(people["staff"])


@pytest.fixture
def fleet_page(client_for, people):
    return client_for(people["fleet"])


@pytest.fixture
def client_for():
    from django.test import Client

    def make(user):
        c = Client()
        c.force_login(user)
        return c

    return make


def test_request_form_files_a_request_and_shows_it(staff_page, people, world):
    r = staff_page.get("/vehicles/trips/new/")
    assert r.status_code == 200 and "申请用车" in text(r) and world["A1"].name in text(r)
    start = timezone.localtime(soon())
    r = staff_page.post(
        "/vehicles/trips/new/",
        {
            "purpose": "赴区政府汇报",
            "passengers": 2,
            "origin": "区财政局",
            "destination": "区政府",
            "start_at": start.strftime("%Y-%m-%dT%H:%M"),
            "end_at": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    t = TripRequest.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/vehicles/trips/{t.pk}/"
    page = text(staff_page.get(r["Location"]))
    assert t.number in page and "待审批" in page and "赴区政府汇报" in page
    assert "审批通过" not in page and "取消申请" in page  # staff may cancel, not approve


def test_request_form_shows_the_services_refusal(staff_page):
    start = timezone.localtime(soon())
    r = staff_page.post(
        "/vehicles/trips/new/",
        {
            "purpose": "x",
            "passengers": 1,
            "origin": "甲",
            "destination": "乙",
            "start_at": start.strftime("%Y-%m-%dT%H:%M"),
            "end_at": (start - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert r.status_code == 200 and "用车结束时间应晚于开始时间" in text(r)
    assert not TripRequest.objects.exists()


def test_list_shows_own_requests_to_staff_and_the_agencys_to_the_manager(
    staff_page, fleet_page, people, world
):
    mine = trip(people["staff"], at(2, 9), purpose="我的申请")
    theirs = trip(people["staff2"], at(3, 9), purpose="同事的申请")
    b = trip(people["b_fleet"], at(3, 9), agency=world["B"], purpose="成都的申请")
    page = text(staff_page.get("/vehicles/trips/"))
    assert mine.number in page and theirs.number not in page and b.number not in page
    page = text(fleet_page.get("/vehicles/trips/"))
    assert mine.number in page and theirs.number in page and b.number not in page
    assert fleet_page.get(f"/vehicles/trips/{b.pk}/").status_code == 404
    assert staff_page.get(f"/vehicles/trips/{theirs.pk}/").status_code == 404
    page = text(fleet_page.get("/vehicles/trips/?date_from=2026-03-03&date_to=2026-03-03"))
    assert theirs.number in page and mine.number not in page


def test_staff_cannot_open_the_board_or_approve(staff_page, people):
    t = trip(people["staff2"], soon())
    assert staff_page.get("/vehicles/dispatch/").status_code == 403
    mine = trip(people["staff"], soon())
    r = staff_page.post(f"/vehicles/trips/{mine.pk}/approve/")
    assert r.status_code == 302
    mine.refresh_from_db()
    assert mine.status == S.REQUESTED
    assert staff_page.post(f"/vehicles/trips/{t.pk}/approve/").status_code == 404


def test_board_sections_and_actions(fleet_page, people, world):
    car, driver = new_vehicle(world["A"], "渝A70001"), new_driver(world["A"], "王师傅")
    pending = trip(people["staff"], soon(2), purpose="待审批的")
    waiting = dispatch.approve(people["fleet"], trip(people["staff"], soon(3)))
    assigned = dispatch.approve(people["fleet"], trip(people["staff"], soon(5)))
    dispatch.assign(people["fleet"], assigned, car, driver)
    far = dispatch.approve(people["fleet"], trip(people["staff"], soon(24 * 30)))
    page = text(fleet_page.get("/vehicles/dispatch/"))
    for t in (pending, waiting, assigned):
        assert t.number in page
    assert far.number not in page  # beyond the two-week horizon

    r = fleet_page.post(f"/vehicles/trips/{pending.pk}/approve/", {"next": "/vehicles/dispatch/"})
    assert r.status_code == 302 and r["Location"] == "/vehicles/dispatch/"
    pending.refresh_from_db()
    assert pending.status == S.APPROVED
    r = fleet_page.post(f"/vehicles/trips/{pending.pk}/approve/", {"next": "https://evil.example/"})
    assert r["Location"] == f"/vehicles/trips/{pending.pk}/"  # no open redirect
    assert "不能审批" in text(fleet_page.get(r["Location"]))

    fleet_page.post(f"/vehicles/trips/{assigned.pk}/start/", {"odometer_km": ""})
    assigned.refresh_from_db()
    assert assigned.status == S.IN_PROGRESS
    r = fleet_page.post(f"/vehicles/trips/{assigned.pk}/end/", {"odometer_km": "-5"})
    assert "超出范围" in text(fleet_page.get(r["Location"]))
    fleet_page.post(f"/vehicles/trips/{assigned.pk}/end/", {"odometer_km": "25"})
    assigned.refresh_from_db()
    assert assigned.status == S.COMPLETED and assigned.end_odometer_km == 25


def test_assign_panel_suggests_and_assigns(fleet_page, people, world):
    car, driver = new_vehicle(world["A"], "渝A70002"), new_driver(world["A"], "李师傅")
    start = soon()
    t = dispatch.approve(people["fleet"], trip(people["staff"], start))
    mate = dispatch.approve(people["fleet"], trip(people["staff2"], start))
    r = fleet_page.get(f"/vehicles/dispatch/{t.pk}/assign/", HTTP_HX_REQUEST="true")
    page = text(r)
    assert r.status_code == 200 and "<html" not in page  # a fragment for htmx
    assert "渝A70002" in page and "李师傅" in page and mate.number in page
    full = text(fleet_page.get(f"/vehicles/dispatch/{t.pk}/assign/"))
    assert "<html" in full and "渝A70002" in full

    r = fleet_page.post(
        f"/vehicles/dispatch/{t.pk}/assign/",
        {"vehicle_id": car.pk, "driver_id": driver.pk, "pool_with_id": mate.pk},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 204 and r["HX-Redirect"] == "/vehicles/dispatch/"
    t.refresh_from_db()
    mate.refresh_from_db()
    assert t.vehicle == mate.vehicle == car and t.pool_lead == mate.pool_lead


def test_assign_panel_shows_conflicts(fleet_page, people, world):
    car = new_vehicle(world["A"], "渝A70003", status="sealed")
    driver = new_driver(world["A"])
    t = dispatch.approve(people["fleet"], trip(people["staff"], soon()))
    r = fleet_page.post(
        f"/vehicles/dispatch/{t.pk}/assign/", {"plate": "渝A70003", "driver_id": driver.pk}
    )
    assert r.status_code == 200 and "渝A70003 处于“封存”状态" in text(r)
    r = fleet_page.post(f"/vehicles/dispatch/{t.pk}/assign/", {"plate": "川Z99999"})
    assert "未找到车牌号为 川Z99999 的车辆" in text(r)
    t.refresh_from_db()
    assert t.status == S.APPROVED
    del car


def test_rating_and_print(staff_page, fleet_page, people, world):
    car, driver = new_vehicle(world["A"], "渝A70004"), new_driver(world["A"], "张师傅")
    t = dispatch.approve(people["fleet"], trip(people["staff"], soon(), purpose="送审材料"))
    dispatch.assign(people["fleet"], t, car, driver)
    dispatch.start(people["fleet"], t, 100)
    dispatch.end(people["fleet"], t, 142)
    page = text(staff_page.get(f"/vehicles/trips/{t.pk}/"))
    assert 'id="rate-form"' in page and "42.0 公里" in page
    assert 'id="rate-form"' not in text(fleet_page.get(f"/vehicles/trips/{t.pk}/"))
    staff_page.post(f"/vehicles/trips/{t.pk}/rate/", {"rating": "4", "comment": "很好"})
    t.refresh_from_db()
    assert t.rating == 4
    slip = text(staff_page.get(f"/vehicles/trips/{t.pk}/print/"))
    for expected in (
        "公务用车派车单",
        t.number,
        world["A1"].name,
        "送审材料",
        "渝A70004",
        "张师傅",
        "fleet",  # approver and dispatcher
        "用车人签字",
        "驾驶员签字",
        "@media print",
    ):
        assert expected in slip, expected


def test_board_queries_do_not_grow_with_rows(fleet_page, people, world):
    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert fleet_page.get("/vehicles/dispatch/").status_code == 200
        return len(ctx)

    def add(n, offset):
        for i in range(n):
            car = new_vehicle(world["A"])
            driver = new_driver(world["A"])
            trip(people["staff"], soon(offset + i))
            approved = dispatch.approve(people["fleet"], trip(people["staff2"], soon(offset + i)))
            run = dispatch.approve(people["fleet"], trip(people["staff"], soon(offset + i)))
            dispatch.assign(people["fleet"], run, car, driver)
            del approved

    add(1, 1)
    before = queries()
    add(5, 3)
    assert queries() == before
