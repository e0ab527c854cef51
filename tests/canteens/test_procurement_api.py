"""Menus, procurement and stock through the API, as a program uses them (bearer token)."""

import datetime as dt
import json
from decimal import Decimal

from guanjia.canteens import menus
from guanjia.canteens.models import MenuPlan, PurchaseRequest, StockMovement

from ..conftest import api_client
from .matrix_procurement import PRICES, WEEK, dishes, forecast, supplier

V1 = "/api/v1/canteens"


def post(client, url, body):
    return client.post(V1 + url, data=json.dumps(body), content_type="application/json")


def test_dish_with_recipe_then_generate_and_read_the_week(canteens, users):
    canteen = canteens["A"]
    client = api_client(users["agency"])
    r = post(client, "/dishes", {
        "canteen_id": canteen.pk, "name": "番茄炒蛋", "category": "veg", "cost": "2.8",
        "allergens": "蛋", "recipe": [{"ingredient": "番茄", "quantity": "0.15"},
                                     {"ingredient": "鸡蛋", "quantity": "0.06"}],
    })  # fmt: skip
    assert r.status_code == 201, r.content
    assert {x["ingredient"] for x in r.json()["recipe"]} == {"番茄", "鸡蛋"}
    r = post(client, "/dishes", {"canteen_id": canteen.pk, "name": "番茄炒蛋", "category": "veg"})
    assert r.status_code == 422  # the same name twice in one canteen
    dishes(canteen)
    r = post(client, "/menu-plans/generate", {"canteen_id": canteen.pk, "week_start": "2026-03-04"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["week_start"] == "2026-03-02" and body["shortages"] == []
    assert body["violations"] == []
    served = [d for d in body["days"] if d["open"]]
    assert len(served) == 5 and all(len(d["dishes"]) == 8 for d in served)
    r = client.get(f"{V1}/menu-plans/{body['id']}")
    assert r.status_code == 200 and r.json()["days"] == body["days"]
    r = client.get(f"{V1}/dishes?canteen={canteen.pk}&category=veg&limit=100")
    assert r.json()["count"] == 11


def test_generate_names_the_short_category(canteens, users):
    canteen = canteens["A"]
    dishes(canteen, {"meat": 3, "veg": 10, "staple": 5, "soup": 5, "fruit": 5})
    r = post(api_client(users["agency"]), "/menu-plans/generate",
             {"canteen_id": canteen.pk, "week_start": "2026-03-02"})  # fmt: skip
    assert r.status_code == 200
    assert [s[:4] for s in r.json()["shortages"]] == ["荤菜不足"]
    assert any("重复" in v for v in r.json()["violations"])


def test_purchase_from_forecast_inquiry_award_receive(canteens, users):
    canteen = canteens["A"]
    client = api_client(users["agency"])
    dishes(canteen)
    r = post(client, "/menu-plans/generate", {"canteen_id": canteen.pk, "week_start": "2026-03-02"})
    menus.publish(None, MenuPlan.objects.get(pk=r.json()["id"]))
    body = {"canteen_id": canteen.pk, "start": "2026-03-02", "end": "2026-03-03"}
    r = post(client, "/purchase-requests/from-forecast", body)
    assert r.status_code == 422 and "没有就餐预测" in str(r.json()["detail"])
    forecast(canteen, WEEK, 1000, 1200)
    r = post(client, "/purchase-requests/from-forecast", body)
    assert r.status_code == 201, r.content
    pr = r.json()
    lines = {ln["ingredient"]: ln for ln in pr["lines"]}
    assert lines["猪肉"]["quantity"] == "157.500"  # 1050 portions ÷ 3 dishes × 3 × 0.15 kg
    rid = pr["id"]

    def quote_body(sup, pork="26"):
        return {"supplier_id": sup.pk, "received_on": "2026-03-01", "valid_until": "2030-01-01",
                "lines": [{"line_id": ln["id"], "pack_size": "2",
                           "pack_price": str(2 * float((PRICES | {"猪肉": pork})[name]))}
                          for name, ln in lines.items()]}  # fmt: skip

    a, b, c = (supplier(canteen.agency, f"供应商{i}") for i in "甲乙丙")
    r = post(client, f"/purchase-requests/{rid}/quotations", quote_body(a, "25"))
    assert r.status_code == 201, r.content
    first = r.json()["quotations"][0]
    assert first["cheapest"], first
    assert first["unit_prices"][str(lines["猪肉"]["id"])] == "25.0000", first
    assert r.json()["inquiry"]["required"] and not r.json()["inquiry"]["satisfied"]
    r = post(client, f"/purchase-requests/{rid}/award", {"quotation_id": first["id"]})
    assert r.status_code == 422 and "DB50/T 9001—2022 5.1" in str(r.json()["detail"])
    post(client, f"/purchase-requests/{rid}/quotations", quote_body(b, "27"))
    r = post(client, f"/purchase-requests/{rid}/quotations", quote_body(c, "28"))
    dear = next(q for q in r.json()["quotations"] if q["supplier"] == "供应商丙")
    r = post(client, f"/purchase-requests/{rid}/award", {"quotation_id": dear["id"]})
    assert r.status_code == 422 and "选择理由" in str(r.json()["detail"])
    r = post(client, f"/purchase-requests/{rid}/award", {"quotation_id": first["id"]})
    assert r.status_code == 200 and r.json()["status"] == "awarded", r.content
    r = post(client, f"/purchase-requests/{rid}/receive", {"date": "2026-03-02"})
    assert r.status_code == 200 and r.json()["status"] == "received"
    assert StockMovement.objects.filter(request_id=rid, kind="in").count() == 5
    r = client.get(f"{V1}/stock?canteen={canteen.pk}")
    pork = next(x for x in r.json()["items"] if x["ingredient"] == "猪肉")
    assert Decimal(pork["quantity"]) == Decimal("157.5")
    assert Decimal(pork["value"]) == Decimal("3937.50")  # at 25 元/kg
    r = client.get(f"{V1}/prices/{pork['ingredient_id']}")
    assert [p["unit_price"] for p in r.json()] == ["25.00", "25.00"]
    r = post(client, "/stock/movements", {
        "canteen_id": canteen.pk, "ingredient_id": pork["ingredient_id"], "kind": "out",
        "quantity": "200", "date": "2026-03-03",
    })  # fmt: skip
    assert r.status_code == 422 and "库存不足" in str(r.json()["detail"])
    r = post(client, "/stock/movements", {
        "canteen_id": canteen.pk, "ingredient_id": pork["ingredient_id"], "kind": "out",
        "quantity": "57.5", "date": "2026-03-03",
    })  # fmt: skip
    assert r.status_code == 201 and r.json()["unit_cost"] == "25.00"
    assert PurchaseRequest.objects.get(pk=rid).award_reason == ""


def test_supplier_register_flags_licence(canteens, users):
    client = api_client(users["agency"])
    today = dt.date.today()
    r = post(
        client,
        "/suppliers",
        {"name": "过期供应商", "licence_expiry": str(today - dt.timedelta(days=1))},
    )
    assert r.status_code == 201 and r.json()["agency_id"] == canteens["A"].agency_id
    assert r.json()["licence_state"] == "expired"
    r = client.get(f"{V1}/suppliers")
    assert [s["name"] for s in r.json()["items"]] == ["过期供应商"]


def test_supplier_list_reads_the_warn_days_once_per_agency(
    canteens, world, users, django_assert_max_num_queries
):
    client = api_client(users["agency_and_below"])
    a, a1 = canteens["A"].agency, world["A1"]
    for i in range(8):
        supplier(a if i % 2 else a1, f"供应商{i}", expiry=dt.date.today() + dt.timedelta(days=i))
    with django_assert_max_num_queries(9):  # one rule read per agency, not per row
        r = client.get(f"{V1}/suppliers")
    states = [s["licence_state"] for s in r.json()["items"]]
    assert r.status_code == 200 and states == ["expiring"] * 8


def test_a_recipe_quantity_of_nan_is_refused(canteens, users):
    client = api_client(users["agency"])
    for bad in ("NaN", "Infinity"):
        r = post(client, "/dishes", {
            "canteen_id": canteens["A"].pk, "name": "番茄炒蛋", "category": "veg",
            "recipe": [{"ingredient": "番茄", "quantity": bad}],
        })  # fmt: skip
        assert r.status_code == 422, (bad, r.content)
