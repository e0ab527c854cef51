"""The anti-food-waste evaluation under /api/v1/canteens/: templates (reference data, edited
per region), evaluations with their items, scoring, submission, the Word report, the Excel
workbook of a period, the rectification list and the spot-check sample.

Reads start from `restrict(request.user)`; writes go through `evaluation` (the services),
which check the permission, the rule that nobody spot-checks their own agency, and the
written object's scope. A canteen or evaluation the caller cannot see is a 404.
"""

from decimal import Decimal

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from guanjia.core.api import WRITE_ERRORS, LimitOffset, visible
from guanjia.core.models import Region
from guanjia.core.schemas import Error

from . import evaluation, evaluation_report
from .models import Canteen, Evaluation, EvaluationItem, EvaluationScore, EvaluationTemplate
from .reference_evaluation import install_missing

router = Router(tags=["机关食堂"])


# -- templates --------------------------------------------------------------------------------


class ItemOut(Schema):
    id: int
    code: str
    section: str
    title: str
    weight: Decimal
    method: str
    indicator: str
    zero_at: Decimal | None
    full_at: Decimal | None
    guidance: str
    order: int


class TemplateOut(Schema):
    id: int
    name: str
    region: str | None = Field(None, description="行政区划代码，空为通用模板")
    source: str
    pass_score: Decimal
    good_score: Decimal
    excellent_score: Decimal
    is_active: bool
    weight_total: Decimal


class TemplateDetailOut(TemplateOut):
    items: list[ItemOut]


def _template_out(t: EvaluationTemplate, with_items: bool = False) -> dict:
    items = list(t.items.order_by("order", "code"))
    out = {
        "id": t.pk, "name": t.name, "region": t.region.code if t.region_id else None,
        "source": t.source, "pass_score": t.pass_score, "good_score": t.good_score,
        "excellent_score": evaluation.excellent_score(t), "is_active": t.is_active,
        "weight_total": evaluation.weight_total(i.weight for i in items),
    }  # fmt: skip
    if with_items:
        out["items"] = items
    return out


@router.get("/evaluation-templates", response=list[TemplateOut], summary="反食品浪费评估模板")
@paginate(LimitOffset)
def list_templates(request):
    install_missing()  # the regional templates, once the regions are loaded
    qs = EvaluationTemplate.objects.restrict(request.user).select_related("region")
    return [_template_out(t) for t in qs.order_by("name")]


@router.get(
    "/evaluation-templates/{template_id}",
    response={200: TemplateDetailOut, 404: Error},
    summary="评估模板及评估项",
)
def get_template(request, template_id: int):
    return _template_out(visible(request, EvaluationTemplate, template_id), with_items=True)


class ItemIn(Schema):
    code: str
    section: str
    title: str
    weight: Decimal
    method: EvaluationItem.Method
    indicator: str = ""
    zero_at: Decimal | None = None
    full_at: Decimal | None = None
    guidance: str = ""
    order: int = 0


class ItemsIn(Schema):
    items: list[ItemIn]


@router.put(
    "/evaluation-templates/{template_id}/items",
    response={200: TemplateDetailOut, **WRITE_ERRORS},
    summary="修改评估项与分值（合计须为100）",
)
def save_template_items(request, template_id: int, data: ItemsIn):
    """整体替换模板的评估项（按编号匹配）。分值合计不为100时拒绝；已有评分记录的评估项不能删除。
    仅可修改本地区及下级地区的模板（全部数据权限可修改任意模板）。"""
    template = visible(request, EvaluationTemplate, template_id, "change")
    evaluation.save_template_items(request.user, template, [i.dict() for i in data.items])
    return _template_out(template, with_items=True)


# -- evaluations ------------------------------------------------------------------------------


class EvaluationOut(Schema):
    id: int
    canteen_id: int
    canteen: str = Field(alias="canteen.code")
    canteen_name: str = Field(alias="canteen.name")
    agency_id: int = Field(alias="canteen.agency_id")
    template_id: int
    period: str
    kind: str
    status: str
    score: Decimal | None
    grade: str
    reviewer_id: int | None


class ScoreOut(Schema):
    id: int
    code: str
    section: str
    title: str
    method: str
    indicator: str | None
    value: float | None
    score: float | None
    weight: float
    note: str
    guidance: str
    evidence: str
    marked_by: str


class EvaluationDetailOut(EvaluationOut):
    items: list[ScoreOut]


def _detail(ev: Evaluation) -> Evaluation:
    ev = Evaluation.objects.select_related("canteen").get(pk=ev.pk)
    ev.items = evaluation.item_rows(ev)
    return ev


class EvaluationFilter(Schema):
    period: str | None = Field(None, description="季度，如 2026Q3")
    kind: Evaluation.Kind | None = None
    grade: str | None = Field(None, description="优秀、良好、合格、不合格")
    canteen: int | None = None


