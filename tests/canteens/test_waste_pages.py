"""The waste pages through Django's test client: they render within the data scope, the
day's form records several streams and a clean-plate observation, the import refuses a
bad sheet whole, and the exports are real workbooks."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import load_workbook

from guanjia.canteens import services, waste
from guanjia.canteens.models import PlateObservation, WasteRecord

D1 = dt.date(2026, 3, 2)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def data(canteens):
    a, b = canteens["A"], canteens["B"]
    services.record_diners(None, a, D1, 1000)
    waste.record_weighing(None, a, date=D1, stream="plate", weight_kg=Decimal("60"), item="米饭")
    waste.record_weighing(None, b, date=D1, stream="plate", weight_kg=Decimal("7"), item="成都面")
    waste.record_plate_observation(None, a, date=D1, trays_observed=100, clean_trays=80)
    return canteens


PAGES = [
    "/canteens/waste/",
    "/canteens/waste/?stream=plate&edible=1&start=2026-03-01&end=2026-04-01",
    "/canteens/waste/today/",
    "/canteens/waste/plates/",
    "/canteens/waste/dashboard/",
]


@pytest.mark.parametrize("url", PAGES)
def test_pages_render(url, data, users):
    r = client_for(users["agency"]).get(url)
    assert r.status_code in (200, 302), r.content[:500]


def test_list_shows_own_agency_only(data, users):
    body = client_for(users["agency"]).get("/canteens/waste/").content.decode()
    assert "米饭" in body and "成都面" not in body


def test_entry_page_shows_what_counts_as_clean(data, users):
    body = client_for(users["agency"]).get("/canteens/waste/today/").content.decode()
    assert "骨头" in body and "光盘" in body


def test_today_form_records_several_streams(data, users):
    a = data["A"]
    r = client_for(users["agency"]).post(
        "/canteens/waste/today/",
        {
            "form": "weigh", "canteen": a.pk, "date": "2026-03-03", "meal": "lunch",
            "preparation_edible": "", "preparation_inedible": "4.5", "preparation_item": "菜根",
            "plate_edible": "12", "plate_inedible": "1.5",
        },
    )  # fmt: skip
    assert r.status_code == 302, r.content[:800]
    got = WasteRecord.objects.filter(date=dt.date(2026, 3, 3))
    assert sorted((w.stream, w.edible, w.weight_kg) for w in got) == [
        ("plate", False, Decimal("1.500")),
        ("plate", True, Decimal("12.000")),
        ("preparation", False, Decimal("4.500")),
    ]


def test_today_form_refuses_another_agencys_canteen(data, users):
    r = client_for(users["agency"]).post(
        "/canteens/waste/today/",
        {"form": "weigh", "canteen": data["B"].pk, "date": "2026-03-03", "meal": "lunch",
         "plate_edible": "3"},
    )  # fmt: skip
    assert r.status_code == 200  # the form again, B not among the choices
    assert not WasteRecord.objects.filter(date=dt.date(2026, 3, 3)).exists()


def test_plate_form(data, users):
    c = client_for(users["agency"])
    body = {
        "form": "plate", "plate-canteen": data["A"].pk, "plate-date": "2026-03-03",
        "plate-meal": "lunch", "plate-trays_observed": "50", "plate-clean_trays": "60",
    }  # fmt: skip
    r = c.post("/canteens/waste/today/", body)
    assert r.status_code == 200 and "光盘数不能多于观察餐盘数" in r.content.decode()
    body["plate-clean_trays"] = "45"
    assert c.post("/canteens/waste/today/", body).status_code == 302
    assert PlateObservation.objects.get(date=dt.date(2026, 3, 3)).clean_trays == 45


def test_upload_refused_whole(data, users):
    sheet = (
        "食堂,日期,餐次,类别,可食,重量(千克),品名\n"
        "dz-centre,2026-03-03,午餐,餐盘剩余,是,10,米饭\n"
        "dz-centre,2026-03-03,午餐,餐盘剩余,是,-2,米饭\n"
    )
    upload = SimpleUploadedFile("w.csv", sheet.encode())
    r = client_for(users["agency"]).post("/canteens/waste/", {"file": upload})
    body = r.content.decode()
    assert r.status_code == 200 and "重量不能为负数" in body
    assert not WasteRecord.objects.filter(date=dt.date(2026, 3, 3)).exists()


def test_export_reads_back_with_the_filters(data, users):
    r = client_for(users["agency"]).get("/canteens/waste/export.xlsx?stream=plate")
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:7] == ("食堂", "日期", "餐次", "类别", "可食", "重量(千克)", "品名")
    assert [(r[0], r[5], r[6]) for r in rows[1:]] == [("大足区机关中心食堂", 60, "米饭")]


def test_dashboard_and_its_exports(data, users):
    c = client_for(users["agency"])
    url = f"/canteens/{data['A'].pk}/waste/?period=2026-03&by=week"
    r = c.get(url)
    body = r.content.decode()
    assert r.status_code == 200 and "waste-chart-data" in body and "echarts" in body
    assert "60.0" in body  # 60 kg × 1000 ÷ 1000 diners = 60 g per diner
    r = c.get(f"/canteens/{data['A'].pk}/waste/export.xlsx?period=2026-03&chart=trend")
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["人均餐厨垃圾量趋势"]
    assert list(wb.active.iter_rows(values_only=True))[1] == ("2026-03-02", 60, 1000, 60, 150)
    r = c.get(f"/canteens/{data['A'].pk}/waste/export.xlsx?period=2026-03")
    assert len(load_workbook(io.BytesIO(r.content)).sheetnames) == 5
    assert c.get(f"/canteens/{data['B'].pk}/waste/").status_code == 404
