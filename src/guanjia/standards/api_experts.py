"""Experts, review assignments and working documents under /api/v1/standards/.

Reads start from `restrict(request.user)`; writes go through `experts` (the services),
which re-check the scope and the rule that no one reviews their own agency's draft.
An uploaded document goes into the given agency (by default the caller's own).
"""

from datetime import datetime

from django.shortcuts import get_object_or_404
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from guanjia.core.api import LimitOffset
from guanjia.core.models import Agency, Region
from guanjia.core.schemas import Error

from . import documents
from . import experts as svc
from .models import Document, Expert, ReviewAssignment, Standard

router = Router(tags=["标准专家"])
WRITE_ERRORS = {403: Error, 404: Error, 422: Error}


class ExpertOut(Schema):
    id: int
    name: str
    field: str
    title: str
    agency_id: int
    agency_name: str
    region: str | None

    @staticmethod
    def resolve_agency_name(obj) -> str:
        return obj.agency.name

    @staticmethod
    def resolve_region(obj) -> str | None:
        return obj.region.code if obj.region_id else None


class ExpertIn(Schema):
    name: str
    field: str = ""
    title: str = ""
    agency_id: int
    region: str | None = None


class ExpertFilter(Schema):
    q: str | None = None
    field: str | None = None
    agency: int | None = None


class AssignIn(Schema):
    expert_id: int


class AssignmentOut(Schema):
    id: int
    standard_id: int
    expert: ExpertOut
    assigned_at: datetime


def _experts(request, action="view"):
    return Expert.objects.restrict(request.user, action).select_related("agency", "region")


@router.get("/experts", response=list[ExpertOut], summary="专家库")
@paginate(LimitOffset)
def list_experts(request, filters: Query[ExpertFilter]):
    qs = _experts(request)
    if filters.q:
        qs = qs.filter(name__contains=filters.q)
    if filters.field:
        qs = qs.filter(field__contains=filters.field)
    if filters.agency:
        qs = qs.filter(agency_id=filters.agency)
    return qs


@router.post("/experts", response={201: ExpertOut, **WRITE_ERRORS}, summary="新增专家")
def create_expert(request, data: ExpertIn):
    agency = get_object_or_404(Agency.objects.restrict(request.user), pk=data.agency_id)
    region = get_object_or_404(Region, code=data.region) if data.region else None
    expert = svc.create_expert(
        request.user,
        name=data.name,
        field=data.field,
        title=data.title,
        agency=agency,
        region=region,
    )
    return Status(201, _experts(request).get(pk=expert.pk))


@router.post(
    "/drafts/{int:standard_id}/reviewers",
    response={201: AssignmentOut, **WRITE_ERRORS},
    summary="指派审查专家",
)
def assign_reviewer(request, standard_id: int, data: AssignIn):
    """专家不能审查本单位的草案。"""
    standard = get_object_or_404(Standard.objects.restrict(request.user, "change"), pk=standard_id)
    expert = get_object_or_404(_experts(request), pk=data.expert_id)
    assignment = svc.assign_reviewer(request.user, standard, expert)
    return Status(
        201,
        ReviewAssignment.objects.select_related("expert__agency", "expert__region").get(
            pk=assignment.pk
        ),
    )


# -- documents ------------------------------------------------------------------------------


class DocumentOut(Schema):
    id: int
    title: str
    tags: str
    agency_id: int
    agency_name: str
    file_name: str
    uploaded_at: datetime
    excerpt: str

    @staticmethod
    def resolve_agency_name(obj) -> str:
        return obj.agency.name

    @staticmethod
    def resolve_file_name(obj) -> str:
        return obj.file.name.rsplit("/", 1)[-1] if obj.file else ""

    @staticmethod
    def resolve_excerpt(obj) -> str:
        return obj.text[:200]


class DocumentFilter(Schema):
    q: str | None = None
    tag: str | None = None


@router.get("/documents", response=list[DocumentOut], summary="文档检索")
@paginate(LimitOffset)
def list_documents(request, filters: Query[DocumentFilter]):
    """标题、标签或正文（.txt/.md/.docx 提取的文本）包含 q 的每个词；tag 按标签精确筛选。"""
    qs = Document.objects.restrict(request.user).select_related("agency")
    return documents.search(qs, filters.q or "", filters.tag or "")


@router.post("/documents", response={201: DocumentOut, **WRITE_ERRORS}, summary="上传文档")
def upload_document(
    request,
    file: File[UploadedFile],
    title: Form[str] = "",
    tags: Form[str] = "",
    agency_id: Form[int | None] = None,
):
    if file.size and file.size > documents.MAX_BYTES:
        return Status(422, {"detail": "文件超过 20 MB"})
    if agency_id is not None:
        agency = get_object_or_404(Agency, pk=agency_id)
    elif request.user.agency_id:
        agency = request.user.agency
    else:
        return Status(422, {"detail": "请指定所属单位 agency_id"})
    document = documents.upload_document(
        request.user,
        agency=agency,
        title=title,
        name=file.name or "upload.bin",
        content=file.read(),
        tags=tags,
    )
    return Status(201, Document.objects.select_related("agency").get(pk=document.pk))
