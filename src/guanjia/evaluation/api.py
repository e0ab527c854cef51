"""Requirement verdicts under /api/v1/evaluation/.

`GET /results?agency=&period=` reads the stored verdicts of an agency the caller may see
(RequirementResult through its evaluation scope); `POST /evaluate` recomputes and stores
them (evaluation.change on that agency).
"""

from django.core.exceptions import PermissionDenied, ValidationError
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from guanjia.core.api import WRITE_ERRORS, LimitOffset, visible
from guanjia.core.indicator_registry import Period
from guanjia.core.models import Agency
from guanjia.core.scope import scope_q

from . import services
from .models import RequirementResult

router = Router(tags=["达标评价"])


class ResultOut(Schema):
    agency_id: int
    period: str
    standard: str = Field(alias="requirement.clause.standard.code")
    clause: str = Field(alias="requirement.clause.number")
    requirement: str
    indicator: str
    op: str
    threshold: float
    unit: str = Field(alias="requirement.unit")
    value: float | None
    previous_value: float | None
    status: str
    stale: bool
    computed_at: str

    @staticmethod
    def resolve_requirement(obj) -> str:
        return str(obj.requirement)

    @staticmethod
    def resolve_computed_at(obj) -> str:
        return obj.computed_at.isoformat()


class ResultFilter(Schema):
    agency: int | None = Field(None, description="单位 id")
    period: str | None = Field(None, description="统计期：2026-03、2026Q3 或 2026")
    status: str | None = Field(None, description="pass、fail 或 no-data")


@router.get("/results", response=list[ResultOut], summary="达标结论")
@paginate(LimitOffset)
def list_results(request, filters: Query[ResultFilter]):
    qs = RequirementResult.objects.restrict(request.user).select_related(
        "requirement__clause__standard"
    )
    if filters.agency:
        qs = qs.filter(agency_id=filters.agency)
    if filters.period:
        qs = qs.filter(period=_period(filters.period).label)
    if filters.status:
        qs = qs.filter(status=filters.status)
    return qs.order_by("agency_id", "period", "requirement__clause__standard__code", "pk")


class EvaluateIn(Schema):
    agency_id: int
    period: str


class EvaluateOut(Schema):
    agency_id: int
    period: str
    summary: dict
    results: list[dict]


@router.post("/evaluate", response={200: EvaluateOut, **WRITE_ERRORS}, summary="重新评价")
def evaluate(request, data: EvaluateIn):
    """计算单位（含下级单位）该统计期每项已关联指标的量化要求并保存结论。"""
    agency = visible(request, Agency, data.agency_id)
    wanted = scope_q(Agency, request.user, "view", wanted="evaluation.change")
    if wanted is not None and not Agency.objects.filter(wanted, pk=agency.pk).exists():
        raise PermissionDenied("没有权限：evaluation.change")
    results = services.evaluate_and_store(agency, _period(data.period))
    return {
        "agency_id": agency.pk,
        "period": _period(data.period).label,
        "summary": services.summary(results),
        "results": [r.as_dict() for r in results],
    }


def _period(text: str) -> Period:
    try:
        return Period.parse(text)
    except ValueError as exc:
        raise ValidationError({"period": str(exc)}) from None
