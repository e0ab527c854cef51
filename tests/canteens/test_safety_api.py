"""The food safety API end to end (bearer token), and its pages through the test client."""

import datetime as dt
import json

import pytest
from django.test import Client

from guanjia.canteens import safety
from guanjia.canteens.models import KitchenStaff, SafetyFinding

from ..conftest import api_client

V1 = "/api/v1/canteens"


def call(client, method, url, body):
    return getattr(client, method)(V1 + url, data=json.dumps(body), content_type="application/json")


def test_staff_certificates_through_the_api(canteens, users):
    a = canteens["A"]
    client = api_client(users["agency"])
    r = call(client, "post", "/kitchen-staff", {
        "canteen_id": a.pk, "name": "张厨师", "post": "切配",
        "health_cert_expiry": "2020-01-01",
    })  # fmt: skip
    assert r.status_code == 201, r.content
    sid = r.json()["id"]
    alerts = client.get(V1 + "/health-cert-alerts").json()["items"]
    assert [(x["staff_id"], x["state"], x["state_label"]) for x in alerts] == [
        (sid, "expired", "已过期")
    ]
    r = call(client, "patch", f"/kitchen-staff/{sid}", {"health_cert_expiry": "2099-01-01"})
    assert r.status_code == 200 and r.json()["health_cert_expiry"] == "2099-01-01"
    assert client.get(V1 + "/health-cert-alerts").json()["items"] == []
    r = call(client, "post", "/kitchen-staff", {"canteen_id": canteens["B"].pk, "name": "越权"})
    assert r.status_code == 404
    assert not KitchenStaff.objects.filter(name="越权").exists()


def test_samples_are_flagged(canteens, users):
    client = api_client(users["agency"])
    base = {"canteen_id": canteens["A"].pk, "date": "2026-03-02", "keeper": "李"}
    r = call(client, "post", "/samples", base | {"dish_name": "鱼香肉丝", "weight_g": 100})
    assert r.status_code == 201 and r.json()["deviations"] == ["留样量100克，少于125克"]
    call(client, "post", "/samples", base | {"dish_name": "米饭", "weight_g": 150})
    items = client.get(V1 + "/samples?deviating=true").json()["items"]
    assert [i["dish_name"] for i in items] == ["鱼香肉丝"]
    assert len(client.get(V1 + "/samples").json()["items"]) == 2


def test_inspection_findings_and_rectification(canteens, users):
    client = api_client(users["agency"])
    r = call(client, "post", "/inspections", {
        "canteen_id": canteens["A"].pk, "date": "2026-03-01", "inspector": "市场监管所",
        "findings": [{"description": "冷藏柜温度记录缺失", "deadline": "2026-03-05"}],
    })  # fmt: skip
    assert r.status_code == 201, r.content
    finding = r.json()["findings"][0]
    assert finding["state"] == "overdue"  # 5 March has passed
    assert [f["id"] for f in client.get(V1 + "/findings?overdue=true").json()["items"]] == [
        finding["id"]
    ]
    r = call(client, "post", f"/findings/{finding['id']}/rectify", {
        "rectified_on": "2026-03-04", "rectification": "已补录并张贴记录表",
    })  # fmt: skip
    assert r.status_code == 200 and r.json()["state"] == "done"
    assert client.get(V1 + "/findings?overdue=true").json()["items"] == []
    r = call(client, "post", "/disinfections", {
        "canteen_id": canteens["A"].pk, "date": "2026-03-02", "method": "steam", "minutes": 0,
        "operator": "李",
    })  # fmt: skip
    assert r.status_code == 422


@pytest.fixture
def safety_data(canteens):
    a, b = canteens["A"], canteens["B"]
    safety.save_staff(None, a, name="大足厨师", health_cert_expiry=dt.date(2025, 1, 1))
    safety.save_staff(None, b, name="成都厨师", health_cert_expiry=dt.date(2025, 1, 1))
    recent = safety.today() - dt.timedelta(days=2)  # the overview looks 30 days back
    safety.record_sample(None, a, date=recent, dish_name="回锅肉", weight_g=90, kept_hours=48,
                         keeper="李")  # fmt: skip
    safety.record_disinfection(None, a, date=dt.date(2026, 3, 2), method="heat", minutes=15,
                               operator="李")  # fmt: skip
    inspection = safety.record_inspection(
        None, a, date=dt.date(2026, 3, 1), inspector="自查",
        findings=[{"description": "垃圾桶未加盖", "deadline": dt.date(2026, 3, 3)}],
    )  # fmt: skip
    return {"inspection": inspection}


PAGES = [
    "/canteens/safety/",
    "/canteens/safety/disinfection/",
    "/canteens/safety/staff/",
    "/canteens/safety/samples/",
    "/canteens/safety/samples/?deviating=1",
    "/canteens/safety/inspections/",
]


@pytest.mark.parametrize("url", PAGES)
def test_pages_render_within_scope(url, safety_data, users):
    client = Client()
    client.force_login(users["agency"])
    r = client.get(url)
    assert r.status_code == 200
    assert "成都厨师" not in r.content.decode()


def test_overview_flags_and_rectify_form(safety_data, users):
    client = Client()
    client.force_login(users["agency"])
    body = client.get("/canteens/safety/").content.decode()
    assert "大足厨师" in body and "回锅肉" in body and "垃圾桶未加盖" in body
    pk = safety_data["inspection"].pk
    assert client.get(f"/canteens/safety/inspections/{pk}/").status_code == 200
    finding = SafetyFinding.objects.get()
    r = client.post(
        f"/canteens/safety/findings/{finding.pk}/rectify/",
        {"rectified_on": "2026-03-02", "rectification": "已加盖"},
    )
    assert r.status_code == 302
    finding.refresh_from_db()
    assert finding.rectification == "已加盖"
    r = client.post(
        "/canteens/safety/inspections/",
        {"canteen": safety_data["inspection"].canteen_id, "date": "2026-03-05", "kind": "self",
         "inspector": "自查", "findings": "地面湿滑|2026-03-08\n灭蝇灯损坏|不是日期"},
    )  # fmt: skip
    assert r.status_code == 200 and "第2行" in r.content.decode()
