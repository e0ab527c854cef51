"""The register as a spreadsheet: import (.xlsx or .csv, all or nothing) and export (.xlsx
with the same headers, so an export imports back unchanged).

Headers (row 1; full-width brackets and spaces are tolerated):

    车牌号 车架号 车辆类别 排气量(升) 购置价格(元) 能源类型 购置日期 所属单位 终端手机号
    optional: 车型 品牌型号 状态 里程(公里) 国产 座位数

车辆类别, 能源类型, 车型 and 状态 take the Chinese labels (or the codes); 所属单位 an agency's
exact name, short name, unified social credit code or id. A row whose plate is already in the
register updates that car; a row identical to the register changes nothing.

All or nothing: every row is checked first (the plate, VIN and terminal rules of the
services, duplicates within the file and against the register, the caller's data scope);
any error and nothing is written, and the result lists every error with the row number as
in the sheet (the header is row 1) and the column's header:

    {"errors": [{"row": 3, "column": "车架号", "message": "…"}], "imported": 0, "updated": 0,
     "unchanged": 0, "rows": 10, "failed": true, "message": "…"}
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from guanjia.core.models import Agency
from guanjia.core.scope import ensure_in_scope, scope_q
from guanjia.core.spreadsheets import UnreadableSheet, read_table

from .models import BodyType, Category, EnergyType, Vehicle
from .services import _check_vehicle, _prepare_vehicle, _require, status_change_error

REQUIRED = (
    ("车牌号", "plate"),
    ("车架号", "vin"),
    ("车辆类别", "category"),
    ("排气量(升)", "displacement_l"),
    ("购置价格(元)", "purchase_price"),
    ("能源类型", "energy_type"),
    ("购置日期", "purchase_date"),
    ("所属单位", "agency"),
    ("终端手机号", "terminal_number"),
)
OPTIONAL = (
    ("车型", "body_type"),
    ("品牌型号", "brand_model"),
    ("状态", "status"),
    ("里程(公里)", "odometer_km"),
    ("国产", "is_domestic"),
    ("座位数", "seats"),
)
HEADERS = tuple(h for h, _f in REQUIRED + OPTIONAL)
FIELD_HEADER = {f: h for h, f in REQUIRED + OPTIONAL} | {"terminal_key": "终端手机号"}
HEADER_ALIASES = {"里程": "里程(公里)", "行驶里程(公里)": "里程(公里)", "车架号(VIN)": "车架号"}
ENERGY_ALIASES = {
    "纯电": EnergyType.BEV,
    "电动": EnergyType.BEV,
    "插电式混合动力": EnergyType.PHEV,
    "插电式混动": EnergyType.PHEV,
    "增程": EnergyType.EREV,
    "增程式电动": EnergyType.EREV,
    "油电混合": EnergyType.HEV,
    "混合动力": EnergyType.HEV,
    "氢燃料电池": EnergyType.FCEV,
}
YES = {"是", "国产", "y", "yes", "true", "1"}
NO = {"否", "进口", "n", "no", "false", "0"}
MAX_ROWS = 200_000


def _header(text) -> str:
    text = unicodedata.normalize("NFKC", str(text or "")).strip()
    text = re.sub(r"\s+", "", text)
    return HEADER_ALIASES.get(text, text)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    return _norm(str(value))


def _norm(text: str) -> str:
    """Cells and the names they are matched against, normalised alike (full-width
    brackets and digits of a stored agency name still match the cell)."""
    return unicodedata.normalize("NFKC", text).strip()


def read_rows(content: bytes, name: str) -> list[list[str]]:
    """Every row of the first sheet (or of the CSV) as text cells, the header included."""
    return [[_cell(c) for c in row] for row in read_table(name, content)]


def _choice(value: str, choices, aliases=None):
    """A code of `choices` from its code, its label or a unique label prefix."""
    if value in choices.values:
        return value
    upper = value.upper()
    if upper in choices.values:
        return upper
    lower = value.lower()
    if lower in choices.values:
        return lower
    for code, label in choices.choices:
        if value == str(label):
            return code
    if aliases and value in aliases:
        return aliases[value]
    starts = [code for code, label in choices.choices if str(label).startswith(value)]
    if len(starts) == 1 and len(value) >= 2:
        return starts[0]
    raise ValueError


class _Agencies:
    """Agencies by every name a sheet may use, and which of them the caller may write."""

    def __init__(self, actor):
        exact: dict[str, Agency] = {}
        short: dict[str, Agency | None] = {}
        ids: dict[str, Agency] = {}
        for a in Agency.objects.all().only("pk", "name", "short_name", "credit_code", "path"):
            exact[_norm(a.name)] = a
            if a.credit_code:
                exact[_norm(a.credit_code)] = a
            if a.short_name:
                # A short name shared by two agencies names neither.
                key = _norm(a.short_name)
                short[key] = None if key in short else a
            ids[str(a.pk)] = a
        # A full name or credit code always wins over a short name, both over an id.
        self.by_key: dict[str, Agency | None] = ids | short | exact
        self.may_add = self._allowed(actor, "add")
        self.may_change = self._allowed(actor, "change")

    @staticmethod
    def _allowed(actor, action):
        if actor is None:
            return None
        q = scope_q(Agency, actor, "view", wanted=f"vehicles.{action}")
        qs = Agency.objects.all() if q is None else Agency.objects.filter(q)
        return set(qs.values_list("pk", flat=True)) if q is not None else None

    def find(self, text: str) -> Agency | None:
        return self.by_key.get(text) or self.by_key.get(text.upper())


def _parse(cells: dict[str, str], agencies: _Agencies, default_agency) -> tuple[dict, list]:
    """The vehicle fields of one row, and [(column, message)] for what cannot be read."""
    fields, errors = {}, []

    def err(header, message):
        errors.append((header, message))

    for header, field in REQUIRED:
        value = cells.get(header, "")
        if field in ("displacement_l", "terminal_number"):
            fields[field] = value
            continue
        if field == "agency":
            if not value:
                if default_agency is None:
                    err(header, _("所属单位不能为空"))
                else:
                    fields["agency"] = default_agency
                continue
            agency = agencies.find(value)
            if agency is None:
                err(
                    header,
                    _("找不到单位“%(v)s”（请填写单位全称或统一社会信用代码）") % {"v": value},
                )
            elif default_agency is not None and not agency.path.startswith(default_agency.path):
                err(
                    header,
                    _("单位“%(v)s”不在导入单位“%(d)s”及其下级范围内")
                    % {"v": value, "d": default_agency.name},
                )
            else:
                fields["agency"] = agency
            continue
        if not value:
            err(header, _("%(h)s不能为空") % {"h": header})
            continue
        if field == "category":
            try:
                fields["category"] = _choice(value, Category)
            except ValueError:
                labels = "、".join(str(label) for _c, label in Category.choices)
                err(header, _("未知的车辆类别“%(v)s”（应为：%(l)s）") % {"v": value, "l": labels})
        elif field == "energy_type":
            try:
                fields["energy_type"] = _choice(value, EnergyType, ENERGY_ALIASES)
            except ValueError:
                labels = "、".join(str(label) for _c, label in EnergyType.choices)
                err(header, _("未知的能源类型“%(v)s”（应为：%(l)s）") % {"v": value, "l": labels})
        elif field == "purchase_date":
            try:
                fields["purchase_date"] = date.fromisoformat(
                    re.sub(r"[/.年月]", "-", value.rstrip("日")).split(" ")[0]
                )
            except ValueError:
                try:
                    text = re.sub(r"[/.年月]", "-", value.rstrip("日")).split(" ")[0]
                    y, m, d = (int(p) for p in text.split("-"))
                    fields["purchase_date"] = date(y, m, d)
                except (ValueError, TypeError):
                    err(header, _("无法识别的日期“%(v)s”（应为 2024-03-01）") % {"v": value})
        else:
            fields[field] = value
    for header, field in OPTIONAL:
        value = cells.get(header, "")
        if not value:
            continue
        if field == "body_type":
            try:
                fields["body_type"] = _choice(value, BodyType)
            except ValueError:
                labels = "、".join(str(label) for _c, label in BodyType.choices)
                err(header, _("未知的车型“%(v)s”（应为：%(l)s）") % {"v": value, "l": labels})
        elif field == "status":
            try:
                fields["status"] = _choice(value, Vehicle.Status)
            except ValueError:
                labels = "、".join(str(label) for _c, label in Vehicle.Status.choices)
                err(header, _("未知的状态“%(v)s”（应为：%(l)s）") % {"v": value, "l": labels})
        elif field == "is_domestic":
            if value.lower() in YES:
                fields["is_domestic"] = True
            elif value.lower() in NO:
                fields["is_domestic"] = False
            else:
                err(header, _("“国产”应填是或否"))
        elif field == "seats":
            if value.isdigit() and 0 < int(value) < 100:
                fields["seats"] = int(value)
            else:
                err(header, _("座位数应为1到99的整数"))
        else:
            fields[field] = value
    return fields, errors


def _field_errors(exc: ValidationError) -> list[tuple[str, str]]:
    if hasattr(exc, "error_dict"):
        return [
            (FIELD_HEADER.get(field, "" if field == "__all__" else field), message)
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    return [("", m) for m in exc.messages]


def _differs(car: Vehicle, fields: dict) -> bool:
    for name, value in fields.items():
        current = getattr(car, name)
        if isinstance(current, Decimal) and value is not None:
            if current != Decimal(str(value)):
                return True
        elif name == "agency":
            if current.pk != value.pk:
                return True
        elif current != value:
            return True
    return False


def import_rows(actor, rows: list[list[str]], default_agency=None, progress=None) -> dict:
    """Check every row, then write all of them in one transaction or none."""
    if not rows:
        return _failed([{"row": 1, "column": "", "message": _("文件是空的")}], 0)
    header = [_header(h) for h in rows[0]]
    errors = [
        {"row": 1, "column": h, "message": _("缺少必填列“%(h)s”") % {"h": h}}
        for h, _f in REQUIRED
        if h not in header
    ]
    body = rows[1:]
    if len(body) > MAX_ROWS:
        errors.append(
            {"row": 1, "column": "", "message": _("一次最多导入%(n)d行") % {"n": MAX_ROWS}}
        )
    if errors:
        return _failed(errors, len(body))
    index = {h: i for i, h in reversed(list(enumerate(header))) if h}

    if actor is not None:
        _require(actor, "add")
    agencies = _Agencies(actor)
    existing = {
        v.plate: v for v in Vehicle.objects.select_related("agency").only(*_ONLY).iterator()
    }
    vin_owner = {v.vin: plate for plate, v in existing.items()}
    terminal_owner = {v.terminal_key: plate for plate, v in existing.items() if v.terminal_key}
    # Plates the actor may see; a clash with any other car does not name it.
    visible = None
    if actor is not None:
        visible = set(Vehicle.objects.restrict(actor).values_list("pk", flat=True))

    def owner(plate: str) -> str | None:
        car = existing[plate]
        return plate if visible is None or car.pk in visible else None

    seen_plates, seen_vins, seen_terminals = {}, {}, {}
    planned = []  # (row number, car or None, fields)
    for number, row in enumerate(body, start=2):
        if progress:
            progress(1)
        cells = {h: (row[i] if i < len(row) else "") for h, i in index.items()}
        if not any(cells.values()):
            continue
        fields, problems = _parse(cells, agencies, default_agency)
        row_errors = [{"row": number, "column": c, "message": m} for c, m in problems]
        try:
            fields = _prepare_vehicle(fields)
        except ValidationError as exc:
            row_errors += [
                {"row": number, "column": c, "message": m} for c, m in _field_errors(exc)
            ]
            # What does read well still takes part in the duplicate checks.
            raw, fields = fields, {}
            for name in ("plate", "vin", "terminal_number"):
                try:
                    fields.update(_prepare_vehicle({name: raw.get(name, "")}))
                except ValidationError:
                    pass
        plate, vin, key = fields.get("plate"), fields.get("vin"), fields.get("terminal_key")
        if plate:
            if plate in seen_plates:
                row_errors.append(_dup(number, "车牌号", plate, seen_plates[plate]))
            seen_plates.setdefault(plate, number)
        if vin:
            if vin in seen_vins:
                row_errors.append(_dup(number, "车架号", vin, seen_vins[vin]))
            elif vin_owner.get(vin, plate) != plate:
                shown = owner(vin_owner[vin])
                row_errors.append(
                    {
                        "row": number,
                        "column": "车架号",
                        "message": _("车架号%(v)s已登记在车辆%(p)s上") % {"v": vin, "p": shown}
                        if shown
                        else _("车架号%(v)s已被其他单位登记") % {"v": vin},
                    }
                )
            seen_vins.setdefault(vin, number)
        if key:
            if key in seen_terminals:
                row_errors.append(_dup(number, "终端手机号", key, seen_terminals[key]))
            elif terminal_owner.get(key, plate) != plate:
                shown, t = owner(terminal_owner[key]), fields["terminal_number"]
                row_errors.append(
                    {
                        "row": number,
                        "column": "终端手机号",
                        "message": _("终端手机号%(t)s已登记在车辆%(p)s上") % {"t": t, "p": shown}
                        if shown
                        else _("终端手机号%(t)s已被其他单位登记") % {"t": t},
                    }
                )
            seen_terminals.setdefault(key, number)
        car = existing.get(plate) if plate else None
        if car is not None and "status" in fields:
            if problem := status_change_error(car, fields["status"]):
                row_errors.append({"row": number, "column": "状态", "message": problem})
        if not row_errors:
            row_errors += _scope_errors(number, agencies, car, fields)
        if not row_errors:
            candidate = Vehicle(**(_fields_of(car) if car else {}))
            if car is not None:
                candidate.pk = car.pk
            for name, value in fields.items():
                setattr(candidate, name, value)
            try:
                _check_row(candidate)
            except ValidationError as exc:
                row_errors += [
                    {"row": number, "column": c, "message": m} for c, m in _field_errors(exc)
                ]
        errors += row_errors
        planned.append((number, car, fields))
    if errors:
        return _failed(errors, len(planned))
    created = updated = unchanged = 0
    with transaction.atomic():
        for number, car, fields in planned:
            try:
                if car is None:
                    car = Vehicle(**fields)
                    car.save()
                    ensure_in_scope(actor, car, "add")
                    created += 1
                elif _differs(car, fields):
                    ensure_in_scope(actor, car, "change")
                    for name, value in fields.items():
                        setattr(car, name, value)
                    car.save()
                    ensure_in_scope(actor, car, "change")
                    updated += 1
                else:
                    unchanged += 1
            except (ValidationError, PermissionDenied, IntegrityError) as exc:
                transaction.set_rollback(True)
                if isinstance(exc, IntegrityError):  # another import registered it meanwhile
                    message = _("车牌号、车架号或终端手机号刚被他人登记，请核对后重新导入")
                else:
                    message = "; ".join(getattr(exc, "messages", [str(exc)]))
                return _failed([{"row": number, "column": "", "message": message}], len(planned))
    return {
        "errors": [],
        "imported": created,
        "updated": updated,
        "unchanged": unchanged,
        "rows": len(planned),
        "failed": False,
        "message": _("导入完成：新增%(c)d辆，更新%(u)d辆，未变%(n)d辆")
        % {"c": created, "u": updated, "n": unchanged},
    }


_ONLY = (
    "pk",
    "plate",
    "vin",
    "terminal_key",
    "terminal_number",
    "agency__path",
    "agency__name",
    *(f for _h, f in REQUIRED + OPTIONAL if f not in ("agency", "terminal_number")),
    "agency_id",
    "garage_id",
    "tank_l",
    "fuel_norm_l_100km",
    "notes",
)


def _fields_of(car: Vehicle) -> dict:
    return {
        f.attname: getattr(car, f.attname)
        for f in Vehicle._meta.concrete_fields
        if not f.primary_key and f.attname in car.__dict__
    }


def _check_row(candidate: Vehicle) -> None:
    """The services' rules without the uniqueness queries (checked above in memory)."""
    _check_vehicle(candidate, unique=False)


