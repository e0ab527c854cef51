"""Joint drafting (联合起草) under /api/v1/standards/drafts/.

Reads start from `restrict(request.user)`: the drafts and periods of the caller's scope,
plus those opened to a collaboration group the caller's agency belongs to; comments of
the drafters' scope, plus the caller's agency's own. Writes go through `drafting` (the
services), which re-check the scope; commenting is checked there against the period's
group, not the draft's scope.
"""

from __future__ import annotations

from datetime import date, datetime

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from guanjia.core.api import LimitOffset
from guanjia.core.models import CollaborationGroup
from guanjia.core.schemas import Error

from . import drafting
from .models import PRE_PUBLICATION, Comment, CommentPeriod, DraftVersion, Standard

router = Router(tags=["联合起草"])
WRITE_ERRORS = {400: Error, 403: Error, 404: Error, 422: Error}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


# -- shapes -------------------------------------------------------------------------------


class DraftOut(Schema):
    id: int
    code: str
    title: str
    stage: str
    agency_id: int
    agency_name: str

    @staticmethod
    def resolve_agency_name(obj) -> str:
        return obj.agency.name


class VersionOut(Schema):
    id: int
    number: int
    note: str
    clauses: list[list[str]] = Field(description="[[章条编号, 标题, 内容], …]")
    created_at: datetime


class VersionIn(Schema):
    note: str = ""


class PeriodOut(Schema):
    id: int
    standard_id: int
    version_id: int
    version_number: int
    group_id: int
    group_name: str
    opens: date
    closes: date

    @staticmethod
    def resolve_version_number(obj) -> int:
        return obj.version.number

    @staticmethod
    def resolve_group_name(obj) -> str:
        return obj.group.name


class PeriodIn(Schema):
    group_id: int
    opens: date
    closes: date
    version_id: int | None = Field(None, description="缺省为最新版本（无版本时生成）")


class CommentOut(Schema):
    id: int
    period_id: int
    clause_number: str
    text: str
    agency_id: int
    agency_name: str
    disposition: str
    reason: str
    created_at: datetime

    @staticmethod
    def resolve_agency_name(obj) -> str:
        return obj.agency.name


class CommentIn(Schema):
    clause_number: str = Field("", description="章条编号；空为对草案总体的意见")
    text: str


class DispositionIn(Schema):
    disposition: str = Field(description="adopted（采纳）、partly（部分采纳）或 rejected（未采纳）")
    reason: str = ""


class PublishIn(Schema):
    issue_date: date
    effective_date: date | None = None


# -- helpers ------------------------------------------------------------------------------


def _draft(request, pk: int, action="view") -> Standard:
    qs = Standard.objects.restrict(request.user, action).filter(stage__in=PRE_PUBLICATION)
    return get_object_or_404(qs.select_related("agency"), pk=pk)


def _period(request, pk: int, action="view") -> CommentPeriod:
    qs = CommentPeriod.objects.restrict(request.user, action).distinct()  # via group members
    return get_object_or_404(qs.select_related("standard", "version", "group"), pk=pk)


