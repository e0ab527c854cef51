"""Standard-system frameworks (标准体系框架), agency functions (职能) and their coverage.

Writes follow guanjia.core.services: one transaction, an early refusal without the
permission, the written row re-checked through the caller's scope (`ensure_in_scope`),
audited by the ChangeLogged signals. `actor=None` is the system (the demo world).

    cq = create_framework(actor, agency=bureau, name="重庆市机关事务标准体系", code="3+7N")
    base = add_node(actor, cq, name="通用基础标准子体系", code="1")
    attach_standards(actor, base, add=[standard])
    f = save_function(actor, agency=bureau, name="办公用房管理", standards=[standard])
    coverage(functions_qs, standards_qs)   # → Coverage(rate=…, gaps=[…])

Coverage of an agency (and the agencies below it): the share of its functions covered by
at least one standard in force, in per cent with two decimals; no functions → None.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from io import BytesIO

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from guanjia.core.models import Agency
from guanjia.core.scope import ensure_in_scope

from .models import AgencyFunction, FrameworkNode, Standard

NODE_FIELDS = ("name", "code", "description", "is_public")
FUNCTION_FIELDS = ("name", "description", "node", "agency")


def _require(actor, action: str) -> None:
    wanted = f"standards.{action}"
    if actor is not None and not actor.can(wanted):
        raise PermissionDenied(_("没有权限：%(perm)s") % {"perm": wanted})


def _refuse_unknown(fields: dict, allowed) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError(_("未知字段：%s") % ", ".join(sorted(unknown)))


def _may_use_agency(actor, agency: Agency, action: str) -> None:
    """Writing a row owned by `agency` needs `standards.<action>` reaching that agency."""
    if actor is None:
        return
    from guanjia.core.scope import scope_q

    q = scope_q(Agency, actor, "view", wanted=f"standards.{action}")
    if q is not None and not Agency.objects.filter(q).filter(pk=agency.pk).exists():
        raise PermissionDenied(_("没有权限在该单位范围内操作此数据"))


# -- frameworks and nodes ---------------------------------------------------------------


def framework_of(node: FrameworkNode) -> FrameworkNode:
    return node if node.is_root() else FrameworkNode.objects.get(path=node.framework_path)


def create_framework(
    actor, *, agency: Agency, name: str, code: str = "", description: str = "", is_public=True
) -> FrameworkNode:
    """A new framework: a root node owned by `agency`."""
    _require(actor, "add")
    _may_use_agency(actor, agency, "add")
    candidate = FrameworkNode(
        name=name, code=code, description=description, agency=agency, is_public=is_public
    )
    candidate.full_clean(exclude=["path", "depth", "numchild"])
    with transaction.atomic():
        root = FrameworkNode.objects.add_root(instance=candidate)
        ensure_in_scope(actor, root, "add")
    return root


def add_node(
    actor, parent: FrameworkNode, *, name: str, code: str = "", description: str = ""
) -> FrameworkNode:
    """A node below `parent`, in the parent's framework (same owner, same visibility)."""
    _require(actor, "add")
    with transaction.atomic():
        ensure_in_scope(actor, parent, "change")
        candidate = FrameworkNode(
            name=name,
            code=code,
            description=description,
            agency_id=parent.agency_id,
            is_public=parent.is_public,
        )
        candidate.full_clean(exclude=["path", "depth", "numchild"])
        fresh = FrameworkNode.objects.get(pk=parent.pk)  # numchild as stored
        node = FrameworkNode.objects.add_child(fresh, instance=candidate)
        parent.numchild = fresh.numchild  # the caller's copy stays usable
        ensure_in_scope(actor, node, "add")
    return node


