"""Diner counts: entry, the card-swipe import (all or nothing, with row errors), the canteen
and forecast pages and the API, each within the data scope."""

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import Workbook, load_workbook

from guanjia.canteens import diners_io, forecasts, services, synthetic
from guanjia.canteens.models import DinerCount, Forecast

from ..conftest import api_client

pytestmark = pytest.mark.django_db
TODAY = dt.date.today()


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def csv_file(text: str, name="swipes.csv"):
    return SimpleUploadedFile(name, text.encode("utf-8"))


def test_import_reads_a_card_swipe_export_and_updates_on_reimport(canteens, users):
    body = (
        "食堂,日期,餐次,就餐人数\n"
        "dz-centre,2026-03-02,午餐,2810\n"
        "大足区机关中心食堂,2026-03-02,早餐,1200\n"
    )
    result = diners_io.import_diners(users["agency"], csv_file(body))
    assert result == {"imported": 2, "errors": []}
    again = diners_io.import_diners(
        users["agency"], csv_file("食堂,日期,就餐人数\ndz-centre,2026-03-02,2790\n")
    )
    assert again["imported"] == 1
    row = DinerCount.objects.get(canteen=canteens["A"], date=dt.date(2026, 3, 2), meal="lunch")
    assert (row.diners, row.source) == (2790, "import")


def test_a_bad_import_is_refused_whole_with_row_errors(canteens, users):
    future = (TODAY + dt.timedelta(days=2)).isoformat()
    body = (
        "食堂,日期,餐次,就餐人数\n"
        "dz-centre,2026-03-02,午餐,2810\n"  # fine
        "不存在的食堂,2026-03-02,午餐,100\n"  # unknown canteen
        "dz-centre,2026-03-03,午餐,-5\n"  # negative
        f"dz-centre,{future},午餐,100\n"  # future
        "dz-centre,2026-03-04,夜宵,100\n"  # unknown meal
        "dz-centre,2026-03-02,午餐,2000\n"  # the same day twice
        "cd-bureau,2026-03-02,午餐,300\n"  # B's canteen, outside the user's scope
    )
    before = DinerCount.objects.count()
    result = diners_io.import_diners(users["agency"], csv_file(body))
    assert result["imported"] == 0
    assert {(e["row"], e["column"]) for e in result["errors"]} == {
        (3, "食堂"), (4, "就餐人数"), (5, "日期"), (6, "餐次"), (7, "日期"), (8, "食堂"),
    }  # fmt: skip
    assert DinerCount.objects.count() == before


def test_import_reads_xlsx(canteens, users):
    book = Workbook()
    book.active.append(["食堂", "日期", "就餐人数"])
    book.active.append(["dz-centre", dt.datetime(2026, 3, 5), 2700])
    out = io.BytesIO()
    book.save(out)
    upload = SimpleUploadedFile("swipes.xlsx", out.getvalue())
    assert diners_io.import_diners(users["agency"], upload, "swipes.xlsx")["imported"] == 1


def test_counts_cannot_be_negative_or_in_the_future(canteens):
    with pytest.raises(services.ValidationError):
        services.record_diners(None, canteens["A"], TODAY + dt.timedelta(days=1), 10)
    with pytest.raises(services.ValidationError):
        services.record_diners(None, canteens["A"], TODAY, -1)


def test_canteen_page_records_a_day_within_scope(canteens, users):
    client = client_for(users["agency"])
    a = canteens["A"]
    r = client.post(
        f"/canteens/{a.pk}/",
        {"form": "diners", "date": "2026-03-02", "meal": "lunch", "diners": 2805},
    )
    assert r.status_code == 302
    assert DinerCount.objects.get(canteen=a, date=dt.date(2026, 3, 2)).diners == 2805
    assert client.get(f"/canteens/{canteens['B'].pk}/").status_code == 404
    listing = client.get("/canteens/").content.decode()
    assert a.name in listing and canteens["B"].name not in listing


def test_upload_page_shows_row_errors_and_writes_nothing(canteens, users):
    client = client_for(users["agency"])
    r = client.post(
        "/canteens/diners/upload/", {"file": csv_file("食堂,日期,就餐人数\nnope,2026-03-02,1\n")}
    )
    assert r.status_code == 200 and "找不到食堂" in r.content.decode()
    assert not DinerCount.objects.exists()