def _file(content: bytes, content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# -- drafts and versions ------------------------------------------------------------------


@router.get("/drafts", response=list[DraftOut], summary="草案列表")
@paginate(LimitOffset)
def list_drafts(request, stage: str | None = None):
    """可见的草案（起草中、征求意见、审查中、已批准），含本单位参与征求意见的草案。"""
    qs = Standard.objects.restrict(request.user).filter(stage__in=PRE_PUBLICATION)
    if stage:
        qs = qs.filter(stage=stage)
    return qs.select_related("agency").order_by("-updated_at", "pk")


@router.get(
    "/drafts/{int:standard_id}/versions",
    response={200: list[VersionOut], 404: Error},
    summary="草案版本",
)
def list_versions(request, standard_id: int):
    draft = _draft(request, standard_id)
    return list(DraftVersion.objects.restrict(request.user).filter(standard=draft))


@router.post(
    "/drafts/{int:standard_id}/versions",
    response={201: VersionOut, **WRITE_ERRORS},
    summary="保存新版本",
)
def create_version(request, standard_id: int, data: VersionIn):
    draft = _draft(request, standard_id, "change")
    return Status(201, drafting.save_version(request.user, draft, data.note))


# -- comment periods ----------------------------------------------------------------------


@router.get(
    "/drafts/{int:standard_id}/periods",
    response={200: list[PeriodOut], 404: Error},
    summary="征求意见列表",
)
def list_periods(request, standard_id: int):
    draft = _draft(request, standard_id)
    qs = CommentPeriod.objects.restrict(request.user).filter(standard=draft).distinct()
    return list(qs.select_related("version", "group"))


@router.post(
    "/drafts/{int:standard_id}/periods",
    response={201: PeriodOut, **WRITE_ERRORS},
    summary="发起征求意见",
)
def open_period(request, standard_id: int, data: PeriodIn):
    """向协作小组成员单位征求意见（草案进入“征求意见”阶段）。"""
    draft = _draft(request, standard_id, "change")
    group = get_object_or_404(CollaborationGroup.objects.restrict(request.user), pk=data.group_id)
    version = None
    if data.version_id is not None:
        version = get_object_or_404(draft.versions.all(), pk=data.version_id)
    period = drafting.open_comment_period(
        request.user, draft, group, data.opens, data.closes, version=version
    )
    return Status(201, period)


@router.get(
    "/drafts/periods/{int:period_id}/comments",
    response={200: list[CommentOut], 404: Error},
    summary="意见列表",
)
def list_comments(request, period_id: int):
    """起草单位看到全部意见，参与单位只看到本单位的意见及其处理情况。"""
    period = _period(request, period_id)
    qs = Comment.objects.restrict(request.user).filter(period=period)
    return list(qs.select_related("agency"))


@router.post(
    "/drafts/periods/{int:period_id}/comments",
    response={201: CommentOut, **WRITE_ERRORS},
    summary="提出意见",
)
def create_comment(request, period_id: int, data: CommentIn):
    """征求意见范围内单位的用户在征求意见期内对某一条（或草案总体）提出意见。"""
    period = _period(request, period_id)
    comment = drafting.add_comment(request.user, period, data.clause_number, data.text)
    return Status(201, comment)


@router.patch(
    "/drafts/comments/{int:comment_id}",
    response={200: CommentOut, **WRITE_ERRORS},
    summary="处理意见",
)
def dispose_comment(request, comment_id: int, data: DispositionIn):
    qs = Comment.objects.restrict(request.user, "change").select_related("agency")
    comment = get_object_or_404(qs, pk=comment_id)
    return drafting.dispose(request.user, comment, data.disposition, data.reason)


@router.get(
    "/drafts/periods/{int:period_id}/export.xlsx",
    response={200: None, 404: Error},
    summary="导出意见汇总处理表（Excel）",
)
def export_xlsx(request, period_id: int):
    period = _period(request, period_id, "change")
    return _file(drafting.export_comments_xlsx(period), XLSX, f"comments-{period.pk}.xlsx")


@router.get(
    "/drafts/periods/{int:period_id}/export.docx",
    response={200: None, 404: Error},
    summary="导出意见汇总处理表（Word）",
)
def export_docx(request, period_id: int):
    period = _period(request, period_id, "change")
    return _file(drafting.export_comments_docx(period), DOCX, f"comments-{period.pk}.docx")


# -- review, approval, publication ----------------------------------------------------------


@router.post(
    "/drafts/{int:standard_id}/submit",
    response={200: DraftOut, **WRITE_ERRORS},
    summary="提交审查",
)
def submit(request, standard_id: int):
    return drafting.submit_for_review(request.user, _draft(request, standard_id, "change"))


@router.post(
    "/drafts/{int:standard_id}/approve",
    response={200: DraftOut, **WRITE_ERRORS},
    summary="批准",
)
def approve(request, standard_id: int):
    """全部意见处理完毕后批准。"""
    return drafting.approve(request.user, _draft(request, standard_id, "change"))


@router.post(
    "/drafts/{int:standard_id}/publish",
    response={200: DraftOut, **WRITE_ERRORS},
    summary="发布",
)
def publish(request, standard_id: int, data: PublishIn):
    draft = _draft(request, standard_id, "change")
    return drafting.publish(
        request.user, draft, issue_date=data.issue_date, effective_date=data.effective_date
    )
