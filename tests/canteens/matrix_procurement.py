"""The data-scope matrix's cases (tests/core/test_scope_matrix) for menus, procurement and
stock, and the builders the menu, procurement and stock tests share.

Agency B (成都) keeps a canteen with dishes and recipes, a published week menu with its
forecast, a purchase request in inquiry with three quotations, an awarded request and
stock. Whoever does not see B gets none of it in lists, 404 on its objects and on writes
aimed at it (nothing written); whoever sees everything sees and writes it (writes in a
rolled-back savepoint).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import partial

from guanjia.canteens import menus, procurement, services, stock
from guanjia.canteens.models import Canteen, Dish, Forecast, PurchaseRequest, Supplier
from guanjia.core.models import Agency

from ..core.scope_kinds import Detail, Listing, SeededCase, Write

V1 = "/api/v1/canteens"
WEEK = dt.date(2026, 3, 2)  # a Monday; 2–6 March 2026 are workdays, 7–8 the weekend
# Enough dishes for five open days without a repeat within the default 7 days.
CATEGORY_SIZES = {"meat": 15, "veg": 10, "staple": 5, "soup": 5, "fruit": 5}


# -- builders -------------------------------------------------------------------------------


def dishes(canteen, sizes=None, actor=None) -> list[Dish]:
    """`sizes[category]` dishes per category, each with a one-ingredient recipe:
    荤菜 0.15 kg 猪肉, 素菜 0.2 kg 青菜, 主食 0.1 kg 大米, 汤 0.05 kg 鸡蛋, 水果 1 个苹果."""
    recipe = {
        "meat": ("猪肉", "0.15", "kg"),
        "veg": ("青菜", "0.2", "kg"),
        "staple": ("大米", "0.1", "kg"),
        "soup": ("鸡蛋", "0.05", "kg"),
        "fruit": ("苹果", "1", "个"),
    }
    made = []
    for category, n in (sizes or CATEGORY_SIZES).items():
        name, qty, unit = recipe[category]
        ingredient = menus.ingredient_named(actor, canteen.agency, name, unit)
        for i in range(1, n + 1):
            dish = menus.save_dish(
                actor, canteen, name=f"{canteen.code}-{category}-{i}", category=category,
                cost=Decimal("3.50"),
            )  # fmt: skip
            menus.set_recipe(actor, dish, [(ingredient, Decimal(qty))])
            made.append(dish)
    return made


def forecast(canteen, day, p50, p90, meal="lunch"):
    return services.save(
        None,
        Forecast(canteen=canteen, date=day, meal=meal, made_on=WEEK - dt.timedelta(days=3),
                 p10=max(p50 - 50, 0), p50=p50, p90=p90),
    )  # fmt: skip


def published_week(canteen, p50=1000, p90=1200):
    """Dishes, a generated and published week from WEEK, and a forecast for its days."""
    dishes(canteen)
    plan, shortages = menus.generate_plan(None, canteen, WEEK, seed=1)
    assert shortages == []
    menus.publish(None, plan)
    for day in menus.open_days(WEEK):
        forecast(canteen, day, p50, p90)
    return plan


def supplier(agency, name, expiry=dt.date(2030, 1, 1)):
    return procurement.save_supplier(
        None, agency=agency, name=name, licence_no=f"JY{abs(hash(name)) % 10**12}",
        licence_expiry=expiry,
    )  # fmt: skip


def quote(request, sup, unit_prices, received=WEEK, valid=dt.date(2030, 1, 1), pack=1):
    """A quotation pricing each line at `unit_prices[ingredient name]` per stock unit, in
    packs of `pack` units."""
    prices = {
        line.pk: (Decimal(pack), Decimal(unit_prices[line.ingredient.name]) * pack)
        for line in request.lines.select_related("ingredient")
    }
    return procurement.add_quotation(
        None, request, sup, received_on=received, valid_until=valid, prices=prices
    )


# -- the matrix -------------------------------------------------------------------------------

PRICES = {"猪肉": "26", "青菜": "4", "大米": "5", "鸡蛋": "10", "苹果": "1.5"}


def seed(ctx) -> dict:
    b = Agency.objects.get(pk=ctx["B"])
    canteen = Canteen.objects.filter(code="mx-b").first()
    if canteen is None:
        canteen = services.save_canteen(None, agency=b, code="mx-b", name="成都矩阵食堂")
        published_week(canteen)
        sups = [supplier(b, f"成都矩阵供应商{i}") for i in range(1, 5)]
        for days in (7, 1, 1):  # one in inquiry, one to award, one to receive
            request = procurement.request_from_forecast(
                None, canteen, WEEK, WEEK + dt.timedelta(days=days)
            )
            for s in sups[:3]:
                quote(request, s, PRICES)
        inquiring, awarded, done = PurchaseRequest.objects.filter(canteen=canteen).order_by("pk")
        procurement.award(None, awarded, awarded.quotations.first(), today=WEEK)
        procurement.award(None, done, done.quotations.first(), today=WEEK)
        procurement.receive(None, done, WEEK)
    requests = PurchaseRequest.objects.filter(canteen=canteen)
    inquiring = requests.get(status="inquiring")
    awarded = requests.get(status="awarded")
    ids = {
        "b_canteen": canteen.pk,
        "b_plan": canteen.menu_plans.get().pk,
        "b_dish": canteen.dishes.first().pk,
        "b_request": inquiring.pk,
        "b_line": inquiring.lines.first().pk,
        "b_supplier": Supplier.objects.get(name="成都矩阵供应商4").pk,
        "b_awarded": awarded.pk,
        "b_quote": inquiring.quotations.order_by("pk").first().pk,
        "b_ingredient": inquiring.lines.first().ingredient_id,
    }
    ctx.update(ids)
    return ids


Seeded = partial(SeededCase, seed)


def _b(item, ctx):
    return item["agency_id"] in ctx["b_ids"]


def listing(path):
    return Seeded(Listing(V1 + path, _b))


def write(*attempts):
    return Seeded(Write(*[(m, V1 + u, body) for m, u, body in attempts]))


class QuotationOfB:
    """A quotation added to B's request: the body names B's line, so it is filled late."""

    def _attempt(self, ctx):
        return Write(
            (
                "POST",
                V1 + "/purchase-requests/{b_request}/quotations",
                {
                    "supplier_id": "{b_supplier}",
                    "received_on": "2026-03-02",
                    "valid_until": "2030-01-01",
                    "lines": [
                        {"line_id": line.pk, "pack_size": "1", "pack_price": "9"}
                        for line in PurchaseRequest.objects.get(pk=ctx["b_request"]).lines.all()
                    ],
                },
            )
        )

    def scoped(self, ctx, client, user):
        seed(ctx)
        self._attempt(ctx).scoped(ctx, client, user)

    norole = scoped

    def wide(self, ctx, client, user):
        seed(ctx)
        self._attempt(ctx).wide(ctx, client, user)


CASES = {
    ("GET", "/canteens/dishes"): listing("/dishes"),
    ("POST", "/canteens/dishes"): write(
        ("POST", "/dishes", {"canteen_id": "{b_canteen}", "name": "越权菜", "category": "veg"}),
    ),
    ("GET", "/canteens/menu-plans"): listing("/menu-plans"),
    ("GET", "/canteens/menu-plans/{plan_id}"): Seeded(Detail(V1 + "/menu-plans/{b_plan}")),
    ("POST", "/canteens/menu-plans/generate"): write(
        ("POST", "/menu-plans/generate", {"canteen_id": "{b_canteen}", "week_start": "2026-03-09"}),
    ),
    ("GET", "/canteens/suppliers"): listing("/suppliers"),
    ("POST", "/canteens/suppliers"): write(
        ("POST", "/suppliers", {"agency_id": "{B}", "name": "越权供应商"}),
    ),
    ("GET", "/canteens/purchase-requests"): listing("/purchase-requests"),
    ("GET", "/canteens/purchase-requests/{request_id}"): Seeded(
        Detail(V1 + "/purchase-requests/{b_request}")
    ),
    ("POST", "/canteens/purchase-requests/from-forecast"): write(
        (
            "POST",
            "/purchase-requests/from-forecast",
            {"canteen_id": "{b_canteen}", "start": "2026-03-02", "end": "2026-03-03"},
        ),
    ),
    ("POST", "/canteens/purchase-requests/{request_id}/quotations"): QuotationOfB(),
    ("POST", "/canteens/purchase-requests/{request_id}/award"): write(
        (
            "POST",
            "/purchase-requests/{b_request}/award",
            {"quotation_id": "{b_quote}", "reason": "越权选定"},
        ),
    ),
    ("POST", "/canteens/purchase-requests/{request_id}/receive"): write(
        ("POST", "/purchase-requests/{b_awarded}/receive", {"date": "2026-03-02"}),
    ),
    ("GET", "/canteens/stock"): listing("/stock"),
    ("POST", "/canteens/stock/movements"): write(
        (
            "POST",
            "/stock/movements",
            {
                "canteen_id": "{b_canteen}",
                "ingredient_id": "{b_ingredient}",
                "kind": "out",
                "quantity": "1",
                "date": "2026-03-03",
            },
        ),
    ),
    ("GET", "/canteens/prices/{ingredient_id}"): Seeded(Detail(V1 + "/prices/{b_ingredient}")),
}

__all__ = ["CASES", "dishes", "forecast", "published_week", "quote", "stock", "supplier"]
