"""The data-scope matrix's cases (tests/core/test_scope_matrix) for the anti-food-waste
evaluation.

Agency B (成都) keeps a canteen with a submitted self-evaluation of 2026Q1 rated 不合格 and
a draft of 2026Q2 with every reviewer item marked. Whoever does not see B gets none of it
in lists, the export or the spot-check sample, 404 on its evaluations and on writes aimed
at them (nothing written); whoever sees everything sees and writes it (writes in a
rolled-back savepoint). The templates are reference data: everyone with the permission
reads them, but only whoever reaches every canteen, or works in the template's region,
edits one — the Sichuan template is "B's" for A's staff.
"""

import io
from functools import partial

from django.db import transaction
from openpyxl import load_workbook

from guanjia.canteens import evaluation, services
from guanjia.canteens.models import Canteen, EvaluationTemplate
from guanjia.core.models import Agency

from ..core.conftest import snapshot
from ..core.scope_kinds import Detail, Listing, SeededCase, Write, _items

V1 = "/api/v1/canteens"
B_CODE = "matrix-eval-b"
B_NAME = "成都评估矩阵食堂"


def seed(ctx) -> dict:
    canteen = Canteen.objects.filter(code=B_CODE).first()
    if canteen is None:
        b = Agency.objects.get(pk=ctx["B"])
        canteen = services.save_canteen(None, agency=b, code=B_CODE, name=B_NAME)
        done = evaluation.start_evaluation(None, canteen, "2026Q1")
        draft = evaluation.start_evaluation(None, canteen, "2026Q2")
        for ev in (done, draft):
            for row in ev.scores.select_related("item").filter(item__method="reviewer"):
                evaluation.mark_item(None, row, 0, "无制度")
        evaluation.submit(None, done)
    draft = canteen.evaluations.get(period="2026Q2")
    sichuan = EvaluationTemplate.objects.get(region__code="510000")
    general = EvaluationTemplate.objects.get(region__isnull=True, name__contains="通用")
    ctx.update(
        {
            "b_canteen": canteen.pk,
            "b_done": canteen.evaluations.get(period="2026Q1").pk,
            "b_draft": draft.pk,
            "b_item": draft.scores.filter(item__method="reviewer").first().item.code,
            "sichuan": sichuan.pk,
            "general": general.pk,
            "sichuan_items": _items_of(sichuan),
            "general_items": _items_of(general),
        }
    )
    return ctx


def _items_of(template) -> list[dict]:
    fields = ("code", "section", "title", "method", "indicator", "guidance", "order")
    rows = []
    for i in template.items.order_by("order"):
        row = {f: getattr(i, f) for f in fields}
        row |= {"weight": str(i.weight), "zero_at": _str(i.zero_at), "full_at": _str(i.full_at)}
        rows.append(row)
    return rows


def _str(d):
    return None if d is None else str(d)


Seeded = partial(SeededCase, seed)


def _b(item, ctx):
    return item["agency_id"] in ctx["b_ids"]


def listing(path):
    return Seeded(Listing(V1 + path, _b))


def detail(path):
    return Seeded(Detail(V1 + path))


def write(*attempts):
    return Seeded(Write(*[(m, V1 + u, body) for m, u, body in attempts]))


class TemplateCatalog:
    """Reference data: every template for whoever holds canteens.view, none without it."""

    def scoped(self, ctx, client, user):
        ids = {i["id"] for i in _items(client.get(V1 + "/evaluation-templates?limit=1000"))}
        assert ids == set(EvaluationTemplate.objects.values_list("pk", flat=True))
        assert {ctx["sichuan"], ctx["general"]} <= ids

    wide = scoped

    def norole(self, ctx, client, user):
        assert _items(client.get(V1 + "/evaluation-templates")) == []


class TemplateDetail:
    """The Sichuan template: readable with the permission, 404 without it."""

    def scoped(self, ctx, client, user):
        r = client.get(f"{V1}/evaluation-templates/{ctx['sichuan']}")
        assert r.status_code == 200 and len(r.json()["items"]) == len(ctx["sichuan_items"])

    wide = scoped

    def norole(self, ctx, client, user):
        assert client.get(f"{V1}/evaluation-templates/{ctx['sichuan']}").status_code == 404


class PeriodExport:
    """The workbook of 2026Q1: B's canteen only for whoever sees B."""

    url = V1 + "/evaluations/export.xlsx?period=2026Q1"

    def _names(self, client) -> set:
        r = client.get(self.url)
        assert r.status_code == 200, r.content
        wb = load_workbook(io.BytesIO(r.content))
        return {row[1] for ws in wb for row in ws.iter_rows(values_only=True)}

    def scoped(self, ctx, client, user):
        seed(ctx)
        assert B_NAME not in self._names(client)

    norole = scoped

    def wide(self, ctx, client, user):
        seed(ctx)
        assert B_NAME in self._names(client)


class StartOfB:
    """Starting an evaluation of B's canteen: 404 and nothing written for whoever does not
    see B; done (rolled back) for whoever sees everything."""

    bodies = (
        {"period": "2026Q3"},
        {"period": "2026Q3", "kind": "spot_check"},
    )

    def scoped(self, ctx, client, user):
        seed(ctx)
        for body in self.bodies:
            before = snapshot()
            r = client.post(
                V1 + "/evaluations",
                data={**body, "canteen_id": ctx["b_canteen"]},
                content_type="application/json",
            )
            assert r.status_code in (403, 404), r.content
            assert snapshot() == before

    norole = scoped

    def wide(self, ctx, client, user):
        seed(ctx)
        for body in self.bodies:
            with transaction.atomic():
                r = client.post(
                    V1 + "/evaluations",
                    data={**body, "canteen_id": ctx["b_canteen"]},
                    content_type="application/json",
                )
                assert r.status_code == 201 and r.json()["agency_id"] == ctx["B"], r.content
                transaction.set_rollback(True)


CASES = {
    ("GET", "/canteens/evaluation-templates"): Seeded(TemplateCatalog()),
    ("GET", "/canteens/evaluation-templates/{template_id}"): Seeded(TemplateDetail()),
    ("PUT", "/canteens/evaluation-templates/{template_id}/items"): write(
        ("PUT", "/evaluation-templates/{sichuan}/items", {"items": "{sichuan_items}"}),
        ("PUT", "/evaluation-templates/{general}/items", {"items": "{general_items}"}),
    ),
    ("GET", "/canteens/evaluations"): listing("/evaluations"),
    ("POST", "/canteens/evaluations"): StartOfB(),
    ("GET", "/canteens/evaluations/export.xlsx"): PeriodExport(),
    ("GET", "/canteens/evaluations/rectification"): listing("/evaluations/rectification"),
    ("GET", "/canteens/evaluations/spot-check-sample"): listing(
        "/evaluations/spot-check-sample?year=2026&region=510000"
    ),
    ("GET", "/canteens/evaluations/{evaluation_id}"): detail("/evaluations/{b_done}"),
    ("POST", "/canteens/evaluations/{evaluation_id}/compute"): write(
        ("POST", "/evaluations/{b_draft}/compute", None),
    ),
    ("POST", "/canteens/evaluations/{evaluation_id}/items/{code}"): write(
        ("POST", "/evaluations/{b_draft}/items/{b_item}", {"score": 1, "note": "越权"}),
    ),
    ("POST", "/canteens/evaluations/{evaluation_id}/submit"): write(
        ("POST", "/evaluations/{b_draft}/submit", None),
    ),
    ("GET", "/canteens/evaluations/{evaluation_id}/report.docx"): detail(
        "/evaluations/{b_done}/report.docx"
    ),
}