@router.get("/evaluations", response=list[EvaluationOut], summary="反食品浪费评估")
@paginate(LimitOffset)
def list_evaluations(request, filters: Query[EvaluationFilter]):
    qs = evaluation.evaluations(request.user, filters.period, filters.kind, filters.grade)
    if filters.canteen:
        qs = qs.filter(canteen_id=filters.canteen)
    return qs


class EvaluationIn(Schema):
    canteen_id: int
    period: str = Field(description="季度，如 2026Q3")
    kind: Evaluation.Kind = Evaluation.Kind.SELF


@router.post(
    "/evaluations",
    response={201: EvaluationDetailOut, **WRITE_ERRORS},
    summary="开始季度自评或抽查评估（并计算指标项）",
)
def start_evaluation(request, data: EvaluationIn):
    """已有同期同类评估时返回该评估（草稿则重新计算指标项）。抽查评估不能由食堂所属单位的人员进行。"""
    canteen = visible(request, Canteen, data.canteen_id)
    ev = evaluation.start_evaluation(request.user, canteen, data.period, data.kind)
    return Status(201, _detail(ev))


@router.get("/evaluations/export.xlsx", summary="评估期内全部评估（含排名与整改名单）Excel")
def export_period(request, period: str):
    quarter = evaluation.parse_quarter(period).label
    response = HttpResponse(
        evaluation_report.period_workbook(request.user, quarter),
        content_type=evaluation_report.XLSX,
    )
    response["Content-Disposition"] = f'attachment; filename="evaluations-{quarter}.xlsx"'
    return response


@router.get(
    "/evaluations/rectification", response=list[EvaluationOut], summary="不合格、须整改的食堂"
)
@paginate(LimitOffset)
def rectification(request, period: str | None = None):
    return evaluation.rectification(request.user, period)


class DrawOut(Schema):
    canteen_id: int
    canteen: str
    canteen_name: str
    agency_id: int
    agency_name: str
    last_checked: int | None
    priority: bool


@router.get(
    "/evaluations/spot-check-sample",
    response={200: list[DrawOut], 404: Error},
    summary="年度抽查名单（不少于35%，优先近两年未抽查的食堂）",
)
def spot_check_sample(request, year: int, region: str | None = None, seed: str | None = None):
    area = get_object_or_404(Region.objects.all(), code=region) if region else None
    draws = evaluation.sample_spot_checks(request.user, area, year, seed)
    return [
        {
            "canteen_id": d.canteen.pk,
            "canteen": d.canteen.code,
            "canteen_name": d.canteen.name,
            "agency_id": d.canteen.agency_id,
            "agency_name": d.canteen.agency.name,
            "last_checked": d.last_checked,
            "priority": d.priority,
        }
        for d in draws
    ]


@router.get(
    "/evaluations/{evaluation_id}",
    response={200: EvaluationDetailOut, 404: Error},
    summary="评估详情（各评估项得分）",
)
def get_evaluation(request, evaluation_id: int):
    return _detail(visible(request, Evaluation, evaluation_id))


@router.post(
    "/evaluations/{evaluation_id}/compute",
    response={200: EvaluationDetailOut, **WRITE_ERRORS},
    summary="重新计算指标项",
)
def compute(request, evaluation_id: int):
    ev = visible(request, Evaluation, evaluation_id, "change")
    return _detail(evaluation.compute_indicators(request.user, ev))


class MarkIn(Schema):
    score: Decimal = Field(ge=0)
    note: str = ""


@router.post(
    "/evaluations/{evaluation_id}/items/{code}",
    response={200: EvaluationDetailOut, **WRITE_ERRORS},
    summary="评审项评分（佐证材料请在页面上传）",
)
def mark_item(request, evaluation_id: int, code: str, data: MarkIn):
    ev = visible(request, Evaluation, evaluation_id, "change")
    row = get_object_or_404(
        EvaluationScore.objects.restrict(request.user, "change").select_related("item"),
        evaluation=ev, item__code=code,
    )  # fmt: skip
    evaluation.mark_item(request.user, row, data.score, data.note)
    return _detail(ev)


@router.post(
    "/evaluations/{evaluation_id}/submit",
    response={200: EvaluationDetailOut, **WRITE_ERRORS},
    summary="提交评估（抽查评估提交即定级）",
)
def submit(request, evaluation_id: int):
    ev = visible(request, Evaluation, evaluation_id, "change")
    return _detail(evaluation.submit(request.user, ev))


@router.get("/evaluations/{evaluation_id}/report.docx", summary="评估报告（Word）")
def report(request, evaluation_id: int):
    ev = visible(request, Evaluation, evaluation_id)
    response = HttpResponse(evaluation_report.word_report(ev), content_type=evaluation_report.DOCX)
    name = f"evaluation-{ev.canteen.code}-{ev.period}-{ev.kind}.docx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
