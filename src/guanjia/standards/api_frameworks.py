"""Frameworks, agency functions and coverage under /api/v1/standards/.

Every read starts from `restrict(request.user)` (a public framework is read by whoever
holds standards.view, a private one and every function only within the owner's scope);
every write goes through `frameworks` (the services), which re-check the scope.
"""

from __future__ import annotations

from datetime import date

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from guanjia.core import api as core_api
from guanjia.core.models import Agency
from guanjia.core.schemas import Error

from . import frameworks as svc
from .models import AgencyFunction, FrameworkNode, Standard

router = Router(tags=["标准体系与覆盖"])
Pages = getattr(core_api, "LimitOffset", LimitOffsetPagination)
WRITE_ERRORS = {400: Error, 403: Error, 404: Error, 422: Error}


# -- shapes -------------------------------------------------------------------------------


def _agency_name(obj) -> str:
    agency = obj["agency"] if isinstance(obj, dict) else obj.agency
    return agency.name


class FrameworkOut(Schema):
    id: int
    name: str
    code: str
    description: str
    agency_id: int
    agency_name: str
    is_public: bool

    @staticmethod
    def resolve_agency_name(obj) -> str:
        return _agency_name(obj)


class NodeStandardOut(Schema):
    id: int
    code: str
    title: str
    level: str
    status: str
    effective_date: date | None


class NodeOut(Schema):
    id: int
    name: str
    code: str
    description: str
    depth: int
    standards: list[NodeStandardOut]
    children: list[NodeOut]


NodeOut.model_rebuild()


class FrameworkDetailOut(FrameworkOut):
    nodes: list[NodeOut] = Field(description="体系的下级节点（树）")
    standards: list[NodeStandardOut] = Field(description="挂在根节点上的标准")
    standard_count: int


class FrameworkIn(Schema):
    name: str
    code: str = ""
    description: str = ""
    agency_id: int | None = None
    is_public: bool = True


class NodeIn(Schema):
    parent_id: int = Field(description="上级节点（体系根节点或子体系）")
    name: str
    code: str = ""
    description: str = ""


class NodePatch(Schema):
    name: str | None = None
    code: str | None = None
    description: str | None = None
    is_public: bool | None = Field(None, description="仅体系根节点")


class NodeOnlyOut(Schema):
    id: int
    name: str
    code: str
    description: str
    depth: int
    agency_id: int
    is_public: bool


class AttachIn(Schema):
    add: list[int] = Field([], description="挂接的标准 id")
    remove: list[int] = Field([], description="取消挂接的标准 id")


class FunctionOut(Schema):
    id: int
    agency_id: int
    agency_name: str
    name: str
    description: str
    node_id: int | None
    standard_ids: list[int]

    @staticmethod
    def resolve_agency_name(obj) -> str:
        return _agency_name(obj)


class FunctionIn(Schema):
    name: str
    description: str = ""
    agency_id: int | None = None
    node_id: int | None = None
    standard_ids: list[int] = []


class FunctionPatch(Schema):
    name: str | None = None
    description: str | None = None
    agency_id: int | None = None
    node_id: int | None = None
    standard_ids: list[int] | None = None


class CoverageStandardOut(Schema):
    id: int
    code: str
    title: str
    status: str


class CoverageRowOut(Schema):
    id: int
    name: str
    agency_id: int
    agency_name: str
    node: str | None
    covered: bool
    standards: list[CoverageStandardOut]


class CoverageOut(Schema):
    agency: int
    agency_name: str
    functions: int
    covered: int
    rate: float | None = Field(description="覆盖率（%），无职能时为 null")
    gaps: list[CoverageRowOut] = Field(description="没有现行标准覆盖的职能")
    rows: list[CoverageRowOut] = Field(description="覆盖矩阵：每项职能及其标准")


# -- helpers ------------------------------------------------------------------------------


def _nodes(request, action="view"):
    return FrameworkNode.objects.restrict(request.user, action).select_related("agency")


def _framework(request, pk: int, action="view") -> FrameworkNode:
    return get_object_or_404(_nodes(request, action), pk=pk, depth=1)


def _node(request, pk: int, action="view") -> FrameworkNode:
    return get_object_or_404(_nodes(request, action), pk=pk)


def _visible_standards(request, ids) -> list[Standard]:
    found = list(Standard.objects.restrict(request.user).filter(pk__in=ids))
    if len(found) != len(set(ids)):
        raise Http404("未找到标准")
    return found


def _agency(request, pk: int | None) -> Agency:
    if pk is None:
        if request.user.agency_id is None:
            raise Http404("请指定单位 agency_id")
        return request.user.agency
    return get_object_or_404(Agency.objects.restrict(request.user), pk=pk)


