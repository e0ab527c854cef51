"""The data-scope matrix's cases (tests/core/test_scope_matrix) for the lifecycle and the
misuse cases.

Agency B (成都) keeps a car 川A60001 old and worn enough to dispose of, with an expired
annual inspection, a fuel card, an 80-litre refuelling into its 50-litre tank (and the case
it raised), a designated shop with a request awaiting approval and an approved job, a spare
card and a disposed car. Whoever does not see B gets none of it in lists, 404 on its
objects and on writes aimed at it (nothing written); whoever sees everything sees and
writes it (writes in a rolled-back savepoint).
"""

import datetime as dt
import json
from decimal import Decimal
from functools import partial

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from guanjia.core.models import Agency
from guanjia.vehicles import lifecycle, signals_private_use
from guanjia.vehicles.models import FuelCard, Maintenance, MisuseCase, Vehicle

from ..core.conftest import snapshot
from ..core.scope_kinds import Detail, Listing, SeededCase, Write

V1 = "/api/v1/vehicles"
B_PLATE, B_GONE = "川A60001", "川A60002"


def seed(ctx) -> dict:
    b = Agency.objects.get(pk=ctx["B"])
    if not Vehicle.objects.filter(plate=B_PLATE).exists():
        old = dict(
            category="QT",
            energy_type="gasoline",
            purchase_price=Decimal("150000"),
            purchase_date=dt.date(2012, 1, 1),
            odometer_km=Decimal("300000"),
            tank_l=Decimal("50"),
            agency=b,
        )
        car = Vehicle.objects.create(plate=B_PLATE, vin="LSVMATRIX00000001", **old)
        gone = Vehicle.objects.create(plate=B_GONE, vin="LSVMATRIX00000002", **old)
        lifecycle.dispose_vehicle(
            None, gone, disposed_on=dt.date(2025, 6, 1), method="auction", reason="到期"
        )
        lifecycle.record_inspection(
            None, car, kind="inspection", valid_from=dt.date(2024, 1, 1),
            valid_until=dt.date(2025, 1, 1), cost=Decimal("300"),
        )  # fmt: skip
        shop = lifecycle.save_repair_shop(None, agency=b, name="成都定点汽修")
        for amount in ("8000", "9000"):
            lifecycle.request_maintenance(
                None, agency=b, plate=B_PLATE, shop=shop, kind="repair",
                date=dt.date(2026, 3, 1), amount=Decimal(amount),
            )  # fmt: skip
        approved = Maintenance.objects.get(amount=9000)
        approved.status = Maintenance.Status.APPROVED
        approved.save()
        card = lifecycle.issue_fuel_card(None, agency=b, number="MATRIX-B-1", vehicle=car)
        lifecycle.issue_fuel_card(None, agency=b, number="MATRIX-B-2")
        lifecycle.record_refuelling(
            None, card=card, at=lifecycle.timezone.now(), litres=Decimal("80"),
            amount=Decimal("620"),
        )  # fmt: skip
        signals_private_use.detect(None, agency=b)
    car = Vehicle.objects.get(plate=B_PLATE)
    ids = {
        "b_car": car.pk,
        "b_shop": car.maintenance.first().shop_id,
        "b_request": Maintenance.objects.get(vehicle=car, status="requested").pk,
        "b_approved": Maintenance.objects.get(vehicle=car, status="approved").pk,
        "b_card": FuelCard.objects.get(number="MATRIX-B-1").pk,
        "b_spare": FuelCard.objects.get(number="MATRIX-B-2").pk,
        "b_case": MisuseCase.objects.get(agency=car.agency, rule="fuel_tank_overfill").pk,
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


class CaseListing:
    """The case list, whole and overdue only (B's case opened two days ago, unhandled)."""

    def __init__(self):
        self.cases = [Listing(V1 + "/cases", _b), Listing(V1 + "/cases?overdue=true", _b)]

    def _ready(self, ctx):
        seed(ctx)
        MisuseCase.objects.filter(pk=ctx["b_case"]).update(
            opened_at=lifecycle.timezone.now() - dt.timedelta(days=2)
        )
        return ctx

    def scoped(self, ctx, client, user):
        for case in self.cases:
            case.scoped(self._ready(ctx), client, user)

    def wide(self, ctx, client, user):
        for case in self.cases:
            case.wide(self._ready(ctx), client, user)

    def norole(self, ctx, client, user):
        for case in self.cases:
            case.norole(self._ready(ctx), client, user)


class StatementImport:
    """A station statement uploaded into B: 404 and nothing written for whoever does not
    see B; imported for whoever sees everything."""

    url = V1 + "/refuellings/import"

    def _post(self, ctx, client):
        content = "加油时间,卡号,加油量(升),金额(元)\n2026-03-02 08:00,MATRIX-B-1,30,234\n"
        upload = SimpleUploadedFile("s.csv", content.encode("utf-8"))
        return client.post(self.url, {"file": upload, "agency_id": ctx["B"]})

    def scoped(self, ctx, client, user):
        seed(ctx)
        before = snapshot()
        r = self._post(ctx, client)
        assert r.status_code in (403, 404), (r.status_code, r.content)
        assert snapshot() == before

    norole = scoped

    def wide(self, ctx, client, user):
        seed(ctx)
        with transaction.atomic():
            r = self._post(ctx, client)
            assert r.status_code == 200 and r.json()["imported"] == 1, r.content
            transaction.set_rollback(True)


class Detect:
    """Detection aimed at B is refused (404); a scoped run opens nothing in B; a caller
    without a role may not run it; whoever sees everything runs it over B."""

    url = V1 + "/cases/detect"

    def _post(self, client, body):
        return client.post(self.url, data=json.dumps(body), content_type="application/json")

    def scoped(self, ctx, client, user):
        seed(ctx)
        before = snapshot()
        r = self._post(client, {"agency_id": ctx["B"]})
        assert r.status_code == 404, r.content
        assert snapshot() == before
        b_cases = MisuseCase.objects.filter(agency__in=ctx["b_ids"]).count()
        MisuseCase.objects.filter(agency__in=ctx["b_ids"]).delete()
        r = self._post(client, {})
        assert r.status_code == 200, r.content
        assert not MisuseCase.objects.filter(agency__in=ctx["b_ids"]).exists()
        assert b_cases

    def norole(self, ctx, client, user):
        seed(ctx)
        before = snapshot()
        assert self._post(client, {}).status_code == 403
        assert snapshot() == before

    def wide(self, ctx, client, user):
        seed(ctx)
        MisuseCase.objects.filter(agency__in=ctx["b_ids"]).delete()
        r = self._post(client, {"agency_id": ctx["B"]})
        assert r.status_code == 200 and r.json()["opened"]["fuel_tank_overfill"] == 1, r.content


NOW = "2026-03-05T10:00:00+08:00"

CASES = {
    ("GET", "/vehicles/inspections"): listing("/inspections"),
    ("POST", "/vehicles/inspections"): write(
        (
            "POST",
            "/inspections",
            {
                "vehicle_id": "{b_car}",
                "kind": "inspection",
                "valid_from": "2026-01-01",
                "valid_until": "2027-01-01",
            },
        ),
    ),
    ("GET", "/vehicles/reminders"): listing("/reminders"),
    ("GET", "/vehicles/repair-shops"): listing("/repair-shops"),
    ("POST", "/vehicles/repair-shops"): write(
        ("POST", "/repair-shops", {"agency_id": "{B}", "name": "越权汽修"}),
    ),
    ("GET", "/vehicles/maintenance"): listing("/maintenance"),
    ("POST", "/vehicles/maintenance"): write(
        (
            "POST",
            "/maintenance",
            {
                "agency_id": "{B}",
                "plate": B_PLATE,
                "shop_id": "{b_shop}",
                "kind": "service",
                "date": "2026-03-02",
                "amount": "300",
            },
        ),
    ),
    ("POST", "/vehicles/maintenance/{maintenance_id}/approve"): write(
        ("POST", "/maintenance/{b_request}/approve", {"note": "越权批准"}),
    ),
    ("POST", "/vehicles/maintenance/{maintenance_id}/reject"): write(
        ("POST", "/maintenance/{b_request}/reject", {"reason": "越权驳回"}),
    ),
    ("POST", "/vehicles/maintenance/{maintenance_id}/complete"): write(
        ("POST", "/maintenance/{b_approved}/complete", {"amount": "8500"}),
    ),
    ("GET", "/vehicles/fuel-cards"): listing("/fuel-cards"),
    ("POST", "/vehicles/fuel-cards"): write(
        ("POST", "/fuel-cards", {"agency_id": "{B}", "number": "INTRUDER-1"}),
    ),
    ("POST", "/vehicles/fuel-cards/{card_id}/bind"): write(
        ("POST", "/fuel-cards/{b_card}/bind", {"vehicle_id": None}),
    ),
    ("GET", "/vehicles/refuellings"): listing("/refuellings"),
    ("POST", "/vehicles/refuellings"): write(
        ("POST", "/refuellings", {"card_id": "{b_card}", "at": NOW, "litres": 30, "amount": 234}),
        ("POST", "/refuellings", {"agency_id": "{B}", "at": NOW, "litres": 30, "amount": 234}),
    ),
    ("POST", "/vehicles/refuellings/import"): StatementImport(),
    ("GET", "/vehicles/disposal/eligible"): listing("/disposal/eligible"),
    ("GET", "/vehicles/disposals"): listing("/disposals"),
    ("POST", "/vehicles/disposals"): write(
        (
            "POST",
            "/disposals",
            {
                "vehicle_id": "{b_car}",
                "disposed_on": "2026-03-05",
                "method": "auction",
                "reason": "越权处置",
            },
        ),
    ),
    ("GET", "/vehicles/tco"): listing("/tco?start=2026-01-01&end=2027-01-01"),
    ("GET", "/vehicles/cases"): CaseListing(),
    ("GET", "/vehicles/cases/{case_id}"): Seeded(Detail(V1 + "/cases/{b_case}")),
    ("POST", "/vehicles/cases/{case_id}/verify"): write(
        ("POST", "/cases/{b_case}/verify", {"note": "越权核实"}),
    ),
    ("POST", "/vehicles/cases/{case_id}/dismiss"): write(
        ("POST", "/cases/{b_case}/dismiss", {"reason": "越权排除"}),
    ),
    ("POST", "/vehicles/cases/detect"): Detect(),
}