def _dup(number: int, column: str, value: str, first: int) -> dict:
    return {
        "row": number,
        "column": column,
        "message": _("%(c)s%(v)s与第%(r)d行重复") % {"c": column, "v": value, "r": first},
    }


def _scope_errors(number, agencies: _Agencies, car, fields) -> list[dict]:
    agency = fields.get("agency")
    out = []
    if car is not None and agencies.may_change is not None:
        if car.agency_id not in agencies.may_change:
            out.append(
                {
                    "row": number,
                    "column": "车牌号",
                    "message": _("车辆%(p)s已登记在其他单位，无权修改") % {"p": car.plate},
                }
            )
            return out
    allowed = agencies.may_add if car is None else agencies.may_change
    if agency is not None and allowed is not None and agency.pk not in allowed:
        out.append(
            {
                "row": number,
                "column": "所属单位",
                "message": _("无权在单位“%(a)s”登记车辆") % {"a": agency.name},
            }
        )
    return out


def _failed(errors: list[dict], rows: int) -> dict:
    errors.sort(
        key=lambda e: (e["row"], HEADERS.index(e["column"]) if e["column"] in HEADERS else 99)
    )
    return {
        "errors": errors,
        "imported": 0,
        "updated": 0,
        "unchanged": 0,
        "rows": rows,
        "failed": True,
        "message": _("导入失败：%(n)d处错误，未导入任何数据") % {"n": len(errors)},
    }


