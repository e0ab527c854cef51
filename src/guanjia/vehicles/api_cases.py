"""Misuse cases (违规线索) under /api/v1/vehicles/cases: list, detail, verify, dismiss, and a
run of the 私车公养 detectors over the caller's scope."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from guanjia.core.api import LimitOffset
from guanjia.core.models import Agency
from guanjia.core.schemas import Error
from guanjia.core.scope import subtree_q

from . import cases, signals_private_use
from .models import MisuseCase

router = Router(tags=["公务用车"])
WRITE_ERRORS = {400: Error, 403: Error, 404: Error, 422: Error}


class CaseOut(Schema):
    id: int
    agency_id: int
    agency_name: str = Field(alias="agency.name")
    vehicle_id: int | None
    plate: str | None
    rule: str
    rule_label: str
    title: str
    source: str
    episode_start: dt.datetime
    episode_end: dt.datetime | None
    status: str
    resolution: str
    handled_by_id: int | None
    handled_at: dt.datetime | None
    opened_at: dt.datetime
    overdue: bool = Field(description="超过24小时未处理（DB51/T 9002—2021 8.2）")

    @staticmethod
    def resolve_overdue(obj) -> bool:
        return cases.is_overdue(obj)

    @staticmethod
    def resolve_plate(obj) -> str | None:
        return obj.vehicle.plate if obj.vehicle_id else None

    @staticmethod
    def resolve_rule_label(obj) -> str:
        return cases.rule_label(obj.rule)


class CaseDetailOut(CaseOut):
    evidence: dict


class CaseFilter(Schema):
    rule: str | None = None
    status: str | None = Field(None, description="open / verified / dismissed")
    agency: int | None = Field(None, description="单位 id（含下级单位）")
    vehicle: int | None = None
    overdue: bool | None = Field(None, description="true：只看超过24小时未核实或排除的线索")


class NoteIn(Schema):
    note: str = ""


class ReasonIn(Schema):
    reason: str


class DetectIn(Schema):
    agency_id: int | None = None
    since: dt.date | None = None
    until: dt.date | None = Field(None, description="不含该日")
    rules: list[str] | None = None


class DetectOut(Schema):
    found: dict[str, int]
    opened: dict[str, int]
    case_ids: list[int]


def _cases(request, action="view"):
    return MisuseCase.objects.restrict(request.user, action).select_related("agency", "vehicle")


@router.get("/cases", response=list[CaseOut], summary="违规线索")
@paginate(LimitOffset)
def list_cases(request, filters: Query[CaseFilter]):
    qs = _cases(request)
    if filters.rule:
        qs = qs.filter(rule=filters.rule)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.agency:
        agency = get_object_or_404(Agency.objects.restrict(request.user), pk=filters.agency)
        qs = qs.filter(subtree_q("agency", agency))
    if filters.vehicle:
        qs = qs.filter(vehicle_id=filters.vehicle)
    if filters.overdue is not None:
        overdue = cases.overdue_q()
        qs = qs.filter(overdue) if filters.overdue else qs.exclude(overdue)
    return qs.order_by("-episode_start", "-pk")


@router.get("/cases/{int:case_id}", response=CaseDetailOut, summary="违规线索详情")
def get_case(request, case_id: int):
    return get_object_or_404(_cases(request), pk=case_id)


@router.post(
    "/cases/{int:case_id}/verify", response={200: CaseDetailOut, **WRITE_ERRORS}, summary="核实"
)
def verify(request, case_id: int, data: NoteIn):
    case = get_object_or_404(_cases(request, "change"), pk=case_id)
    return cases.verify_case(request.user, case, data.note)


@router.post(
    "/cases/{int:case_id}/dismiss", response={200: CaseDetailOut, **WRITE_ERRORS}, summary="排除"
)
def dismiss(request, case_id: int, data: ReasonIn):
    """排除须填写理由；已处理的线索不能再次处理。"""
    case = get_object_or_404(_cases(request, "change"), pk=case_id)
    return cases.dismiss_case(request.user, case, data.reason)


@router.post("/cases/detect", response={200: DetectOut, **WRITE_ERRORS}, summary="运行私车公养检测")
def detect(request, data: DetectIn):
    """在调用者的数据范围内（可限定单位及以下、时间段、规则）检查加油与维修记录，
    为新发现的情形立案；已有的线索（包括已处理的）不会重复立案。"""
    agency = None
    if data.agency_id is not None:
        agency = get_object_or_404(Agency.objects.restrict(request.user), pk=data.agency_id)
    unknown = set(data.rules or ()) - set(signals_private_use.DETECTORS)
    if unknown:
        raise ValidationError({"rules": f"未知规则：{', '.join(sorted(unknown))}"})
    return signals_private_use.detect(
        request.user, agency=agency, since=data.since, until=data.until, rules=data.rules
    )
