"""The waste API end to end, as a program uses it (bearer token): a day recorded through it
moves the indicators the dashboard shows."""

import datetime as dt
import json

from django.core.files.uploadedfile import SimpleUploadedFile

from guanjia.canteens import services
from guanjia.canteens.models import WasteRecord

from ..conftest import api_client

V1 = "/api/v1/canteens"


def post(client, url, body):
    return client.post(V1 + url, data=json.dumps(body), content_type="application/json")


def test_a_recorded_day_moves_the_indicators(canteens, users):
    a = canteens["A"]
    client = api_client(users["agency"])
    services.record_diners(None, a, dt.date(2026, 3, 2), 500)
    url = f"/canteens/{a.pk}/waste-indicators?period=2026-03"
    before = {r["key"]: r["value"] for r in client.get(V1 + url).json()["rows"]}
    assert before["canteen.per_capita_kitchen_waste_g"] is None
    r = post(client, "/waste-records", {
        "canteen_id": a.pk, "date": "2026-03-02", "meal": "lunch",
        "entries": [
            {"stream": "plate", "weight_kg": "40"},
            {"stream": "unserved", "weight_kg": "15", "item": "红烧肉"},
            {"stream": "preparation", "weight_kg": "0"},
        ],
    })  # fmt: skip
    assert r.status_code == 201 and len(r.json()) == 2, r.content
    r = post(client, "/plate-observations", {
        "canteen_id": a.pk, "date": "2026-03-02", "trays_observed": 200, "clean_trays": 170,
    })  # fmt: skip
    assert r.status_code == 201, r.content
    after = {r["key"]: r for r in client.get(V1 + url).json()["rows"]}
    # (40 + 15) kg × 1000 ÷ 500 diners = 110 g; 170 ÷ 200 = 85 %; 15 kg on one served day
    assert after["canteen.per_capita_kitchen_waste_g"]["value"] == 110.0
    assert after["canteen.clean_plate_rate"]["value"] == 85.0
    assert after["canteen.discarded_food_kg"]["value"] == 15.0
    assert after["canteen.clean_plate_rate"]["last_year_period"] == "2025-03"
    r = client.get(V1 + f"/canteens/{a.pk}/waste-dashboard?period=2026-03&by=month")
    assert r.json()["trend"][0]["g_per_diner"] == 110.0 and r.json()["target_g"] == 150.0
    r = client.get(V1 + "/waste-records?stream=unserved")
    assert [i["item"] for i in r.json()["items"]] == ["红烧肉"]


def test_refusals(canteens, users):
    a = canteens["A"]
    client = api_client(users["agency"])
    r = post(client, "/waste-records", {
        "canteen_id": a.pk, "date": "2026-03-02",
        "entries": [{"stream": "plate", "weight_kg": "-1"}],
    })  # fmt: skip
    assert r.status_code == 422
    r = post(client, "/plate-observations", {
        "canteen_id": a.pk, "date": "2026-03-02", "trays_observed": 10, "clean_trays": 11,
    })  # fmt: skip
    assert r.status_code == 422
    r = client.get(V1 + f"/canteens/{a.pk}/waste-indicators?period=March")
    assert r.status_code == 422
    assert not WasteRecord.objects.exists()


def test_import_endpoint(canteens, users):
    client = api_client(users["agency"])
    sheet = "食堂,日期,餐次,类别,可食,重量(千克),品名\ndz-centre,2026-03-02,午餐,餐盘剩余,是,-3,\n"
    upload = SimpleUploadedFile("w.csv", sheet.encode())
    r = client.post(V1 + "/waste-records/import", {"file": upload})
    assert r.status_code == 422
    assert r.json() == {
        "imported": 0,
        "errors": [{"row": 2, "column": "重量(千克)", "message": "重量不能为负数"}],
    }
    upload = SimpleUploadedFile("w.csv", sheet.replace("-3", "3").encode())
    r = client.post(V1 + "/waste-records/import", {"file": upload})
    assert r.status_code == 200 and r.json()["imported"] == 1
