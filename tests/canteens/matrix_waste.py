"""The data-scope matrix's cases (tests/core/test_scope_matrix) for waste, food safety and
surveys.

Agency B (成都) keeps a canteen with a weighing, a clean-plate observation, a disinfection
log, a cook whose health certificate has expired, a light sample, an inspection with an
overdue finding and a survey answer. Whoever does not see B gets none of it in lists, 404
on its objects and on writes aimed at it (nothing written); whoever sees everything sees
and writes it (writes in a rolled-back savepoint).
"""

import datetime as dt
from decimal import Decimal
from functools import partial

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from guanjia.canteens import safety, services, waste
from guanjia.canteens.models import Canteen, SurveyResponse
from guanjia.core.models import Agency

from ..core.conftest import snapshot
from ..core.scope_kinds import Detail, Listing, SeededCase, Write

V1 = "/api/v1/canteens"
B_CODE = "matrix-waste-b"
DAY = dt.date(2026, 3, 2)


def seed(ctx) -> dict:
    canteen = Canteen.objects.filter(code=B_CODE).first()
    if canteen is None:
        b = Agency.objects.get(pk=ctx["B"])
        canteen = services.save_canteen(None, agency=b, code=B_CODE, name="成都矩阵食堂")
        waste.record_weighing(None, canteen, date=DAY, stream="plate", weight_kg=Decimal("9"))
        waste.record_plate_observation(None, canteen, date=DAY, trays_observed=10, clean_trays=8)
        safety.record_disinfection(
            None, canteen, date=DAY, method="heat", minutes=15, operator="李师傅"
        )
        safety.save_staff(None, canteen, name="王厨师", health_cert_expiry=dt.date(2025, 1, 1))
        safety.record_sample(None, canteen, date=DAY, dish_name="回锅肉", weight_g=80,
                             kept_hours=48, keeper="李师傅")  # fmt: skip
        safety.record_inspection(
            None, canteen, date=DAY, inspector="市场监管所",
            findings=[{"description": "冷藏柜温度记录缺失", "deadline": dt.date(2026, 3, 9)}],
        )  # fmt: skip
        services.save(None, SurveyResponse(canteen=canteen, overall=5, comment="很好"))
    inspection = canteen.inspections.get()
    ctx.update(
        {
            "b_canteen": canteen.pk,
            "b_staff": canteen.staff.get().pk,
            "b_finding": inspection.findings.get().pk,
        }
    )
    return ctx


Seeded = partial(SeededCase, seed)


def _b(item, ctx):
    return item["agency_id"] in ctx["b_ids"]


def listing(path):
    return Seeded(Listing(V1 + path, _b))


def detail(path):
    return Seeded(Detail(V1 + path))


def write(*attempts):
    return Seeded(Write(*[(m, V1 + u, body) for m, u, body in attempts]))


class WeighingImport:
    """A sheet naming B's canteen: for whoever does not see B the canteen is unknown (422,
    nothing written); a caller without a role may not import; whoever sees everything
    imports it."""

    url = V1 + "/waste-records/import"

    def _post(self, client):
        content = (
            "食堂,日期,餐次,类别,可食,重量(千克),品名\n"
            f"{B_CODE},2026-03-03,午餐,餐盘剩余,是,12.5,米饭\n"
        )
        upload = SimpleUploadedFile("w.csv", content.encode("utf-8"))
        return client.post(self.url, {"file": upload})

    def scoped(self, ctx, client, user):
        seed(ctx)
        before = snapshot()
        r = self._post(client)
        assert r.status_code == 422, r.content
        assert r.json()["errors"][0]["column"] == "食堂" and r.json()["imported"] == 0
        assert snapshot() == before

    def norole(self, ctx, client, user):
        seed(ctx)
        before = snapshot()
        assert self._post(client).status_code == 403
        assert snapshot() == before

    def wide(self, ctx, client, user):
        seed(ctx)
        with transaction.atomic():
            r = self._post(client)
            assert r.status_code == 200 and r.json()["imported"] == 1, r.content
            transaction.set_rollback(True)


CASES = {
    ("GET", "/canteens/waste-records"): listing("/waste-records"),
    ("POST", "/canteens/waste-records"): write(
        (
            "POST",
            "/waste-records",
            {
                "canteen_id": "{b_canteen}",
                "date": "2026-03-03",
                "meal": "lunch",
                "entries": [{"stream": "plate", "weight_kg": "3.5"}],
            },
        ),
    ),
    ("POST", "/canteens/waste-records/import"): WeighingImport(),
    ("GET", "/canteens/plate-observations"): listing("/plate-observations"),
    ("POST", "/canteens/plate-observations"): write(
        (
            "POST",
            "/plate-observations",
            {
                "canteen_id": "{b_canteen}",
                "date": "2026-03-03",
                "trays_observed": 20,
                "clean_trays": 15,
            },
        ),
    ),
    ("GET", "/canteens/canteens/{canteen_id}/waste-indicators"): detail(
        "/canteens/{b_canteen}/waste-indicators?period=2026-03"
    ),
    ("GET", "/canteens/canteens/{canteen_id}/waste-dashboard"): detail(
        "/canteens/{b_canteen}/waste-dashboard?period=2026-03&by=month"
    ),
    ("GET", "/canteens/disinfections"): listing("/disinfections"),
    ("POST", "/canteens/disinfections"): write(
        (
            "POST",
            "/disinfections",
            {
                "canteen_id": "{b_canteen}",
                "date": "2026-03-03",
                "method": "steam",
                "minutes": 20,
                "operator": "越权",
            },
        ),
    ),
    ("GET", "/canteens/kitchen-staff"): listing("/kitchen-staff"),
    ("POST", "/canteens/kitchen-staff"): write(
        ("POST", "/kitchen-staff", {"canteen_id": "{b_canteen}", "name": "越权厨师"}),
    ),
    ("PATCH", "/canteens/kitchen-staff/{staff_id}"): write(
        ("PATCH", "/kitchen-staff/{b_staff}", {"health_cert_expiry": "2030-01-01"}),
    ),
    ("GET", "/canteens/health-cert-alerts"): listing("/health-cert-alerts"),
    ("GET", "/canteens/samples"): listing("/samples"),
    ("POST", "/canteens/samples"): write(
        (
            "POST",
            "/samples",
            {
                "canteen_id": "{b_canteen}",
                "date": "2026-03-03",
                "dish_name": "越权菜",
                "weight_g": 150,
                "keeper": "越权",
            },
        ),
    ),
    ("GET", "/canteens/inspections"): listing("/inspections"),
    ("POST", "/canteens/inspections"): write(
        (
            "POST",
            "/inspections",
            {
                "canteen_id": "{b_canteen}",
                "date": "2026-03-03",
                "inspector": "越权",
                "findings": [{"description": "越权问题", "deadline": "2026-03-10"}],
            },
        ),
    ),
    ("GET", "/canteens/findings"): listing("/findings"),
    ("POST", "/canteens/findings/{finding_id}/rectify"): write(
        (
            "POST",
            "/findings/{b_finding}/rectify",
            {
                "rectified_on": "2026-03-05",
                "rectification": "越权整改",
            },
        ),
    ),
    ("GET", "/canteens/survey-results"): listing("/survey-results"),
    ("GET", "/canteens/survey-responses"): listing("/survey-responses"),
}
