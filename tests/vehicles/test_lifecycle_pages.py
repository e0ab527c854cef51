"""The lifecycle and case pages through Django's test client: they render within the data
scope, and their forms drive the services (approval, import, disposal, case handling)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from guanjia.vehicles import lifecycle
from guanjia.vehicles import signals_private_use as sig
from guanjia.vehicles.models import Maintenance, MisuseCase, Refuelling, Vehicle

from .lifecycle_fixtures import car, fill, shop


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def data(world):
    a, b = world["A"], world["B"]
    old = car(a, plate="渝A70001", purchase_date=dt.date(2015, 1, 1), odometer_km=300000)
    b_car = car(b, plate="川A70002")
    lifecycle.record_inspection(
        None,
        old,
        kind="inspection",
        valid_from=dt.date(2024, 1, 1),
        valid_until=dt.date(2025, 1, 1),
    )
    card = lifecycle.issue_fuel_card(None, agency=a, number="6600000000000001", vehicle=old)
    b_card = lifecycle.issue_fuel_card(None, agency=b, number="6600000000000002", vehicle=b_car)
    fill(card, day="2026-03-01", litres="80", km=Decimal("300100"))
    fill(b_card, day="2026-03-01", litres="90")
    s = shop(a)
    m = lifecycle.request_maintenance(
        None, agency=a, plate=old.plate, shop=s, kind="repair", date=dt.date(2026, 3, 2),
        amount=Decimal("7000"),
    )  # fmt: skip
    sig.detect(None)
    return {"old": old, "b_car": b_car, "maintenance": m, "shop": s}


PAGES = [
    "/vehicles/lifecycle/",
    "/vehicles/lifecycle/?start=2026-01-01&end=2026-04-01",
    "/vehicles/lifecycle/maintenance/",
    "/vehicles/lifecycle/maintenance/?status=requested",
    "/vehicles/lifecycle/inspections/",
    "/vehicles/lifecycle/cards/",
    "/vehicles/lifecycle/refuelling/",
    "/vehicles/lifecycle/shops/",
    "/vehicles/lifecycle/disposal/",
    "/vehicles/cases/",
    "/vehicles/cases/?rule=fuel_tank_overfill&status=open",
]


@pytest.mark.parametrize("url", PAGES)
def test_pages_render_within_scope(url, users, data):
    r = client_for(users["agency"]).get(url)
    assert r.status_code == 200, r.content[:500]
    body = r.content.decode()
    assert "<main" in body and "川A70002" not in body  # B's car never shows


def test_overview_shows_reminder_approval_disposal_and_costs(users, data):
    body = client_for(users["agency"]).get("/vehicles/lifecycle/?start=2026-01-01&end=2026-04-01")
    text = body.content.decode()
    assert "渝A70001" in text and "已过期" in text
    assert "7000" in text  # the request waiting for approval
    assert "大足区机关事务管理中心" in text  # the cost table by agency


def test_tco_export_is_an_excel_file(users, data):
    from io import BytesIO

    from openpyxl import load_workbook

    r = client_for(users["agency"]).get(
        "/vehicles/lifecycle/tco.xlsx?start=2026-01-01&end=2026-04-01"
    )
    assert r.status_code == 200 and r.content.startswith(b"PK")
    ws = load_workbook(BytesIO(r.content)).active
    assert ws.cell(3, 1).value == "大足区机关事务管理中心"


def test_approval_through_the_page_by_someone_else(users, data):
    m = data["maintenance"]
    client = client_for(users["agency"])
    r = client.post(f"/vehicles/lifecycle/maintenance/{m.pk}/decide/", {"action": "approve"})
    assert r.status_code == 302
    m.refresh_from_db()
    assert m.status == Maintenance.Status.APPROVED and m.approver == users["agency"]


def test_new_request_from_the_page(users, data, world):
    client = client_for(users["agency"])
    r = client.post(
        "/vehicles/lifecycle/maintenance/",
        {
            "agency": world["A"].pk, "plate": "渝A70001", "shop": data["shop"].pk,
            "kind": "service", "date": "2026-03-09", "amount": "450",
        },
    )  # fmt: skip
    assert r.status_code == 302, r.content.decode()[:2000]
    assert Maintenance.objects.get(date=dt.date(2026, 3, 9)).status == "done"


def test_statement_upload_refused_whole_then_accepted(users, data):
    client = client_for(users["agency"])
    head = "加油时间,卡号,加油量(升),金额(元)\n"
    bad = head + "2026-03-05,6600000000000001,30,234\n坏日期,6600000000000001,30,234\n"
    r = client.post(
        "/vehicles/lifecycle/refuelling/", {"file": SimpleUploadedFile("s.csv", bad.encode())}
    )
    assert r.status_code == 200 and "未导入任何数据" in r.content.decode()
    before = Refuelling.objects.count()
    good = head + "2026-03-05,6600000000000001,30,234\n"
    r = client.post(
        "/vehicles/lifecycle/refuelling/", {"file": SimpleUploadedFile("s.csv", good.encode())}
    )
    assert r.status_code == 302 and Refuelling.objects.count() == before + 1


def test_dispose_from_the_page(users, data):
    old = data["old"]
    r = client_for(users["agency"]).post(
        f"/vehicles/lifecycle/disposal/{old.pk}/",
        {
            "disposed_on": "2026-03-10",
            "method": "auction",
            "proceeds": "6000",
            "reason": "到期更新",
        },
    )
    assert r.status_code == 302
    assert Vehicle.objects.get(pk=old.pk).status == Vehicle.Status.DISPOSED
    r = client_for(users["agency"]).post(
        f"/vehicles/lifecycle/disposal/{data['b_car'].pk}/",
        {"disposed_on": "2026-03-10", "method": "auction", "proceeds": "0", "reason": "越权"},
    )
    assert r.status_code == 404


def test_case_detail_shows_evidence_and_dismissal_needs_a_reason(users, data):
    case = MisuseCase.objects.get(rule=sig.TANK, vehicle=data["old"])
    client = client_for(users["agency"])
    r = client.get(f"/vehicles/cases/{case.pk}/")
    text = r.content.decode()
    assert (
        r.status_code == 200
        and "第二十六条" in text
        and "80" in text
        and "6600000000000001" in text
    )
    r = client.post(f"/vehicles/cases/{case.pk}/", {"action": "dismiss", "note": ""})
    assert r.status_code == 200 and "理由" in r.content.decode()
    assert MisuseCase.objects.get(pk=case.pk).status == "open"
    r = client.post(f"/vehicles/cases/{case.pk}/", {"action": "dismiss", "note": "副油箱已备案"})
    assert r.status_code == 302
    assert MisuseCase.objects.get(pk=case.pk).resolution == "副油箱已备案"
    b_case = MisuseCase.objects.get(vehicle=data["b_car"], rule=sig.TANK)
    assert client.get(f"/vehicles/cases/{b_case.pk}/").status_code == 404


def test_pages_need_the_permission(users, data):
    client = client_for(users["norole"])
    assert client.get("/vehicles/lifecycle/").status_code == 403
    assert client.get("/vehicles/cases/").status_code == 403
