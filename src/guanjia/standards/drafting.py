"""Joint drafting (联合起草): versions of a draft, a comment period open to the agencies of a
collaboration group, comments per clause and their disposition, the 意见汇总处理表 (Excel and
Word), approval and publication.

A draft is a Standard in a pre-publication stage (drafting → soliciting → under_review →
approved); publication sets the stage to published with its dates, after which the status
is derived (in force from the effective date). Writes follow the services' pattern: one
transaction, early refusal, `ensure_in_scope`, audited. Commenting is the exception: a
member agency of the group comments on a draft it may not change, so the rule is checked
here (member of the period's group, period open), not through the draft's scope.

    v1 = save_version(actor, draft, note="征求意见稿")
    period = open_comment_period(actor, draft, group, opens, closes)
    c = add_comment(member, period, "4.1", "建议将2小时改为1小时")
    dispose(actor, c, "partly", "改为1.5小时")
    export_comments_xlsx(period); export_comments_docx(period)
    approve(actor, draft); publish(actor, draft, issue_date=…, effective_date=…)
"""

from __future__ import annotations

from datetime import date
from io import BytesIO

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from guanjia.core.models import CollaborationGroup
from guanjia.core.scope import ensure_in_scope

from . import services
from .models import PRE_PUBLICATION, Comment, CommentPeriod, DraftVersion, Standard


def _require(actor, action: str) -> None:
    wanted = f"standards.{action}"
    if actor is not None and not actor.can(wanted):
        raise PermissionDenied(_("没有权限：%(perm)s") % {"perm": wanted})


def _draft(actor, standard: Standard) -> None:
    ensure_in_scope(actor, standard, "change")
    if standard.stage not in PRE_PUBLICATION:
        raise ValidationError(_("%(code)s 已发布，不是草案") % {"code": standard.code})


def _set_stage(standard: Standard, stage: str) -> None:
    if standard.stage != stage:
        standard.stage = stage
        standard.save(update_fields=["stage", "updated_at"])  # audited by the signals
        services._index(standard)


def save_version(actor, standard: Standard, note: str = "") -> DraftVersion:
    """Snapshot the draft's clauses as its next version."""
    _require(actor, "change")
    with transaction.atomic():
        _draft(actor, standard)
        last = standard.versions.aggregate(n=Max("number"))["n"] or 0
        clauses = [[c.number, c.title, c.text] for c in standard.clauses.order_by("position")]
        version = DraftVersion.objects.create(
            standard=standard,
            number=last + 1,
            note=note,
            clauses=clauses,
            created_by=actor,
        )
        ensure_in_scope(actor, version, "add")
    return version


def open_comment_period(
    actor,
    standard: Standard,
    group: CollaborationGroup,
    opens: date,
    closes: date,
    version: DraftVersion | None = None,
) -> CommentPeriod:
    """Open the draft (its latest version, or a new snapshot) for comments by the agencies
    of `group` from `opens` to `closes`; the draft goes to stage soliciting."""
    _require(actor, "change")
    if closes < opens:
        raise ValidationError(_("截止日期不能早于开始日期"))
    with transaction.atomic():
        _draft(actor, standard)
        if actor is not None and not (
            CollaborationGroup.objects.restrict(actor).filter(pk=group.pk).exists()
        ):
            raise PermissionDenied(_("不能向范围之外的协作小组征求意见"))
        if version is None:
            version = standard.versions.order_by("-number").first() or save_version(
                actor, standard, _("征求意见稿")
            )
        elif version.standard_id != standard.pk:
            raise ValidationError(_("版本不属于该草案"))
        period = CommentPeriod.objects.create(
            standard=standard, version=version, group=group, opens=opens, closes=closes
        )
        standard.shared_with.add(group)  # the members read the draft they comment on
        _set_stage(standard, Standard.Status.SOLICITING)
        ensure_in_scope(actor, period, "add")
    return period


def add_comment(
    actor, period: CommentPeriod, clause_number: str, text: str, today: date | None = None
) -> Comment:
    """A comment of the actor's agency, which must be a member of the period's group (or
    the drafting agency itself), while the period is open. `clause_number` is a clause of
    the version under comment, or "" for the draft as a whole."""
    _require(actor, "view")
    today = today or date.today()
    agency = actor.agency if actor is not None else None
    if agency is None:
        raise PermissionDenied(_("提出意见需要所属单位"))
    members = set(period.group.members.values_list("pk", flat=True)) | {
        period.group.agency_id,
        period.standard.agency_id,
    }
    if agency.pk not in members:
        raise PermissionDenied(_("本单位不在征求意见范围内"))
    if not period.is_open(today):
        raise ValidationError(
            _("征求意见期为 %(a)s 至 %(b)s") % {"a": period.opens, "b": period.closes}
        )
    clause_number = (clause_number or "").strip()
    if clause_number and clause_number not in {c[0] for c in period.version.clauses}:
        raise ValidationError(_("草案中没有第 %(n)s 条") % {"n": clause_number})
    if not (text or "").strip():
        raise ValidationError(_("意见内容不能为空"))
    return Comment.objects.create(
        period=period, clause_number=clause_number, agency=agency, author=actor, text=text.strip()
    )


