"""Weighings from .xlsx or .csv, all or nothing, and the weighing list to Excel.

Headers: 食堂, 日期, 餐次, 类别, 可食, 重量(千克), 品名. 食堂 is a canteen's code or exact name
among the canteens the user may add to; 餐次 and 类别 take the Chinese label or the code
(午餐 / lunch, 倾销量 / unserved …); 可食 takes 是/否 (blank = 是); 品名 may be blank. Any bad
row and nothing is written: `{"errors": [{"row", "column", "message"}], "imported": 0}`,
rows numbered as in the sheet (header = row 1).
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from guanjia.core.spreadsheets import norm_header, read_table

from . import services, waste
from .models import Canteen, Meal, WasteRecord, WasteStream

MAX_ROWS = 50_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

COLUMNS = {
    "canteen": "食堂",
    "date": "日期",
    "meal": "餐次",
    "stream": "类别",
    "edible": "可食",
    "weight_kg": "重量(千克)",
    "item": "品名",
}
REQUIRED = ("canteen", "date", "meal", "stream", "weight_kg")
HEADER_ALIASES = {"重量": "weight_kg", "重量(kg)": "weight_kg", "可食部分": "edible"}

# Labels a sheet may use besides the codes; the short 倾销量 is how kitchens write it.
MEALS = {str(label): code for code, label in Meal.choices} | {c: c for c in Meal.values}
STREAMS = {str(label): code for code, label in WasteStream.choices} | {
    c: c for c in WasteStream.values
}
STREAMS |= {"加工": "preparation", "变质": "spoilage", "过期": "spoilage", "倾销量": "unserved",
            "未售出": "unserved", "餐盘": "plate", "剩饭剩菜": "plate"}  # fmt: skip
YES = {"是", "可食", "y", "yes", "true", "1", "√"}
NO = {"否", "不可食", "n", "no", "false", "0", "×"}


def _blank(v) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _date(v) -> dt.date:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    text = str(v).strip().replace("/", "-").replace(".", "-")
    try:
        return dt.datetime.strptime(text[:10], "%Y-%m-%d").date()
    except ValueError:
        raise ValueError(_("无法识别的日期“%(v)s”（应为 2026-03-02）") % {"v": v}) from None


def _weight(v) -> Decimal:
    try:
        d = Decimal(str(v).strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError(_("“%(v)s”不是数字") % {"v": v}) from None
    if not d.is_finite():
        raise ValueError(_("“%(v)s”不是数字") % {"v": v})
    if d < 0:
        raise ValueError(_("重量不能为负数"))
    if d >= Decimal("1000000"):
        raise ValueError(_("重量过大"))
    return d.quantize(Decimal("0.001"))


def _choice(v, table: dict, what: str) -> str:
    key = str(v).strip()
    if key in table or key.lower() in table:
        return table.get(key) or table[key.lower()]
    raise ValueError(_("未知%(w)s：%(v)s") % {"w": what, "v": key})


def _edible(v) -> bool:
    if _blank(v):
        return True
    key = str(v).strip().lower()
    if key in YES:
        return True
    if key in NO:
        return False
    raise ValueError(_("应填写“是”或“否”"))


def _failed(errors: list[dict], rows: int) -> dict:
    return {
        "errors": errors,
        "imported": 0,
        "rows": rows,
        "failed": True,
        "message": _("导入失败：%(n)d处错误，未导入任何数据") % {"n": len(errors)},
    }


def _columns(header: list) -> tuple[dict[str, int], list[dict]]:
    names = [norm_header(h) for h in header]
    where = {}
    for key, label in COLUMNS.items():
        if norm_header(label) in names:
            where[key] = names.index(norm_header(label))
    for alias, key in HEADER_ALIASES.items():
        if key not in where and norm_header(alias) in names:
            where[key] = names.index(norm_header(alias))
    missing = [
        {"row": 1, "column": COLUMNS[k], "message": _("缺少必需的列“%(c)s”") % {"c": COLUMNS[k]}}
        for k in REQUIRED
        if k not in where
    ]
    return where, missing


def import_weighings(user, name: str, content: bytes, *, on: dt.date | None = None) -> dict:
    """Check every row, then write all of them or none. `on` is today (tests fix it)."""
    services.require(user, "add")
    on = on or waste.today()
    try:
        rows = read_table(name, content)
    except ValidationError as exc:
        return _failed([{"row": 1, "column": "", "message": exc.messages[0]}], 0)
    if not rows or all(_blank(c) for c in rows[0]):
        return _failed([{"row": 1, "column": "", "message": _("缺少表头")}], 0)
    where, errors = _columns(rows[0])
    if errors:
        return _failed(errors, 0)
    body = [(i, r) for i, r in enumerate(rows[1:], start=2) if not all(_blank(c) for c in r)]
    if not body:
        return _failed([{"row": 2, "column": "", "message": _("没有数据行")}], 0)
    if len(body) > MAX_ROWS:
        return _failed([{"row": 1, "column": "", "message": _("一次最多导入 %d 行") % MAX_ROWS}], 0)

    def cell(r, key):
        i = where.get(key)
        return r[i] if i is not None and i < len(r) else None

    # Only canteens the user may add records to are found; others read as unknown.
    writable = waste.scoped(Canteen, user, "add")
    canteens: dict[str, Canteen | None] = {}
    built = []
    for i, r in body:

        def err(key, message, row=i):
            errors.append({"row": row, "column": COLUMNS[key], "message": str(message)})

        values = {}
        for key in REQUIRED:
            if _blank(cell(r, key)):
                err(key, _("不能为空"))
        text = "" if _blank(cell(r, "canteen")) else str(cell(r, "canteen")).strip()
        if text and text not in canteens:
            try:
                canteens[text] = services.find_canteen(text, writable)
            except LookupError:
                canteens[text] = None
        if text and canteens[text] is None:
            err("canteen", _("找不到食堂“%(t)s”（或不在权限范围内）") % {"t": text})
        parsers = {
            "date": _date,
            "meal": lambda v: _choice(v, MEALS, _("餐次")),
            "stream": lambda v: _choice(v, STREAMS, _("类别")),
            "weight_kg": _weight,
        }
        for key, parse in parsers.items():
            if _blank(cell(r, key)):
                continue
            try:
                values[key] = parse(cell(r, key))
            except ValueError as exc:
                err(key, exc)
        if values.get("date") and values["date"] > on:
            err("date", _("日期 %(d)s 晚于今天") % {"d": values["date"]})
        try:
            values["edible"] = _edible(cell(r, "edible"))
        except ValueError as exc:
            err("edible", exc)
        item = "" if _blank(cell(r, "item")) else str(cell(r, "item")).strip()
        if len(item) > 64:
            err("item", _("品名不能超过64个字"))
        if errors:
            continue
        built.append(
            (i, WasteRecord(canteen=canteens[text], item=item,
                            recorded_by=user if user is not None else None, **values))
        )  # fmt: skip
    if errors:
        return _failed(errors, len(body))
    with transaction.atomic():
        for i, row in built:
            try:
                services.save(user, row)
            except (ValidationError, PermissionDenied) as exc:
                text = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                errors.append({"row": i, "column": "", "message": text})
        if errors:
            transaction.set_rollback(True)
            return _failed(errors, len(body))
    return {"errors": [], "imported": len(built), "rows": len(body), "failed": False}


def export_weighings(records) -> bytes:
    """The (filtered) weighing list as .xlsx, with the import's headers so it reads back."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = _("称重记录")
    ws.append([COLUMNS[k] for k in COLUMNS] + [_("食堂编码")])
    for r in records.select_related("canteen"):
        ws.append(
            [
                r.canteen.name, r.date, r.get_meal_display(), r.get_stream_display(),
                "是" if r.edible else "否", float(r.weight_kg), r.item, r.canteen.code,
            ]
        )  # fmt: skip
    for row in ws.iter_rows(min_row=2, min_col=2, max_col=2):
        row[0].number_format = "yyyy-mm-dd"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def workbook(sheets: list[tuple[str, list[str], list[list]]]) -> bytes:
    """An .xlsx of (title, headers, rows) sheets: the dashboard's tables."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for title, headers, rows in sheets:
        ws = wb.create_sheet(title[:31])
        ws.append(headers)
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
