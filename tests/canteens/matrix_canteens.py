"""The data-scope matrix's cases (tests/core/test_scope_matrix) for canteens, diner counts,
events and forecasts.

Agency B (成都) keeps a canteen with a fortnight of counts (enough for nothing but the
listing), an event, and a stored forecast. Whoever does not see B gets none of it in lists
and 404 on its canteen and on writes aimed at it (nothing written); whoever sees everything
sees and writes it (writes in a rolled-back savepoint).
"""

import datetime as dt
from functools import partial

from guanjia.canteens import services
from guanjia.canteens.models import Canteen, Forecast
from guanjia.core.models import Agency

from ..core.scope_kinds import Detail, Listing, SeededCase, Write

V1 = "/api/v1/canteens"
CODE = "matrix-b"


def seed(ctx) -> dict:
    if not Canteen.objects.filter(code=CODE).exists():
        b = Agency.objects.get(pk=ctx["B"])
        canteen = services.save_canteen(None, agency=b, code=CODE, name="成都矩阵食堂")
        for i in range(14):
            services.record_diners(None, canteen, dt.date(2026, 3, 2) + dt.timedelta(days=i), 300)
        day = dt.date(2026, 3, 20)
        services.add_event(None, canteen, date=day, kind="meeting", change=50, title="会议")
        made = dt.date(2026, 3, 15)
        Forecast.objects.create(canteen=canteen, date=day, made_on=made, p10=280, p50=300, p90=320)
    ids = {"b_canteen": Canteen.objects.get(code=CODE).pk}
    ctx.update(ids)
    return ids


Seeded = partial(SeededCase, seed)


def _b(item, ctx):
    return item["agency_id"] in ctx["b_ids"]


def write(*attempts):
    return Seeded(Write(*[(m, V1 + u, body) for m, u, body in attempts]))


RANGE = "?start=2026-03-01&end=2026-04-01"

CASES = {
    ("GET", "/canteens/canteens"): Seeded(Listing(V1 + "/canteens", _b)),
    ("GET", "/canteens/canteens/{pk}"): Seeded(Detail(V1 + "/canteens/{b_canteen}")),
    ("GET", "/canteens/canteens/{pk}/diners"): Seeded(
        Detail(V1 + "/canteens/{b_canteen}/diners" + RANGE)
    ),
    ("POST", "/canteens/canteens/{pk}/diners"): write(
        ("POST", "/canteens/{b_canteen}/diners", {"date": "2026-03-20", "diners": 999}),
    ),
    ("GET", "/canteens/canteens/{pk}/events"): Seeded(Detail(V1 + "/canteens/{b_canteen}/events")),
    ("POST", "/canteens/canteens/{pk}/events"): write(
        (
            "POST",
            "/canteens/{b_canteen}/events",
            {"date": "2026-03-25", "kind": "training", "change": 40, "title": "越权"},
        ),
    ),
    ("GET", "/canteens/canteens/{pk}/forecast"): Seeded(
        Detail(V1 + "/canteens/{b_canteen}/forecast" + RANGE)
    ),
    ("POST", "/canteens/canteens/{pk}/forecast/refresh"): write(
        ("POST", "/canteens/{b_canteen}/forecast/refresh", None),
    ),
}