def _std(s: Standard) -> dict:
    return {
        "id": s.pk,
        "code": s.code,
        "title": s.title,
        "level": s.level,
        "status": s.status,
        "status_label": s.get_status_display(),
        "effective_date": s.effective_date,
    }


def framework_tree(request, root: FrameworkNode) -> dict:
    """The framework with its nodes nested, each with its attached (visible) standards."""
    nodes = list(FrameworkNode.objects.filter(path__startswith=root.path).order_by("path"))
    through = FrameworkNode.standards.through
    pairs = list(
        through.objects.filter(frameworknode_id__in=[n.pk for n in nodes]).values_list(
            "frameworknode_id", "standard_id"
        )
    )
    visible = Standard.objects.restrict(request.user).with_status()
    found = {s.pk: s for s in visible.filter(pk__in={sid for _n, sid in pairs})}
    attached: dict[int, list[dict]] = {}
    for nid, sid in pairs:
        if sid in found:
            attached.setdefault(nid, []).append(_std(found[sid]))
    for items in attached.values():
        items.sort(key=lambda s: s["code"])
    out: dict[str, dict] = {}
    for n in nodes:
        out[n.path] = {
            "id": n.pk,
            "name": n.name,
            "code": n.code,
            "description": n.description,
            "depth": n.depth,
            "standards": attached.get(n.pk, []),
            "children": [],
        }
        if n.depth > 1:
            out[n.path[: -n.steplen]]["children"].append(out[n.path])
    top = out[root.path]
    return {
        "id": root.pk,
        "name": root.name,
        "code": root.code,
        "description": root.description,
        "agency_id": root.agency_id,
        "agency": root.agency,
        "is_public": root.is_public,
        "nodes": top["children"],
        "standards": top["standards"],
        "standard_count": len({sid for _n, sid in pairs if sid in found}),
    }


def _function_out(f: AgencyFunction) -> dict:
    return {
        "id": f.pk,
        "agency_id": f.agency_id,
        "agency": f.agency,
        "name": f.name,
        "description": f.description,
        "node_id": f.node_id,
        "standard_ids": sorted(s.pk for s in f.standards.all()),
    }


def _row(r: svc.FunctionCoverage) -> dict:
    f = r.function
    return {
        "id": f.pk,
        "name": f.name,
        "agency_id": f.agency_id,
        "agency_name": f.agency.name,
        "node": str(f.node) if f.node_id else None,
        "covered": r.covered,
        "standards": [
            {"id": s.pk, "code": s.code, "title": s.title, "status": s.status} for s in r.standards
        ],
    }


# -- frameworks ---------------------------------------------------------------------------


@router.get("/frameworks", response=list[FrameworkOut], summary="标准体系列表")
@paginate(Pages)
def list_frameworks(request, agency: int | None = None):
    """可见的标准体系（公开的，以及数据范围内单位的非公开体系）。agency 按维护单位筛选。"""
    qs = _nodes(request).filter(depth=1)
    if agency:
        qs = qs.filter(agency_id=agency)
    return qs


@router.post("/frameworks", response={201: FrameworkOut, **WRITE_ERRORS}, summary="新建标准体系")
def create_framework(request, data: FrameworkIn):
    agency = _agency(request, data.agency_id)
    root = svc.create_framework(
        request.user,
        agency=agency,
        name=data.name,
        code=data.code,
        description=data.description,
        is_public=data.is_public,
    )
    return Status(201, root)


@router.get("/frameworks/{int:framework_id}", response=FrameworkDetailOut, summary="标准体系（树）")
def get_framework(request, framework_id: int):
    return framework_tree(request, _framework(request, framework_id))


@router.get(
    "/frameworks/{int:framework_id}/export.xlsx",
    response={200: None, 404: Error},
    summary="导出标准明细表（Excel）",
)
def export_framework(request, framework_id: int):
    """任一节点（体系根节点或子体系）的标准明细表：序号、体系编号、标准编号、标准名称、层级、
    状态、实施日期。"""
    node = _node(request, framework_id)
    content = svc.export_standard_list(node, Standard.objects.restrict(request.user))
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="framework-{node.pk}.xlsx"'
    return response


# -- nodes --------------------------------------------------------------------------------


@router.post(
    "/framework-nodes", response={201: NodeOnlyOut, **WRITE_ERRORS}, summary="新增体系节点"
)
def create_node(request, data: NodeIn):
    parent = _node(request, data.parent_id, "change")
    node = svc.add_node(
        request.user, parent, name=data.name, code=data.code, description=data.description
    )
    return Status(201, node)


@router.patch(
    "/framework-nodes/{int:node_id}",
    response={200: NodeOnlyOut, **WRITE_ERRORS},
    summary="修改节点",
)
def update_node(request, node_id: int, data: NodePatch):
    node = _node(request, node_id, "change")
    return svc.update_node(request.user, node, **data.dict(exclude_unset=True))


