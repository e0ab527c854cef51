"""Scorecards under /api/v1/scorecards/: templates, assessments (self-assessment, expert
review, final score) and rankings. Reads go through `restrict()`; writes through the
scorecards services, which check the permission, the data scope and the rule that no one
reviews their own agency. An assessment or expert outside the caller's scope is a 404."""

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from guanjia.core.api import WRITE_ERRORS, LimitOffset, visible
from guanjia.core.models import Agency
from guanjia.standards.models import Expert

from . import scorecards
from .models import Assessment, ScorecardTemplate

router = Router(tags=["考评"])


class ItemOut(Schema):
    code: str
    section: str
    title: str
    weight: float
    rule: str
    indicator: str
    op: str
    threshold: float | None
    zero_at: float | None
    full_at: float | None
    guidance: str


class TemplateOut(Schema):
    key: str
    name: str
    region: str | None = Field(None, alias="region.code")
    source: str
    pass_line: float
    good_line: float
    excellent_line: float
    items: list[ItemOut]

    @staticmethod
    def resolve_items(obj) -> list:
        return list(obj.items.all())


@router.get("/templates", response=list[TemplateOut], summary="考评模板")
def list_templates(request):
    return (
        ScorecardTemplate.objects.restrict(request.user)
        .filter(is_active=True)
        .select_related("region")
        .prefetch_related("items")
    )


class AssessmentRow(Schema):
    id: int
    agency_id: int
    agency: str = Field(alias="agency.name")
    template: str = Field(alias="template.key")
    period: str
    status: str
    self_score: float | None
    final_score: float | None
    grade: str


class AssessmentFilter(Schema):
    period: str | None = Field(None, description="考评期：2026、2026Q3 或 2026-03")
    template: str | None = Field(None, description="模板标识")
    status: str | None = Field(None, description="self、submitted、reviewed 或 final")
    agency: int | None = Field(None, description="单位 id")


@router.get("/assessments", response=list[AssessmentRow], summary="考评列表")
@paginate(LimitOffset)
def list_assessments(request, filters: Query[AssessmentFilter]):
    return scorecards.assessments(
        request.user, filters.period, filters.template, filters.status, filters.agency
    )


class StartIn(Schema):
    agency_id: int
    template: str
    period: str


def _detail(a: Assessment) -> dict:
    return scorecards.as_dict(a)


@router.post("/assessments", response={200: dict, **WRITE_ERRORS}, summary="开始自评")
def start(request, data: StartIn):
    """为单位开始某考评期的自评（已有则返回），指标项按单位（含下级单位）计算。"""
    agency = visible(request, Agency, data.agency_id)
    template = get_object_or_404(
        ScorecardTemplate.objects.restrict(request.user), key=data.template
    )
    return _detail(scorecards.start_assessment(request.user, agency, template, data.period))


def _assessment(request, pk: int, action: str = "view") -> Assessment:
    return visible(request, Assessment, pk, action)


@router.get("/assessments/{assessment_id}", response=dict, summary="考评详情")
def detail(request, assessment_id: int):
    return _detail(_assessment(request, assessment_id))


class ScoreIn(Schema):
    code: str
    score: float
    notes: str = ""


@router.post(
    "/assessments/{assessment_id}/scores", response={200: dict, **WRITE_ERRORS}, summary="自评打分"
)
def self_score(request, assessment_id: int, data: ScoreIn):
    """自评阶段为一项评审项打分（佐证材料在页面上传）。"""
    a = _assessment(request, assessment_id, "change")
    scorecards.score_item(request.user, a, data.code, data.score, data.notes)
    return _detail(a)


@router.post(
    "/assessments/{assessment_id}/submit", response={200: dict, **WRITE_ERRORS}, summary="提交自评"
)
def submit(request, assessment_id: int):
    a = _assessment(request, assessment_id, "change")
    return _detail(scorecards.submit(request.user, a))


class ReviewIn(Schema):
    expert_id: int
    marks: list[ScoreIn]


@router.post(
    "/assessments/{assessment_id}/review", response={200: dict, **WRITE_ERRORS}, summary="专家评审"
)
def review(request, assessment_id: int, data: ReviewIn):
    """专家库中被考评单位以外单位的专家为每项评审项打分；不能评审本单位。"""
    a = _assessment(request, assessment_id, "change")
    expert = get_object_or_404(Expert.objects.restrict(request.user), pk=data.expert_id)
    marks = {m.code: (m.score, m.notes) for m in data.marks}
    return _detail(scorecards.review(request.user, a, expert, marks))


@router.post(
    "/assessments/{assessment_id}/finalize",
    response={200: dict, **WRITE_ERRORS},
    summary="确定最终得分",
)
def finalize(request, assessment_id: int):
    a = _assessment(request, assessment_id, "change")
    return _detail(scorecards.finalize(request.user, a))


class RankingOut(Schema):
    rank: int
    key: str
    name: str
    score: float
    count: int
    grade: str
    agency_id: int | None


class RankingFilter(Schema):
    template: str
    period: str
    level: str = Field("agency", description="agency、district 或 province")


@router.get("/rankings", response=list[RankingOut], summary="考评排名")
def rankings(request, filters: Query[RankingFilter]):
    """单位、区县与省级排名（按可见的已定级考评）；模板是公开的参考数据，按标识查找。"""
    template = get_object_or_404(ScorecardTemplate, key=filters.template)
    return scorecards.rankings(request.user, template, filters.period, filters.level)
