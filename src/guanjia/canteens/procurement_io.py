"""Excel of procurement: a purchase request with its quotation comparison (for the 询价
file), and the stock on hand."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from . import procurement, stock
from .models import PurchaseRequest

CHEAPEST = PatternFill("solid", fgColor="E2F0D9")
EXPIRED = Font(color="999999", strike=True)


def _bytes(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def comparison_workbook(request: PurchaseRequest) -> bytes:
    """One row per purchase line, one column per quotation at the normalised unit price,
    then each quotation's total; the cheapest valid quotation shaded, expired ones struck."""
    rows = procurement.compare(request)
    check = procurement.inquiry(request, request.awarded)
    wb = Workbook()
    ws = wb.active
    ws.title = _("报价比较")
    ws.append([_("采购申请"), f"#{request.pk} {request.canteen.name}", _("需用日期"),
               request.needed_on.isoformat(), _("状态"), request.get_status_display()])  # fmt: skip
    ws.append([_("询价要求"), check.source, _("报价家数"), check.suppliers])
    ws.append([])
    heads = [_("食材"), _("单位"), _("数量")]
    for r in rows:
        flag = _("（最低）") if r.cheapest else _("（已过期）") if r.expired else ""
        heads.append(f"{r.supplier.name}{flag} {_('单价(元)')}")
    ws.append(heads)
    for line in request.lines.select_related("ingredient"):
        ws.append(
            [line.ingredient.name, line.ingredient.unit, float(line.quantity)]
            + [round(float(r.unit_prices.get(line.pk, 0)), 4) for r in rows]
        )
    ws.append([_("合计(元)"), "", ""] + [float(stock.cents(r.total)) for r in rows])
    ws.append([_("有效期至"), "", ""] + [r.quotation.valid_until.isoformat() for r in rows])
    for col, r in enumerate(rows, start=4):
        for row in ws.iter_rows(min_row=4, min_col=col, max_col=col):
            for cell in row:
                if r.cheapest:
                    cell.fill = CHEAPEST
                if r.expired:
                    cell.font = EXPIRED
    if request.awarded_id:
        ws.append([])
        ws.append([_("选定供应商"), request.awarded.supplier.name, _("选择理由"),
                   request.award_reason or _("最低价")])  # fmt: skip
    return _bytes(wb)


def stock_workbook(levels) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = _("库存结存")
    ws.append(
        [_("食堂"), _("食材"), _("单位"), _("结存数量"), _("平均单价(元)"), _("结存金额(元)")]
    )
    for lv in levels:
        ws.append([
            lv.canteen.name, lv.ingredient.name, lv.ingredient.unit, float(lv.quantity),
            None if lv.average_cost is None else float(lv.average_cost), float(lv.value),
        ])  # fmt: skip
    return _bytes(wb)
