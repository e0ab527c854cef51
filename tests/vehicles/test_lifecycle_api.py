"""The lifecycle and cases API end to end, as a program uses it (bearer token)."""

import datetime as dt
import json
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from guanjia.core.indicator_registry import IndicatorScope, Period, get_indicator
from guanjia.vehicles import lifecycle
from guanjia.vehicles.models import MisuseCase

from ..conftest import api_client
from .lifecycle_fixtures import car, fill, shop

V1 = "/api/v1/vehicles"


def post(client, url, body):
    return client.post(V1 + url, data=json.dumps(body), content_type="application/json")


def test_maintenance_request_approve_complete(world, users):
    a = world["A"]
    c, s = car(a, plate="渝A80001"), shop(a)
    clerk, boss = api_client(users["agency"]), api_client(users["agency_and_below"])
    body = {"plate": "渝A80001", "shop_id": s.pk, "kind": "repair", "date": "2026-03-02"}
    r = post(clerk, "/maintenance", body | {"amount": "12000"})
    assert r.status_code == 201 and r.json()["status"] == "requested", r.content
    mid = r.json()["id"]
    assert r.json()["vehicle_id"] == c.pk and r.json()["agency_id"] == a.pk
    r = post(clerk, f"/maintenance/{mid}/approve", {})
    assert r.status_code == 422 and "申请人以外" in str(r.json()["detail"])
    r = post(boss, f"/maintenance/{mid}/approve", {"note": "同意"})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    r = post(clerk, f"/maintenance/{mid}/complete", {"amount": "11800"})
    assert r.status_code == 200 and r.json()["status"] == "done"
    r = clerk.get(V1 + "/maintenance?status=done")
    assert [i["id"] for i in r.json()["items"]] == [mid]
    r = post(clerk, "/maintenance", body | {"amount": "200", "shop_id": s.pk + 999})
    assert r.status_code == 404


def test_card_bind_conflict_and_unbind(world, users):
    a = world["A"]
    c = car(a)
    client = api_client(users["agency"])
    r = post(client, "/fuel-cards", {"number": "5500000000000001", "vehicle_id": c.pk})
    assert r.status_code == 201 and r.json()["plate"] == c.plate
    r = post(client, "/fuel-cards", {"number": "5500000000000002"})
    second = r.json()["id"]
    r = post(client, f"/fuel-cards/{second}/bind", {"vehicle_id": c.pk})
    assert r.status_code == 422 and "一车一卡" in str(r.json()["detail"])
    first = client.get(V1 + "/fuel-cards?unbound=false").json()["items"][0]["id"]
    assert post(client, f"/fuel-cards/{first}/bind", {"vehicle_id": None}).status_code == 200
    r = post(client, f"/fuel-cards/{second}/bind", {"vehicle_id": c.pk})
    assert r.status_code == 200 and r.json()["vehicle_id"] == c.pk


def test_import_returns_the_row_errors_with_422(world, users):
    client = api_client(users["agency"])
    content = "加油时间,车牌号,加油量(升),金额(元)\n2026-03-01,渝A1,x,1\n".encode()
    r = client.post(
        V1 + "/refuellings/import",
        {"file": SimpleUploadedFile("s.csv", content), "agency_id": world["A"].pk},
    )
    assert r.status_code == 422
    assert r.json()["imported"] == 0
    assert r.json()["errors"] == [{"row": 2, "column": "加油量(升)", "message": "“x”不是数字"}]


def test_detect_then_dismiss_with_reason(world, users):
    a = world["A"]
    c = car(a, plate="渝A80009")
    card = lifecycle.issue_fuel_card(None, agency=a, number="5500000000000009", vehicle=c)
    fill(card, litres="70")
    client = api_client(users["agency"])
    r = post(client, "/cases/detect", {"rules": ["fuel_tank_overfill"]})
    assert r.status_code == 200 and r.json()["opened"] == {"fuel_tank_overfill": 1}
    assert post(client, "/cases/detect", {"rules": ["nope"]}).status_code == 422
    [item] = client.get(V1 + "/cases?status=open").json()["items"]
    assert item["rule_label"] == "单次加油量超过油箱容积" and item["plate"] == "渝A80009"
    detail = client.get(V1 + f"/cases/{item['id']}").json()
    assert detail["evidence"]["litres"] == 70.0
    assert post(client, f"/cases/{item['id']}/dismiss", {"reason": " "}).status_code == 422
    r = post(client, f"/cases/{item['id']}/dismiss", {"reason": "核对为加油站录入错误"})
    assert r.status_code == 200 and r.json()["status"] == "dismissed"
    assert post(client, f"/cases/{item['id']}/verify", {}).status_code == 422
    assert post(client, "/cases/detect", {}).json()["opened"]["fuel_tank_overfill"] == 0


def test_tco_and_reminders_endpoints(world, users):
    a = world["A"]
    c = car(a, purchase_price=Decimal("146100"), purchase_date=dt.date(2022, 1, 1))
    lifecycle.record_inspection(
        None, c, kind="compulsory", valid_from=dt.date(2025, 3, 1),
        valid_until=dt.date(2026, 2, 28), cost=Decimal("950"),
    )  # fmt: skip
    client = api_client(users["agency"])
    r = client.get(V1 + "/tco?start=2026-03-01&end=2026-04-01&by=vehicle")
    [row] = r.json()["items"]
    assert row["plate"] == c.plate and Decimal(str(row["purchase"])) == Decimal("1550.00")
    r = client.get(V1 + "/reminders?days=0")
    assert [(i["plate"], i["state"]) for i in r.json()["items"]] == [(c.plate, "expired")]


def test_indicators(world, users):
    a = world["A"]
    c = car(a)
    card = lifecycle.issue_fuel_card(None, agency=a, number="5500000000000011", vehicle=c)
    fill(card, day="2026-03-01", litres="40", km=Decimal("1000"))
    fill(card, day="2026-03-20", litres="90", km=Decimal("1500"))  # overfill + over norm
    lifecycle.record_inspection(
        None, c, kind="inspection", valid_from=dt.date(2025, 1, 1), valid_until=dt.date(2026, 1, 31)
    )
    from guanjia.vehicles.signals_private_use import detect

    detect(None)
    scope, march = IndicatorScope(a, user=users["agency"]), Period.parse("2026-03")
    assert get_indicator("vehicles.private_use_cases").compute(scope, march) == 2.0
    MisuseCase.objects.filter(rule="fuel_over_norm").update(status="dismissed")
    assert get_indicator("vehicles.private_use_cases").compute(scope, march) == 1.0
    assert get_indicator("vehicles.inspection_overdue_count").compute(scope, march) == 1.0
    assert get_indicator("vehicles.insurance_overdue_count").compute(scope, march) is None
    assert get_indicator("vehicles.fuel_per_100km").compute(scope, march) == 18.0
    per_km = get_indicator("vehicles.cost_per_km").compute(scope, march)
    assert per_km is not None and per_km > 0
    b_scope = IndicatorScope(world["B"], user=users["agency"])
    assert get_indicator("vehicles.cost_per_km").compute(b_scope, march) is None
