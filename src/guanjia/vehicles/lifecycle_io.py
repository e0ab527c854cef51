"""Import of a fuel station's statement (加油明细) from .xlsx or .csv, all or nothing.

Headers (Chinese, as the statements print them; a few common variants accepted):
加油时间, 卡号, 车牌号, 加油量(升), 金额(元), 里程(公里), 加油站. Each row needs a time,
litres, an amount and a card number or a plate. Any bad row → nothing imported and
`{"errors": [{"row", "column", "message"}], "imported": 0}`, rows numbered as in the sheet
(header = row 1), the same shape as the register import.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from guanjia.core.scope import ensure_in_scope
from guanjia.core.spreadsheets import norm_header, read_table

from . import lifecycle
from .models import FuelCard, Vehicle
from .validators import normalize_plate

MAX_ROWS = 50_000

COLUMNS = {
    "at": ("加油时间", "交易时间", "时间"),
    "card": ("卡号", "加油卡号"),
    "plate": ("车牌号", "车牌"),
    "litres": ("加油量(升)", "加油量", "数量(升)", "升数"),
    "amount": ("金额(元)", "金额", "交易金额"),
    "odometer_km": ("里程(公里)", "里程", "行驶里程"),
    "station": ("加油站", "网点"),
}
REQUIRED = ("at", "litres", "amount")


def _blank(v) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _datetime(v):
    if isinstance(v, dt.datetime):
        return v
    if isinstance(v, dt.date):
        return dt.datetime.combine(v, dt.time.min)
    text = str(v).strip().replace("/", "-").replace("T", " ")
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError(_("无法识别的时间“%(v)s”（应为 2026-03-01 08:30）") % {"v": v})


def _decimal(v, *, positive=False):
    try:
        d = Decimal(str(v).strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError(_("“%(v)s”不是数字") % {"v": v}) from None
    if not d.is_finite() or d < 0 or (positive and d == 0):
        raise ValueError(_("应为大于 0 的数字") if positive else _("不能为负数"))
    return d


def _failed(errors: list[dict], rows: int) -> dict:
    return {
        "errors": errors,
        "imported": 0,
        "rows": rows,
        "failed": True,
        "message": _("导入失败：%(n)d处错误，未导入任何数据") % {"n": len(errors)},
    }


def import_refuellings(user, name: str, content: bytes, *, agency=None) -> dict:
    """Import a statement; returns {"imported": n, "errors": []} or the errors with
    imported 0 (nothing written). Cards must be within the user's scope; rows without a
    card go to the registered car's agency, else to `agency`."""
    lifecycle.require(user, "add")
    try:
        rows = read_table(name, content)
    except ValidationError as exc:
        return _failed([{"row": 1, "column": "", "message": exc.messages[0]}], 0)
    errors: list[dict] = []

    def err(row, column, message):
        errors.append({"row": row, "column": column, "message": str(message)})

    if not rows or all(_blank(c) for c in rows[0]):
        return _failed([{"row": 1, "column": "", "message": _("缺少表头")}], 0)
    headers = [norm_header(h) for h in rows[0]]
    where: dict[str, int] = {}
    label: dict[str, str] = {}
    for key, names in COLUMNS.items():
        for n in names:
            if norm_header(n) in headers:
                where[key], label[key] = headers.index(norm_header(n)), names[0]
                break
    for key in REQUIRED:
        if key not in where:
            err(1, COLUMNS[key][0], _("缺少必需的列“%(c)s”") % {"c": COLUMNS[key][0]})
    if "card" not in where and "plate" not in where:
        err(1, "卡号", _("缺少“卡号”或“车牌号”列"))
    if errors:
        return _failed(errors, 0)
    body = [(i, r) for i, r in enumerate(rows[1:], start=2) if not all(_blank(c) for c in r)]
    if len(body) > MAX_ROWS:
        return _failed([{"row": 1, "column": "", "message": _("一次最多导入 %d 行") % MAX_ROWS}], 0)

    def cell(r, key):
        i = where.get(key)
        return r[i] if i is not None and i < len(r) else None

    numbers = {str(cell(r, "card")).strip() for _i, r in body if not _blank(cell(r, "card"))}
    cards = {
        c.number: c
        for c in lifecycle.scoped(FuelCard, user)
        .filter(number__in=numbers)
        .select_related("agency", "vehicle")
    }
    plates = {normalize_plate(str(cell(r, "plate"))) for _i, r in body if cell(r, "plate")}
    # Plates registered outside the user's scope are not in the register for this user.
    in_scope = lifecycle.scoped(Vehicle, user).filter(plate__in=plates).select_related("agency")
    cars = {v.plate: v for v in in_scope}
    built = []
    for i, r in body:
        values, bad = {}, False
        for key in ("at", "litres", "amount", "odometer_km"):
            v = cell(r, key)
            if _blank(v):
                if key in REQUIRED:
                    err(i, label[key], _("不能为空"))
                    bad = True
                continue
            try:
                values[key] = _datetime(v) if key == "at" else _decimal(v, positive=key == "litres")
            except ValueError as exc:
                err(i, label[key], exc)
                bad = True
        number = "" if _blank(cell(r, "card")) else str(cell(r, "card")).strip()
        card = cards.get(number) if number else None
        if number and card is None:
            err(i, label["card"], _("加油卡 %(n)s 不存在或不在权限范围内") % {"n": number})
            bad = True
        plate = "" if _blank(cell(r, "plate")) else normalize_plate(str(cell(r, "plate")))
        if not number and not plate:
            err(i, label.get("card") or label["plate"], _("卡号和车牌号至少填写一项"))
            bad = True
        if plate and len(plate) > 8:
            err(i, label["plate"], _("车牌号“%(p)s”过长") % {"p": plate})
            bad = True
        if bad:
            continue
        try:
            row = lifecycle._refuelling(
                user,
                at=values["at"],
                litres=values["litres"],
                amount=values["amount"],
                plate=plate,
                card=card,
                agency=agency,
                odometer_km=values.get("odometer_km"),
                station=str(cell(r, "station") or "").strip()[:128],
                vehicle=cars.get(plate) if plate else None,
            )
        except ValidationError as exc:
            err(i, "", "；".join(exc.messages))
            continue
        built.append((i, row))
    if errors:
        return _failed(errors, len(body))
    with transaction.atomic():
        readings: dict[int, Decimal] = {}
        for i, row in built:
            try:
                row.full_clean(exclude=["card", "vehicle", "agency"])
            except ValidationError as exc:
                errors.append({"row": i, "column": "", "message": "；".join(exc.messages)})
                continue
            row.save()
            try:
                ensure_in_scope(user, row, "add")
            except PermissionDenied:
                errors.append(
                    {"row": i, "column": "", "message": _("无权为 %s 导入加油记录") % row.agency}
                )
                continue
            if row.vehicle_id and row.odometer_km is not None:
                readings[row.vehicle_id] = max(readings.get(row.vehicle_id, 0), row.odometer_km)
        if errors:
            transaction.set_rollback(True)
            return _failed(errors, len(body))
        lifecycle._advance_odometers(user, readings)
    return {"errors": [], "imported": len(built), "rows": len(body), "failed": False}
