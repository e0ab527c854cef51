"""REST API of the standards library under /api/v1/standards/.

Every query starts from `Standard.objects.restrict(request.user, …)` (published standards are
public; drafts and internal standards stay within their agency's scope and the
collaboration groups they are shared with); every write goes through `services`.
"""

import importlib
import importlib.util

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import LimitOffsetPagination, paginate

from guanjia.core import api as core_api
from guanjia.core.models import Agency, CollaborationGroup, Region
from guanjia.core.schemas import Error

from . import services
from .models import Clause, Standard
from .parsing import UnreadableFile, read_bytes
from .queries import matching, replaced_codes, standard_by_code
from .schemas import ClauseOut, ImportOut, StandardDetailOut, StandardOut, StandardPatch
from .sts import export_sts

router = Router(tags=["标准库"])
# Core's pages (a ?limit= above the maximum gives the largest page rather than a 422).
Pages = getattr(core_api, "LimitOffset", LimitOffsetPagination)
WRITE_ERRORS = {400: Error, 403: Error, 404: Error, 422: Error}
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def _standards(request, action="view"):
    return (
        Standard.objects.restrict(request.user, action)
        .with_status()
        .select_related("agency", "region")
    )


def _standard(request, standard_id: int, action="view") -> Standard:
    return get_object_or_404(_standards(request, action), pk=standard_id)


class StandardFilter(Schema):
    q: str | None = Field(None, description="编号（任意写法）或名称中的文字")
    level: str | None = Field(None, description="national / industry / local / group / internal")
    region: str | None = Field(None, description="地区代码（含下级地区），如 500000")
    status: str | None = Field(None, description="in_force / published / superseded / withdrawn …")
    agency: int | None = Field(None, description="维护单位 id")


def _filtered(request, filters: StandardFilter):
    qs = matching(_standards(request), filters.q or "")
    if filters.level:
        qs = qs.filter(level=filters.level)
    if filters.region:
        region = get_object_or_404(Region, code=filters.region)
        qs = qs.filter(region__path__startswith=region.path)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.agency:
        qs = qs.filter(agency_id=filters.agency)
    return qs.order_by("status_rank", "code_prefix", "code_number", "-year")


class _Detail:
    """The standard, with the computed parts of its detail view laid over it."""

    def __init__(self, standard: Standard, **parts):
        self._standard = standard
        self.__dict__.update(parts)

    def __getattr__(self, name):
        return getattr(self._standard, name)


def _detail(request, standard: Standard) -> _Detail:
    visible = _standards(request)
    refs = list(standard.references.all())
    target_ids = {r.target_id for r in refs if r.target_id}
    seen = set(visible.filter(pk__in=target_ids).values_list("pk", flat=True))
    return _Detail(
        standard,
        clauses=list(standard.clauses.order_by("position")),
        terms=list(standard.terms.all()),
        references=[
            {
                "code": r.code,
                "dated": r.dated,
                "title": r.title,
                "in_library": r.target_id in seen,
                "target_id": r.target_id if r.target_id in seen else None,
            }
            for r in refs
        ],
        replaces=replaced_codes(standard),
        replaces_in_library=list(visible.filter(replaced_by=standard).order_by("-year")),
        replaced_by=list(visible.filter(replaces=standard).order_by("-year")),
        shared_with=list(standard.shared_with.values_list("pk", flat=True)),
        has_source_file=bool(standard.source_file),
    )


@router.get("", response=list[StandardOut], summary="标准列表")
@paginate(Pages)
def list_standards(request, filters: Query[StandardFilter]):
    """层级 level（national/industry/local/group/internal）、地区 region（含下级地区）、
    状态 status（in_force/superseded/…）、维护单位 agency；q 按编号或名称筛选。
    现行标准排在前面。全文检索见 /standards/search。"""
    return _filtered(request, filters)