def _history(canteen, days=120):
    for day, n in synthetic.series(
        21, TODAY - dt.timedelta(days=days), TODAY - dt.timedelta(days=1), staff=900
    ):
        services.record_diners(None, canteen, day, n)


def test_forecast_page_refresh_and_export(canteens, users):
    a = canteens["A"]
    _history(a)
    client = client_for(users["agency"])
    assert client.post(f"/canteens/{a.pk}/forecast/refresh/").status_code == 302
    assert Forecast.objects.filter(canteen=a, date__gte=TODAY).count() == 14
    page = client.get(f"/canteens/{a.pk}/forecast/")
    assert page.status_code == 200 and "P10–P90" in page.content.decode()
    export = client.get(f"/canteens/{a.pk}/forecast/export/")
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert sheet.cell(1, 3).value == "预测人数"
    days = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True) if row[2] is not None]
    assert len(days) == 14
    assert client.get(f"/canteens/{canteens['B'].pk}/forecast/").status_code == 404


def test_api_posts_counts_and_reads_forecast_against_actual(canteens, users):
    a = canteens["A"]
    _history(a, days=60)
    forecasts.refresh(None, a, origin=TODAY - dt.timedelta(days=7))
    client = api_client(users["agency"])
    day = TODAY - dt.timedelta(days=3)
    planned = Forecast.objects.get(canteen=a, date=day).p50
    r = client.post(
        f"/api/v1/canteens/canteens/{a.pk}/diners",
        {"date": day.isoformat(), "diners": planned + 10},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    body = client.get(f"/api/v1/canteens/canteens/{a.pk}/forecast").json()
    row = next(d for d in body["days"] if d["date"] == day.isoformat())
    assert (row["forecast"], row["actual"]) == (planned, planned + 10)
    assert body["deviation_rate"] is not None
    assert client.get(f"/api/v1/canteens/canteens/{canteens['B'].pk}/forecast").status_code == 404


def test_cli_imports_into_one_canteen_and_exits_1_on_errors(canteens, tmp_path):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    good = tmp_path / "swipes.csv"
    good.write_text("日期,就餐人数\n2026-03-02,2810\n2026-03-03,2790\n", encoding="utf-8")
    call_command("canteen", "diners-import", str(good), "--canteen", "dz-centre", "--json")
    assert DinerCount.objects.filter(canteen=canteens["A"]).count() == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("日期,就餐人数\n2026-03-04,100\n2026-03-05,-1\n", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("canteen", "diners-import", str(bad), "--canteen", "dz-centre", "--json")
    assert DinerCount.objects.filter(canteen=canteens["A"]).count() == 2


def test_a_canteen_manager_adds_and_edits_canteens_of_their_own_agency(world):
    from guanjia.canteens.models import Canteen
    from guanjia.core.scope import DataScope

    from ..conftest import make_role, make_user

    role = make_role("canteen_mgr", DataScope.AGENCY_AND_BELOW, ["canteens.*", "org.view"])
    client = client_for(make_user("mgr", world["A"], role))
    form = client.get("/canteens/new/").content.decode()
    assert world["A"].name in form and world["B"].name not in form
    fields = {
        "name": "大足区财政局食堂", "code": "dz-finance", "meals": "lunch", "mode": "self_run",
        "capacity": 100, "staff_served": 200, "rule_meat": 3, "rule_veg": 2, "rule_staple": 1,
        "rule_soup": 1, "rule_fruit": 1, "no_repeat_days": 7, "safety_margin_pct": 5,
        "waste_target_g": 150, "is_active": "on",
    }  # fmt: skip
    r = client.post("/canteens/new/", fields | {"agency": world["A1"].pk})
    assert r.status_code == 302, r.content.decode()[:2000]
    canteen = Canteen.objects.get(code="dz-finance")
    assert canteen.agency == world["A1"]
    r = client.post(
        f"/canteens/{canteen.pk}/edit/", fields | {"agency": world["A1"].pk, "capacity": 120}
    )
    assert r.status_code == 302
    canteen.refresh_from_db()
    assert canteen.capacity == 120
    # Not into agency B.
    r = client.post("/canteens/new/", fields | {"code": "cd-x", "agency": world["B"].pk})
    assert r.status_code == 200 and not Canteen.objects.filter(code="cd-x").exists()