def update_node(actor, node: FrameworkNode, **fields) -> FrameworkNode:
    """Rename or renumber a node; `is_public` on a framework's root changes the whole
    framework's visibility."""
    _require(actor, "change")
    _refuse_unknown(fields, NODE_FIELDS)
    if "is_public" in fields and not node.is_root():
        raise ValidationError(_("公开与否对整个标准体系设置，请修改体系根节点"))
    with transaction.atomic():
        ensure_in_scope(actor, node, "change")
        for name, value in fields.items():
            setattr(node, name, value)
        node.full_clean(exclude=["path", "depth", "numchild"])
        node.save()
        if "is_public" in fields:
            for below in FrameworkNode.objects.filter(path__startswith=node.path, depth__gt=1):
                if below.is_public != node.is_public:
                    below.is_public = node.is_public
                    below.save(update_fields=["is_public"])
        ensure_in_scope(actor, node, "change")
    return node


def delete_node(actor, node: FrameworkNode) -> None:
    """Delete a node with everything below it (functions filed under it keep their links
    to standards and lose the node)."""
    _require(actor, "delete")
    with transaction.atomic():
        ensure_in_scope(actor, node, "delete")
        scope = FrameworkNode.objects.filter(path__startswith=node.path)
        if actor is not None:
            allowed = FrameworkNode.objects.restrict(actor, "delete")
            if scope.exclude(pk__in=allowed.values("pk")).exists():
                raise PermissionDenied(_("该节点下有超出数据范围的节点，不能删除"))
        FrameworkNode.objects.get(pk=node.pk).delete()


def attach_standards(actor, node: FrameworkNode, *, add=(), remove=()) -> FrameworkNode:
    """Attach standards to a node (and detach others). The caller must be able to change
    the node; the standards are the caller's to see (the API looks them up via restrict)."""
    _require(actor, "change")
    with transaction.atomic():
        ensure_in_scope(actor, node, "change")
        if actor is not None:
            visible = Standard.objects.restrict(actor, "view")
            wanted = {s.pk for s in add}
            if len(visible.filter(pk__in=wanted)) != len(wanted):
                raise PermissionDenied(_("不能挂接范围之外的标准"))
        if remove:
            node.standards.remove(*remove)
        if add:
            node.standards.add(*add)
    return node


# -- functions ----------------------------------------------------------------------------


def save_function(
    actor, function: AgencyFunction | None = None, *, standards=None, **fields
) -> AgencyFunction:
    """Define a function of an agency (or change one); `standards` sets the coverage links."""
    _require(actor, "add" if function is None else "change")
    _refuse_unknown(fields, FUNCTION_FIELDS)
    with transaction.atomic():
        if function is None:
            function, action = AgencyFunction(**fields), "add"
        else:
            ensure_in_scope(actor, function, "change")
            for name, value in fields.items():
                setattr(function, name, value)
            action = "change"
        if actor is not None and function.node_id is not None:
            if not FrameworkNode.objects.restrict(actor).filter(pk=function.node_id).exists():
                raise PermissionDenied(_("不能使用范围之外的体系节点"))
        function.full_clean()
        function.save()
        if standards is not None:
            if actor is not None:
                visible = Standard.objects.restrict(actor, "view")
                ids = {s.pk for s in standards}
                if visible.filter(pk__in=ids).count() != len(ids):
                    raise PermissionDenied(_("不能关联范围之外的标准"))
            function.standards.set(standards)
        ensure_in_scope(actor, function, action)
    return function


def delete_function(actor, function: AgencyFunction) -> None:
    _require(actor, "delete")
    with transaction.atomic():
        ensure_in_scope(actor, function, "delete")
        function.delete()


# -- coverage -----------------------------------------------------------------------------


@dataclass
class FunctionCoverage:
    function: AgencyFunction
    standards: list[Standard]  # linked standards the caller sees, each with .status

    @property
    def covered(self) -> bool:
        return any(s.status == "in_force" for s in self.standards)