@router.post("/import", response={200: ImportOut, 201: ImportOut, **WRITE_ERRORS})
def import_standard(
    request,
    file: File[UploadedFile],
    agency_id: Form[int | None] = None,
    is_public: Form[bool | None] = None,
):
    """上传标准文件（.txt/.md/.docx/NISO STS .xml）导入标准库：同编号同年代号则更新（200），
    否则新增（201）。需要 standards.add（更新需要 standards.change）。"""
    if file.size and file.size > MAX_UPLOAD_BYTES:
        return Status(422, {"detail": "文件超过 20 MB"})
    content = file.read()
    try:
        doc = read_bytes(content, file.name or "upload.txt")
    except UnreadableFile as exc:
        return Status(422, {"detail": f"无法读取：{exc}"})
    if agency_id is not None:
        agency = get_object_or_404(Agency, pk=agency_id)
    else:
        agency = request.user.agency or services.default_agency()
        if agency is None:
            return Status(422, {"detail": "请指定维护单位 agency_id"})
    standard, created = services.import_document(
        request.user, doc, agency, source_file=(file.name, content), is_public=is_public
    )
    out = {
        "created": created,
        "standard": _standard(request, standard.pk),
        "clauses": len(doc.clauses),
        "terms": len(doc.terms),
        "references": len(doc.references),
        "linked": standard.references.filter(target__isnull=False).count(),
    }
    return Status(201 if created else 200, out)


@router.get("/by-code/{path:code}", response=StandardDetailOut, summary="按编号查标准")
def get_standard_by_code(request, code: str):
    """编号任意写法（`DB50/T 9001—2022`、`db50/t9001-2022`，URL 编码）；不带年代号时取最新版本。"""
    try:
        standard = standard_by_code(code, _standards(request))
    except LookupError as exc:
        raise Http404(str(exc)) from None
    return _detail(request, standard)


@router.get("/{int:standard_id}", response=StandardDetailOut, summary="标准详情")
def get_standard(request, standard_id: int):
    return _detail(request, _standard(request, standard_id))


@router.get("/{int:standard_id}/clauses", response=list[ClauseOut], summary="标准的条款")
@paginate(Pages)
def list_clauses(request, standard_id: int, kind: str | None = None):
    standard = _standard(request, standard_id)
    qs = Clause.objects.filter(standard=standard).order_by("position")
    if kind:
        qs = qs.filter(kind=kind)
    return qs


@router.get("/{int:standard_id}/sts", summary="导出 NISO STS XML", response={200: None, 404: Error})
def export_standard_sts(request, standard_id: int):
    from .document import document_from_standard

    standard = _standard(request, standard_id)
    xml = export_sts(document_from_standard(standard))
    response = HttpResponse(xml, content_type="application/xml; charset=utf-8")
    name = standard.code_key.replace("/", "-")
    response["Content-Disposition"] = f'attachment; filename="{name}.xml"'
    return response


@router.patch("/{int:standard_id}", response={200: StandardOut, **WRITE_ERRORS})
def update_standard(request, standard_id: int, data: StandardPatch):
    """修改编目信息（名称、日期、阶段、公开、维护单位、共享小组）；正文请重新导入文件。"""
    standard = _standard(request, standard_id, "change")
    fields = data.dict(exclude_unset=True, exclude={"agency_id", "shared_with"})
    if data.agency_id is not None:
        fields["agency"] = get_object_or_404(Agency, pk=data.agency_id)
    shared = None
    if data.shared_with is not None:
        shared = list(CollaborationGroup.objects.filter(pk__in=data.shared_with))
        if len(shared) != len(set(data.shared_with)):
            raise Http404("未找到协作小组")
    services.update_standard(request.user, standard, shared_with=shared, **fields)
    return _standard(request, standard_id)


@router.delete("/{int:standard_id}", response={204: None, **WRITE_ERRORS})
def delete_standard(request, standard_id: int):
    services.delete_standard(request.user, _standard(request, standard_id, "delete"))
    return Status(204, None)


# The search and analysis endpoints live in their own modules, under the same prefix.
for _name in (
    "api_search",
    "api_analysis",
    "api_frameworks",
    "api_drafting",
    "api_requirements",
    "api_export",
    "api_experts",
):
    if importlib.util.find_spec(f"guanjia.standards.{_name}") is not None:
        router.add_router("", importlib.import_module(f"guanjia.standards.{_name}").router)
