"""The documents of the scorecards: a Word report of one assessment (python-docx) and an
Excel workbook of a period's rankings — agencies, districts, provinces (openpyxl)."""

from __future__ import annotations

import io
from pathlib import PurePosixPath

from django.utils.translation import gettext as _

from . import scorecards

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _fmt(value) -> str:
    if value is None:
        return "—"
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return text


def word_report(assessment) -> bytes:
    """The agency, period, template and its source, every item with value, self and expert
    points, notes and evidence file, the scores, grade and reviewing expert."""
    from docx import Document

    data = scorecards.as_dict(assessment)
    t = assessment.template
    doc = Document()
    doc.add_heading(t.name + _("报告"), level=0)
    facts = doc.add_table(rows=0, cols=2)
    facts.style = "Table Grid"
    for label, value in (
        (_("被考评单位"), data["agency"]),
        (_("考评期"), data["period"]),
        (_("状态"), assessment.get_status_display()),
        (_("依据"), t.source),
        (_("分数线"), _("合格 %(p)s，良好 %(g)s，优秀 %(e)s")
         % {"p": _fmt(t.pass_line), "g": _fmt(t.good_line), "e": _fmt(t.excellent_line)}),
        (_("评审专家"), data["reviewer"] or "—"),
        (_("自评得分"), _fmt(data["self_score"])),
        (_("最终得分"), _fmt(data["final_score"])),
        (_("等级"), data["grade"] or "—"),
    ):  # fmt: skip
        cells = facts.add_row().cells
        cells[0].text, cells[1].text = label, value
    doc.add_heading(_("评价项得分"), level=1)
    heads = [_("编号"), _("评价内容"), _("评价项"), _("计分方式"), _("分值"), _("指标值"),
             _("自评分"), _("专家评分"), _("说明与意见"), _("佐证材料")]  # fmt: skip
    table = doc.add_table(rows=1, cols=len(heads))
    table.style = "Table Grid"
    for cell, head in zip(table.rows[0].cells, heads, strict=True):
        cell.text = head
    for i in data["items"]:
        notes = "；".join(n for n in (i["notes"], i["expert_notes"]) if n)
        values = (i["code"], i["section"], i["title"], i["rule_text"], _fmt(i["weight"]),
                  _fmt(i["value"]), _fmt(i["self_score"]), _fmt(i["expert_score"]), notes,
                  PurePosixPath(i["evidence"]).name if i["evidence"] else "—")  # fmt: skip
        for cell, value in zip(table.add_row().cells, values, strict=True):
            cell.text = value
    doc.add_paragraph(
        _("自评 %(s)s 分，最终得分 %(f)s 分，等级：%(g)s。")
        % {"s": _fmt(data["self_score"]), "f": _fmt(data["final_score"]), "g": data["grade"] or "—"}
    )
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def rankings_workbook(user, template, period: str) -> bytes:
    """One sheet per level (agencies, districts, provinces) of the final assessments of
    `template` and `period` the user may see."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    titles = {"agency": _("单位排名"), "district": _("区县排名"), "province": _("省级排名")}
    for level, title in titles.items():
        ws = wb.create_sheet(title)
        ws.append([template.name, period])
        name = _("单位") if level == "agency" else _("地区")
        ws.append([_("名次"), name, _("代码"), _("单位数"), _("得分"), _("等级")])
        for r in scorecards.rankings(user, template, period, level):
            key = "" if level == "agency" else r.key
            ws.append([r.rank, r.name, key, r.count, float(r.score), r.grade])
        ws.column_dimensions["B"].width = 30
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