def dispose(actor, comment: Comment, disposition: str, reason: str = "") -> Comment:
    """The drafters' answer: 采纳 (adopted), 部分采纳 (partly) or 未采纳 (rejected); the
    last two need a reason."""
    _require(actor, "change")
    if disposition not in Comment.Disposition.values or disposition == "pending":
        raise ValidationError(_("处理意见应为 采纳、部分采纳 或 未采纳"))
    if disposition in ("partly", "rejected") and not reason.strip():
        raise ValidationError(_("部分采纳或未采纳的意见应说明理由"))
    with transaction.atomic():
        ensure_in_scope(actor, comment, "change")
        comment.disposition = disposition
        comment.reason = reason.strip()
        comment.save()
    return comment


# -- 意见汇总处理表 ---------------------------------------------------------------------------

TABLE_HEADER = ("序号", "章条编号", "意见内容", "提出单位", "处理意见", "理由")


def comment_rows(period: CommentPeriod) -> list[tuple]:
    def order(c):
        parts = [int(p) if p.isdigit() else 0 for p in c.clause_number.split(".")]
        return (bool(c.clause_number), parts, c.pk)

    comments = sorted(period.comments.select_related("agency"), key=order)
    return [
        (
            i,
            c.clause_number or _("总体"),
            c.text,
            c.agency.name,
            c.get_disposition_display(),
            c.reason,
        )
        for i, c in enumerate(comments, start=1)
    ]


def _table_title(period: CommentPeriod) -> str:
    return f"《{period.standard.title}》（{period.standard.code}）征求意见汇总处理表"


def export_comments_xlsx(period: CommentPeriod) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = "意见汇总处理表"
    ws.append([_table_title(period)])
    ws["A1"].font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(TABLE_HEADER))
    ws.append(list(TABLE_HEADER))
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for row in comment_rows(period):
        ws.append(list(row))
    for col, width in zip("ABCDEF", (6, 10, 50, 24, 10, 36), strict=True):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=3):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def export_comments_docx(period: CommentPeriod) -> bytes:
    from docx import Document

    doc = Document()
    doc.add_heading(_table_title(period), level=1)
    doc.add_paragraph(
        _("征求意见期：%(a)s 至 %(b)s；范围：%(g)s")
        % {"a": period.opens, "b": period.closes, "g": period.group.name}
    )
    rows = comment_rows(period)
    table = doc.add_table(rows=1, cols=len(TABLE_HEADER))
    table.style = "Table Grid"
    for cell, title in zip(table.rows[0].cells, TABLE_HEADER, strict=True):
        cell.text = title
    for row in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = str(value)
    counts = {
        label: sum(1 for r in rows if r[4] == label) for label in ("采纳", "部分采纳", "未采纳")
    }
    doc.add_paragraph(
        _("共收到意见 %(n)d 条，其中采纳 %(a)d 条，部分采纳 %(p)d 条，未采纳 %(r)d 条。")
        % {"n": len(rows), "a": counts["采纳"], "p": counts["部分采纳"], "r": counts["未采纳"]}
    )
    out = BytesIO()
    doc.save(out)
    return out.getvalue()


# -- approval and publication -------------------------------------------------------------


def submit_for_review(actor, standard: Standard) -> Standard:
    _require(actor, "change")
    with transaction.atomic():
        _draft(actor, standard)
        _set_stage(standard, Standard.Status.UNDER_REVIEW)
    return standard


def approve(actor, standard: Standard) -> Standard:
    """Approval (批准): every comment received must have been dealt with."""
    _require(actor, "change")
    with transaction.atomic():
        _draft(actor, standard)
        pending = Comment.objects.filter(period__standard=standard, disposition="pending")
        if pending.exists():
            raise ValidationError(_("还有 %(n)d 条意见未处理，不能批准") % {"n": pending.count()})
        _set_stage(standard, Standard.Status.APPROVED)
    return standard


def publish(
    actor, standard: Standard, *, issue_date: date, effective_date: date | None = None
) -> Standard:
    """Publication of an approved draft: stage published with its dates; from the
    effective date on it is in force (and replaces what it names in "代替")."""
    if standard.stage != Standard.Status.APPROVED:
        raise ValidationError(_("草案批准后才能发布"))
    effective_date = effective_date or issue_date
    if effective_date < issue_date:
        raise ValidationError(_("实施日期不能早于发布日期"))
    fields = {
        "stage": Standard.Status.PUBLISHED,
        "issue_date": issue_date,
        "effective_date": effective_date,
    }
    if standard.level != Standard.Level.INTERNAL:
        fields["is_public"] = True
    return services.update_standard(actor, standard, **fields)
