"""Dashboard pages: each role lands on its home at "/", within its scope; the 大屏 needs
evaluation.view; every dashboard exports its tables to Excel."""

import io
import json

import pytest
from django.test import Client
from openpyxl import load_workbook

from guanjia.core.scope import DataScope

from ..conftest import make_role, make_user
from .dashboard_fixtures import role_user, store_verdicts

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def board_of(response) -> dict:
    body = response.content.decode()
    start = body.index('<script id="dashboard-data" type="application/json">')
    text = body[start:].split(">", 1)[1].split("</script>", 1)[0]
    return json.loads(text)


@pytest.mark.parametrize(
    ("kind", "title", "charts"),
    [
        ("leader", "标准化达标总览", ["chart-compliance-map", "chart-ranking"]),
        ("fleet", "车辆监控与违规处置", ["chart-live", "chart-cases"]),
        ("canteen", "食堂就餐预测与反浪费", ["chart-forecast", "chart-waste"]),
        ("standards", "标准化工作概览", ["chart-coverage", "chart-drafts"]),
    ],
)
def test_each_role_lands_on_its_dashboard(world, kind, title, charts):
    client = client_for(role_user(kind, world["A"]))
    home = client.get("/")
    assert home.status_code == 200
    body = home.content.decode()
    assert f"<h1>{title}</h1>" in body
    for chart in charts:
        assert f'id="{chart}"' in body and f'data-table="{chart}"' in body
    assert client.get(f"/evaluation/dashboard/{kind}/").status_code == 200
    export = client.get(f"/evaluation/dashboard/{kind}/export/")
    book = load_workbook(io.BytesIO(export.content))
    assert book.sheetnames[0] == "概览" and len(book.sheetnames) >= 3


def test_users_without_a_role_dashboard_keep_the_overview(client, users):
    client.force_login(users["all"])
    home = client.get("/")
    assert 'id="chart-provinces-data"' in home.content.decode()


def test_dashboard_of_another_trade_is_refused(world):
    client = client_for(role_user("canteen", world["A"]))
    assert client.get("/evaluation/dashboard/leader/").status_code == 403
    assert client.get("/evaluation/dashboard/leader/export/").status_code == 403
    assert client.get("/evaluation/screen/").status_code == 403
    assert client.get("/evaluation/dashboard/nonsense/").status_code == 404


def test_leader_page_and_export_show_only_the_scope(world, standards):
    store_verdicts(world)
    client = client_for(role_user("leader", world["A"]))
    page = client.get("/evaluation/dashboard/leader/?period=2026-09")
    board = board_of(page)
    ranking = next(p for p in board["panels"] if p["key"] == "chart-ranking")
    assert [row[1] for row in ranking["rows"]] == ["大足区财政局", "大足区机关事务管理中心"]
    assert "成都市机关事务管理局" not in page.content.decode()
    export = client.get("/evaluation/dashboard/leader/export/?period=2026-09")
    sheet = load_workbook(io.BytesIO(export.content))
    rows = list(sheet["单位达标率排名"].iter_rows(min_row=2, values_only=True))
    assert rows == [(1, "大足区财政局", 1, 0, 1, 100), (2, "大足区机关事务管理中心", 2, 1, 0, 66.7)]
    values = {c for ws in sheet.worksheets for row in ws.iter_rows(values_only=True) for c in row}
    assert "成都市机关事务管理局" not in values and "单位达标率排名" in sheet.sheetnames


def test_screen_page_feed_and_export(world, standards):
    store_verdicts(world)
    leader = role_user("leader", world["A"])
    client = client_for(leader)
    page = client.get("/evaluation/screen/?period=2026-09")
    body = page.content.decode()
    assert page.status_code == 200 and 'class="screen"' in body and 'data-refresh-s="60"' in body
    feed = client.get("/evaluation/screen/data/?period=2026-09").json()
    assert feed["cards"][0] == {"label": "达标率", "value": 75.0, "unit": "%"}
    assert [p["key"] for p in feed["panels"]][:3] == [
        "chart-compliance-map",
        "chart-ranking",
        "chart-compliance-trend",
    ]
    assert "成都" not in json.dumps(feed, ensure_ascii=False)
    book = load_workbook(io.BytesIO(client.get("/evaluation/screen/export/").content))
    assert "达标率月度趋势" in book.sheetnames
    ws = book["达标率月度趋势"]
    assert [c.value for c in ws[1]] == ["统计期", "达标", "未达标", "无数据", "达标率（%）"]
    assert ws.max_row == 13  # header and 12 months
    # Without evaluation.view, no 大屏.
    fleet_only = make_user("f", world["A"], make_role("f", DataScope.ALL, ["vehicles.*"]))
    assert client_for(fleet_only).get("/evaluation/screen/data/").status_code == 403