@router.delete(
    "/framework-nodes/{int:node_id}", response={204: None, **WRITE_ERRORS}, summary="删除节点"
)
def delete_node(request, node_id: int):
    """删除节点及其全部下级节点（删除根节点即删除整个体系）。"""
    svc.delete_node(request.user, _node(request, node_id, "delete"))
    return Status(204, None)


@router.post(
    "/framework-nodes/{int:node_id}/standards",
    response={200: NodeOut, **WRITE_ERRORS},
    summary="挂接标准到节点",
)
def attach_standards(request, node_id: int, data: AttachIn):
    node = _node(request, node_id, "change")
    add = _visible_standards(request, data.add)
    remove = list(node.standards.filter(pk__in=data.remove))
    svc.attach_standards(request.user, node, add=add, remove=remove)
    visible = Standard.objects.restrict(request.user).with_status()
    standards = [_std(s) for s in visible.filter(framework_nodes=node).order_by("code")]
    return {
        "id": node.pk,
        "name": node.name,
        "code": node.code,
        "description": node.description,
        "depth": node.depth,
        "standards": standards,
        "children": [],
    }


# -- functions ----------------------------------------------------------------------------


@router.get("/functions", response=list[FunctionOut], summary="单位职能列表")
@paginate(Pages)
def list_functions(request, agency: int | None = None, below: bool = True):
    """数据范围内单位的职能；agency 指定单位（below=true 含下级单位）。"""
    qs = AgencyFunction.objects.restrict(request.user).select_related("agency")
    if agency:
        root = _agency(request, agency)
        qs = qs.filter(agency__path__startswith=root.path) if below else qs.filter(agency=root)
    return [
        _function_out(f) for f in qs.prefetch_related("standards").order_by("agency__path", "pk")
    ]


def _function_fields(request, data, partial: bool) -> tuple[dict, list | None]:
    given = data.dict(exclude_unset=True) if partial else data.dict()
    fields = {k: given[k] for k in ("name", "description") if k in given}
    if not partial or "agency_id" in given:
        fields["agency"] = _agency(request, given.get("agency_id"))
    if "node_id" in given:
        nid = given["node_id"]
        fields["node"] = None if nid is None else _node(request, nid)
    standards = None
    if given.get("standard_ids") is not None:
        standards = _visible_standards(request, given["standard_ids"])
    return fields, standards


@router.post("/functions", response={201: FunctionOut, **WRITE_ERRORS}, summary="新增单位职能")
def create_function(request, data: FunctionIn):
    """standard_ids 为覆盖该职能的标准（覆盖关系）。"""
    fields, standards = _function_fields(request, data, partial=False)
    f = svc.save_function(request.user, standards=standards or [], **fields)
    return Status(201, _function_out(f))


def _function(request, pk: int, action: str) -> AgencyFunction:
    return get_object_or_404(
        AgencyFunction.objects.restrict(request.user, action).select_related("agency"), pk=pk
    )


@router.patch(
    "/functions/{int:function_id}", response={200: FunctionOut, **WRITE_ERRORS}, summary="修改职能"
)
def update_function(request, function_id: int, data: FunctionPatch):
    """可修改名称、说明、单位、体系节点；standard_ids 重设覆盖该职能的标准。"""
    f = _function(request, function_id, "change")
    fields, standards = _function_fields(request, data, partial=True)
    f = svc.save_function(request.user, f, standards=standards, **fields)
    return _function_out(f)


@router.delete(
    "/functions/{int:function_id}", response={204: None, **WRITE_ERRORS}, summary="删除职能"
)
def delete_function(request, function_id: int):
    svc.delete_function(request.user, _function(request, function_id, "delete"))
    return Status(204, None)


# -- coverage -----------------------------------------------------------------------------


class CoverageQuery(Schema):
    agency: int | None = Field(None, description="单位 id（含下级单位）；缺省为本人单位")


@router.get("/coverage", response=CoverageOut, summary="职能标准覆盖率与缺口")
def get_coverage(request, query: Query[CoverageQuery]):
    """覆盖率 = 至少有一项现行标准覆盖的职能数 / 职能总数（%，保留两位小数）；
    gaps 列出尚无现行标准覆盖的职能。"""
    agency = _agency(request, query.agency)
    result = svc.agency_coverage(request.user, agency)
    return {
        "agency": agency.pk,
        "agency_name": agency.name,
        "functions": result.functions,
        "covered": result.covered,
        "rate": result.rate,
        "gaps": [_row(r) for r in result.gaps],
        "rows": [_row(r) for r in result.rows],
    }
