"""The verdicts page: an agency's verdicts in scope, recompute, Excel export."""

import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from guanjia.core.indicator_registry import Period
from guanjia.evaluation import services

from .test_requirements import _day

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_page_shows_recomputes_and_exports_within_scope(world, users, standards, canteen):
    _day(canteen, 1000, "120", clean=80)
    client = client_for(users["agency_and_below"])
    url = f"/evaluation/?agency={world['A'].pk}&period=2026-09"
    assert "尚无结论" in client.get(url).content.decode()
    r = client.post("/evaluation/recompute/", {"agency": world["A"].pk, "period": "2026-09"})
    assert r.status_code == 302
    page = client.get(url).content.decode()
    assert "DB50/T 9001—2022" in page and "光盘率" in page and 'data-status="fail"' in page
    sheet = load_workbook(io.BytesIO(client.get(url.replace("/?", "/export/?")).content)).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert {r[1] for r in rows} == {"7.2", "8.2"}
    # Agency B is not among the choices of a user of A: nothing of B is shown.
    services.evaluate_and_store(world["B"], Period.parse("2026-09"))
    other = client.get(f"/evaluation/?agency={world['B'].pk}&period=2026-09").content.decode()
    assert "DB51/T 9002—2021" not in other
    r = client.post("/evaluation/recompute/", {"agency": world["B"].pk, "period": "2026-09"})
    assert r.status_code == 302  # refused by the form: B is not a valid choice