@dataclass
class Coverage:
    rows: list[FunctionCoverage] = field(default_factory=list)

    @property
    def functions(self) -> int:
        return len(self.rows)

    @property
    def covered(self) -> int:
        return sum(1 for r in self.rows if r.covered)

    @property
    def rate(self) -> float | None:
        if not self.rows:
            return None
        return round(100.0 * self.covered / len(self.rows), 2)

    @property
    def gaps(self) -> list[FunctionCoverage]:
        return [r for r in self.rows if not r.covered]

    @property
    def standards(self) -> list[Standard]:
        """The matrix's columns: every standard linked to a function, in code order."""
        seen: dict[int, Standard] = {}
        for row in self.rows:
            for s in row.standards:
                seen.setdefault(s.pk, s)
        return sorted(seen.values(), key=lambda s: (s.code_prefix, s.code_number, -(s.year or 0)))


def coverage(functions, standards, today: date | None = None) -> Coverage:
    """The coverage matrix of `functions` (a queryset) over the `standards` (a queryset:
    what the caller may see), with each standard's status on `today`."""
    functions = list(functions.select_related("agency", "node").order_by("agency__path", "pk"))
    through = AgencyFunction.standards.through
    links = through.objects.filter(agencyfunction_id__in=[f.pk for f in functions])
    by_function: dict[int, list[int]] = {}
    for fid, sid in links.values_list("agencyfunction_id", "standard_id"):
        by_function.setdefault(fid, []).append(sid)
    wanted = {sid for ids in by_function.values() for sid in ids}
    found = {s.pk: s for s in standards.with_status(today).filter(pk__in=wanted)}
    rows = []
    for f in functions:
        linked = [found[sid] for sid in by_function.get(f.pk, []) if sid in found]
        linked.sort(key=lambda s: (s.status_rank, s.code_prefix, s.code_number))
        rows.append(FunctionCoverage(f, linked))
    return Coverage(rows)


def agency_coverage(user, agency: Agency, today: date | None = None) -> Coverage:
    """Coverage of `agency` and the agencies below it, as `user` may see it (None: the
    system itself, which sees everything)."""
    if user is None:
        functions, standards = AgencyFunction.objects.all(), Standard.objects.all()
    else:
        functions = AgencyFunction.objects.restrict(user)
        standards = Standard.objects.restrict(user)
    functions = functions.filter(agency__path__startswith=agency.path)
    return coverage(functions, standards, today)


# -- the standard list (标准明细表) ---------------------------------------------------------

LIST_HEADER = ("序号", "体系编号", "标准编号", "标准名称", "层级", "状态", "实施日期")


def standard_list_rows(node: FrameworkNode, standards) -> list[tuple]:
    """One row per (node, standard) of `node`'s subtree, in tree order; `standards` is the
    caller's visible queryset."""
    nodes = list(FrameworkNode.objects.filter(path__startswith=node.path).order_by("path"))
    through = FrameworkNode.standards.through
    pairs = through.objects.filter(frameworknode_id__in=[n.pk for n in nodes])
    by_node: dict[int, list[int]] = {}
    for nid, sid in pairs.values_list("frameworknode_id", "standard_id"):
        by_node.setdefault(nid, []).append(sid)
    ids = {sid for v in by_node.values() for sid in v}
    found = {s.pk: s for s in standards.with_status().filter(pk__in=ids)}
    rows, n = [], 0
    for nd in nodes:
        listed = sorted(
            (found[sid] for sid in by_node.get(nd.pk, []) if sid in found),
            key=lambda s: (s.code_prefix, s.code_number, -(s.year or 0)),
        )
        for s in listed:
            n += 1
            rows.append(
                (
                    n,
                    nd.code,
                    s.code,
                    s.title,
                    s.get_level_display(),
                    s.get_status_display(),
                    s.effective_date,
                )
            )
    return rows


def export_standard_list(node: FrameworkNode, standards) -> bytes:
    """标准明细表 of `node` (a framework or a sub-system) as an .xlsx workbook."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = "标准明细表"
    ws.append([f"{node.name} 标准明细表"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(LIST_HEADER))
    ws.append(list(LIST_HEADER))
    for cell in ws[2]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
    for row in standard_list_rows(node, standards):
        ws.append(list(row))
        ws.cell(ws.max_row, 7).number_format = "yyyy-mm-dd"
    for col, width in zip("ABCDEFG", (6, 10, 22, 44, 12, 10, 12), strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A3"
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
