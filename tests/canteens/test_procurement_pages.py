"""The menu, procurement and stock pages through Django's test client: each renders within
the data scope, and their forms drive the services (generate, edit, publish, quotation,
award with reason, receive, stock movement)."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.test import Client
from openpyxl import load_workbook

from guanjia.canteens import menus, procurement, stock
from guanjia.canteens.models import Dish, MenuPlan, PurchaseRequest, StockMovement

from .matrix_procurement import PRICES, WEEK, dishes, published_week, quote, supplier


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def data(canteens):
    a, b = canteens["A"], canteens["B"]
    plan = published_week(a)
    dishes(b, {"meat": 1, "veg": 1, "staple": 1, "soup": 1, "fruit": 1})
    b_dish = Dish.objects.filter(canteen=b).first()
    sups = [supplier(a.agency, f"供应商{i}") for i in "甲乙丙"]
    supplier(a.agency, "证照过期供应商", expiry=dt.date(2020, 1, 1))
    b_sup = supplier(b.agency, "成都供应商")
    pr = procurement.request_from_forecast(None, a, WEEK, WEEK + dt.timedelta(days=1))
    quotes = [
        quote(pr, s, PRICES | {"猪肉": p}) for s, p in zip(sups, ("25", "27", "28"), strict=True)
    ]
    pork = pr.lines.get(ingredient__name="猪肉").ingredient
    return {"a": a, "b": b, "plan": plan, "pr": pr, "quotes": quotes, "pork": pork,
            "b_dish": b_dish, "b_sup": b_sup}  # fmt: skip


def pages(d):
    return [
        "/canteens/dishes/",
        f"/canteens/dishes/?canteen={d['a'].pk}&category=meat",
        "/canteens/dishes/new/",
        f"/canteens/dishes/{Dish.objects.filter(canteen=d['a']).first().pk}/edit/",
        "/canteens/menus/",
        f"/canteens/menus/?canteen={d['a'].pk}&week=2026-03-04",
        f"/canteens/menus/{d['plan'].pk}/print/",
        f"/canteens/menus/{d['plan'].pk}/slot/?date=2026-03-02&meal=lunch",
        "/canteens/suppliers/",
        "/canteens/purchases/",
        f"/canteens/purchases/{d['pr'].pk}/",
        f"/canteens/prices/{d['pork'].pk}/",
        "/canteens/stock/",
        "/canteens/stock/?start=2026-03-01&end=2026-04-01",
    ]


def test_every_page_renders_for_a_scoped_user(data, users):
    client = client_for(users["agency"])
    for url in pages(data):
        r = client.get(url)
        assert r.status_code == 200, (url, r.status_code)
    week = client.get(f"/canteens/menus/?canteen={data['a'].pk}&week=2026-03-04").content.decode()
    assert "已发布" in week and "符合配餐规则" in week
    printed = client.get(f"/canteens/menus/{data['plan'].pk}/print/").content.decode()
    assert "3月2日（周一）" in printed and "3月7日" not in printed
    suppliers = client.get("/canteens/suppliers/").content.decode()
    assert "许可证已过期" in suppliers and "成都供应商" not in suppliers
    detail = client.get(f"/canteens/purchases/{data['pr'].pk}/").content.decode()
    assert "最低价" in detail and "DB50/T 9001—2022 5.1" in detail


def test_pages_of_another_agency_are_404_and_lists_hide_it(data, users):
    client = client_for(users["agency"])
    b_plan, _ = menus.generate_plan(None, data["b"], WEEK)
    b_ing = Dish.objects.get(pk=data["b_dish"].pk).recipe.first().ingredient
    for url in (
        f"/canteens/dishes/{data['b_dish'].pk}/edit/",
        f"/canteens/menus/{b_plan.pk}/print/",
        f"/canteens/menus/{b_plan.pk}/slot/",
        f"/canteens/prices/{b_ing.pk}/",
    ):
        assert client.get(url).status_code == 404, url
    assert data["b_dish"].name not in client.get("/canteens/dishes/").content.decode()


def test_generate_edit_and_publish_through_the_pages(canteens, users):
    a = canteens["A"]
    dishes(a)
    client = client_for(users["agency"])
    r = client.post("/canteens/menus/generate/", {"canteen": a.pk, "week": "2026-03-04", "seed": 2})
    assert r.status_code == 302
    plan = MenuPlan.objects.get(canteen=a, week_start=WEEK)
    assert plan.items.count() == 5 * 8
    monday = list(plan.items.filter(date=WEEK).values_list("dish", flat=True))
    r = client.post(f"/canteens/menus/{plan.pk}/slot/?date=2026-03-02&meal=lunch",
                    {"dishes": monday[1:]})  # fmt: skip
    assert r.status_code == 302
    r = client.post(f"/canteens/menus/{plan.pk}/publish/", {"action": "publish"}, follow=True)
    assert "不能发布" in r.content.decode()
    plan.refresh_from_db()
    assert plan.status == "draft"
    client.post(f"/canteens/menus/{plan.pk}/slot/?date=2026-03-02&meal=lunch", {"dishes": monday})
    client.post(f"/canteens/menus/{plan.pk}/publish/", {"action": "publish"})
    plan.refresh_from_db()
    assert plan.status == "published"


def test_dish_form_saves_recipe(canteens, users):
    a = canteens["A"]
    client = client_for(users["agency"])
    r = client.post("/canteens/dishes/new/", {
        "canteen": a.pk, "name": "回锅肉", "category": "meat", "portion_g": 180, "cost": "6.5",
        "allergens": "", "is_active": "on", "recipe": "五花肉,0.15\n蒜苗,0.05",
    })  # fmt: skip
    assert r.status_code == 302, r.content.decode()[:2000]
    dish = Dish.objects.get(canteen=a, name="回锅肉")
    assert {(x.ingredient.name, x.quantity) for x in dish.recipe.all()} == {
        ("五花肉", Decimal("0.15")), ("蒜苗", Decimal("0.05")),
    }  # fmt: skip


def test_purchase_flow_through_the_pages(data, users):
    client = client_for(users["agency"])
    pr, dear = data["pr"], data["quotes"][1]
    r = client.post(f"/canteens/purchases/{pr.pk}/award/", {"quotation": dear.pk}, follow=True)
    assert "须填写选择理由" in r.content.decode()
    client.post(f"/canteens/purchases/{pr.pk}/award/", {"quotation": dear.pk, "reason": "质量更好"})
    pr.refresh_from_db()
    assert pr.awarded == dear and pr.award_reason == "质量更好"
    client.post(f"/canteens/purchases/{pr.pk}/receive/", {"date": "2026-03-02"})
    pr.refresh_from_db()
    assert pr.status == PurchaseRequest.Status.RECEIVED
    assert StockMovement.objects.filter(request=pr).count() == 5
    r = client.get(f"/canteens/purchases/{pr.pk}/quotations.xlsx")
    ws = load_workbook(io.BytesIO(r.content)).active
    values = [c for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    assert "供应商甲（最低） 单价(元)" in values and "质量更好" in values
    r = client.post("/canteens/stock/", {
        "canteen": data["a"].pk, "ingredient": data["pork"].pk, "kind": "out",
        "quantity": "100", "date": "2026-03-03",
    })  # fmt: skip
    assert r.status_code == 302
    assert stock.on_hand(data["a"], data["pork"])[0] == Decimal("57.5")
    page = client.get("/canteens/stock/?start=2026-03-01&end=2026-04-01").content.decode()
    assert "库存周转天数" in page and "天</strong>" in page
    r = client.get("/canteens/stock/?format=xlsx")
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert any(row[1] == "猪肉" and row[3] == 57.5 for row in rows[1:])


def test_quotation_form_and_request_from_forecast_form(canteens, users):
    a = canteens["A"]
    published_week(a)
    client = client_for(users["agency"])
    r = client.post("/canteens/purchases/", {"canteen": a.pk, "start": "2026-03-02",
                                             "end": "2026-03-03"})  # fmt: skip
    assert r.status_code == 302
    pr = PurchaseRequest.objects.get(canteen=a)
    sup = supplier(a.agency, "供应商甲")
    body = {"supplier": sup.pk, "received_on": "2026-03-01", "valid_until": "2030-01-01",
            "lead_time_days": 1}  # fmt: skip
    for line in pr.lines.all():
        body[f"size_{line.pk}"] = "1"
        body[f"price_{line.pk}"] = PRICES[line.ingredient.name]
    r = client.post(f"/canteens/purchases/{pr.pk}/", body)
    assert r.status_code == 302
    assert pr.quotations.get().supplier == sup
    assert pr.quotations.get().lines.count() == pr.lines.count()


def test_supplier_list_reads_the_warn_days_once_per_agency(canteens, world, users):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(users["agency_and_below"])

    def queries():
        with CaptureQueriesContext(connection) as got:
            r = client.get("/canteens/suppliers/")
        assert r.status_code == 200
        return len(got)

    supplier(canteens["A"].agency, "大足供应商0")
    supplier(world["A1"], "财政局供应商0")
    few = queries()
    for i in range(1, 7):
        supplier(canteens["A"].agency if i % 2 else world["A1"], f"供应商{i}")
    assert queries() == few  # eight suppliers of two agencies cost what two do
    body = client.get("/canteens/suppliers/").content.decode()
    assert body.count("有效") >= 8


def test_a_recipe_quantity_of_nan_is_a_form_error(canteens, users):
    a = canteens["A"]
    client = client_for(users["agency"])
    r = client.post("/canteens/dishes/new/", {
        "canteen": a.pk, "name": "回锅肉", "category": "meat", "portion_g": 180, "cost": "6.5",
        "allergens": "", "is_active": "on", "recipe": "五花肉,nan\n蒜苗,inf",
    })  # fmt: skip
    body = r.content.decode()
    assert r.status_code == 200 and "第 1 行" in body and "第 2 行" in body
    assert not Dish.objects.filter(name="回锅肉").exists()


def test_generating_for_a_canteen_id_that_is_not_a_number_is_404(canteens, users):
    client = client_for(users["agency"])
    for bad in ("abc", "", "1.5", "x" * 40):
        r = client.post("/canteens/menus/generate/", {"canteen": bad, "week": "2026-03-04"})
        assert r.status_code == 404, bad
    r = client.post("/canteens/menus/generate/", {"week": "2026-03-04"})
    assert r.status_code == 404
    b = canteens["B"].pk  # another agency's canteen: 404 as well, never 403
    r = client.post("/canteens/menus/generate/", {"canteen": b, "week": "2026-03-04"})
    assert r.status_code == 404 and not MenuPlan.objects.exists()
