"""The documents of the evaluation: a Word report of one evaluation (python-docx) and an
Excel workbook of every evaluation of a period with rankings (openpyxl)."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _

from . import evaluation
from .models import Evaluation

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def word_report(ev: Evaluation) -> bytes:
    """Canteen, period, every item with its value, points, note and evidence file, the
    total and grade, and what must be rectified (items below full marks; the whole canteen
    when 不合格)."""
    from docx import Document

    data = evaluation.as_dict(ev)
    doc = Document()
    doc.add_heading(_("机关食堂反食品浪费工作成效评估报告"), level=0)
    facts = doc.add_table(rows=0, cols=2)
    facts.style = "Table Grid"
    for label, value in (
        (_("食堂"), f"{data['canteen_name']}（{data['canteen']}）"),
        (_("所属单位"), data["agency"]),
        (_("评估期"), data["period"]),
        (_("评估类型"), ev.get_kind_display()),
        (_("状态"), ev.get_status_display()),
        (_("评估模板"), data["template"]),
        (_("依据"), ev.template.source),
        (_("评审人"), str(ev.reviewer) if ev.reviewer else "—"),
        (_("总分"), _fmt(data["score"])),
        (_("等级"), data["grade"] or "—"),
    ):
        cells = facts.add_row().cells
        cells[0].text, cells[1].text = label, value
    doc.add_heading(_("评估项得分"), level=1)
    heads = [_("编号"), _("评估内容"), _("评估项"), _("指标值"), _("分值"), _("得分"), _("说明"),
             _("佐证材料")]  # fmt: skip
    table = doc.add_table(rows=1, cols=len(heads))
    table.style = "Table Grid"
    for cell, head in zip(table.rows[0].cells, heads, strict=True):
        cell.text = head
    for item in data["items"]:
        cells = table.add_row().cells
        values = (item["code"], item["section"], item["title"], _fmt(item["value"]),
                  _fmt(item["weight"]), _fmt(item["score"]), item["note"],
                  evaluation.evidence_name(item["evidence"]) or "—")  # fmt: skip
        for cell, value in zip(cells, values, strict=True):
            cell.text = value
    doc.add_paragraph(
        _("总分 %(s)s 分，等级：%(g)s。") % {"s": _fmt(data["score"]), "g": data["grade"] or "—"}
    )
    doc.add_heading(_("整改要求"), level=1)
    if ev.grade == evaluation.FAIL:
        doc.add_paragraph(
            _("评估等级为不合格，须限期整改并报送整改情况，整改后复评。"), style="List Bullet"
        )
    lost = [i for i in data["items"] if (i["score"] or 0) < i["weight"]]
    for item in lost:
        doc.add_paragraph(
            _("%(c)s %(t)s：得 %(s)s 分（满分 %(w)s）%(n)s")
            % {
                "c": item["code"], "t": item["title"], "s": _fmt(item["score"] or 0.0),
                "w": _fmt(item["weight"]), "n": f"——{item['note']}" if item["note"] else "",
            },
            style="List Bullet",
        )  # fmt: skip
    if not lost and ev.grade != evaluation.FAIL:
        doc.add_paragraph(_("各评估项均得满分，无整改事项。"))
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def period_workbook(user, period: str) -> bytes:
    """Every evaluation of `period` the user may see, ranked by score within each kind, and
    a sheet of the canteens to rectify."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = _("评估结果")
    ws.append([_("评估期"), period])
    ws.append([_("排名"), _("食堂"), _("编码"), _("所属单位"), _("类型"), _("状态"), _("得分"),
               _("等级"), _("评估模板")])  # fmt: skip
    for e in evaluation.ranked(user, period):
        ws.append([e.rank, e.canteen.name, e.canteen.code, e.canteen.agency.name,
                   e.get_kind_display(), e.get_status_display(), float(e.score), e.grade,
                   e.template.name])  # fmt: skip
    fix = wb.create_sheet(_("整改名单"))
    fix.append([_("食堂"), _("编码"), _("所属单位"), _("类型"), _("得分"), _("等级")])
    for e in evaluation.rectification(user, period):
        fix.append([e.canteen.name, e.canteen.code, e.canteen.agency.name, e.get_kind_display(),
                    float(e.score), e.grade])  # fmt: skip
    for sheet in (ws, fix):
        sheet.column_dimensions["B"].width = 28
        sheet.column_dimensions["D"].width = 28
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