def import_file(actor, content: bytes, name: str, default_agency=None, progress=None) -> dict:
    try:
        rows = read_rows(content, name)
    except UnreadableSheet as exc:
        return _failed([{"row": 1, "column": "", "message": "；".join(exc.messages)}], 0)
    return import_rows(actor, rows, default_agency=default_agency, progress=progress)


# -- export ---------------------------------------------------------------------------------


def _number(value):
    if value is None:
        return None
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


def export_row(car: Vehicle) -> list:
    return [
        car.plate,
        car.vin,
        car.get_category_display(),
        _number(car.displacement_l),
        _number(car.purchase_price),
        car.get_energy_type_display(),
        car.purchase_date,
        car.agency.name,
        car.terminal_number,
        car.get_body_type_display(),
        car.brand_model,
        car.get_status_display(),
        _number(car.odometer_km),
        "是" if car.is_domestic else "否",
        car.seats,
    ]


def export_xlsx(vehicles) -> bytes:
    """The cars of `vehicles` (a queryset, already restricted and filtered) as .xlsx."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("公务用车")
    bold = Font(bold=True)
    cells = []
    for h in HEADERS:
        cell = WriteOnlyCell(ws, value=h)
        cell.font = bold
        cells.append(cell)
    ws.append(cells)
    for car in vehicles.select_related("agency").iterator(chunk_size=2000):
        row = export_row(car)
        row[8] = WriteOnlyCell(ws, value=row[8])
        row[8].number_format = "@"  # terminal numbers keep their leading zeros
        date_cell = WriteOnlyCell(ws, value=row[6])
        date_cell.number_format = "yyyy-mm-dd"
        row[6] = date_cell
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def export_csv(vehicles) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    for car in vehicles.select_related("agency").iterator(chunk_size=2000):
        row = export_row(car)
        row[6] = row[6].isoformat()
        writer.writerow(["" if v is None else v for v in row])
    return "\ufeff" + out.getvalue()
