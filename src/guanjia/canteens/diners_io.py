"""Reading diner series from files: `date,diners` CSV (the backtest's input and the
card-swipe export most canteen systems can produce) and .xlsx with the same or the Chinese
headers (日期, 就餐人数, and for a multi-canteen import 食堂, 餐次).

Rows are checked whole before anything is used: every bad row is reported as
{"row", "column", "message"} with rows numbered as in the file (the header is row 1).
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path

from django.utils.translation import gettext as _

HEADERS = {
    "date": ("date", "日期"),
    "diners": ("diners", "就餐人数", "人数"),
    "canteen": ("canteen", "食堂"),
    "meal": ("meal", "餐次"),
}


class FileRowsError(ValueError):
    def __init__(self, errors: list[dict]):
        super().__init__(f"{len(errors)} errors")
        self.errors = errors


def read_rows(path_or_file, name: str | None = None) -> tuple[list[dict], set[str]]:
    """The file's rows as dicts keyed by canonical header ("date", "diners", …), each with
    its sheet row number under "_row", and the set of columns found. Unknown columns are
    ignored."""
    name = name or str(getattr(path_or_file, "name", path_or_file))
    if name.lower().endswith(".xlsx"):
        table = _xlsx_rows(path_or_file)
    else:
        table = _csv_rows(path_or_file)
    if not table:
        raise FileRowsError([{"row": 1, "column": "", "message": _("文件为空")}])
    header = [str(h or "").strip() for h in table[0]]
    keys = {}
    for i, text in enumerate(header):
        for key, names in HEADERS.items():
            if text.lower() in names:
                keys[i] = key
    rows = []
    for n, values in enumerate(table[1:], start=2):
        if all(v in (None, "") for v in values):
            continue
        row = {"_row": n}
        for i, key in keys.items():
            row[key] = values[i] if i < len(values) else None
        rows.append(row)
    return rows, set(keys.values())


def _csv_rows(path_or_file) -> list[list]:
    if isinstance(path_or_file, (str, Path)):
        data = Path(path_or_file).read_bytes()
    else:
        data = path_or_file.read()
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    return list(csv.reader(io.StringIO(text)))


def _xlsx_rows(path_or_file) -> list[list]:
    from openpyxl import load_workbook

    book = load_workbook(path_or_file, read_only=True, data_only=True)
    try:
        return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


def parse_date(value) -> date:
    if isinstance(value, datetime):  # a date cell of a spreadsheet
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value).strip().replace("/", "-"))


def parse_count(value) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    number = int(str(value).strip())
    if number < 0:
        raise ValueError
    return number


def read_series_file(path_or_file, name: str | None = None) -> list[tuple[date, int]]:
    """(day, diners) pairs of a one-canteen `date,diners` file; FileRowsError if any row is
    bad (unreadable date or count, a negative count, a day twice, a day in the future)."""
    rows, columns = read_rows(path_or_file, name)
    errors = [
        {"row": 1, "column": key, "message": _("缺少列：%(c)s") % {"c": key}}
        for key in ("date", "diners")
        if key not in columns
    ]
    if errors:
        raise FileRowsError(errors)
    pairs, seen = [], {}
    today = date.today()
    for row in rows:
        n = row["_row"]
        try:
            day = parse_date(row["date"])
        except (TypeError, ValueError):
            errors.append(
                {
                    "row": n,
                    "column": "date",
                    "message": _("日期无法识别：%(v)s") % {"v": row["date"]},
                }
            )
            day = None
        try:
            diners = parse_count(row["diners"])
        except (TypeError, ValueError):
            errors.append(
                {
                    "row": n,
                    "column": "diners",
                    "message": _("就餐人数应为非负整数：%(v)s") % {"v": row["diners"]},
                }
            )
            diners = None
        if day is not None and day > today:
            errors.append(
                {"row": n, "column": "date", "message": _("日期 %(d)s 晚于今天") % {"d": day}}
            )
        elif day is not None and day in seen:
            errors.append(
                {
                    "row": n,
                    "column": "date",
                    "message": _("日期 %(d)s 与第 %(r)s 行重复") % {"d": day, "r": seen[day]},
                }
            )
        if day is not None:
            seen.setdefault(day, n)
        if day is not None and diners is not None:
            pairs.append((day, diners))
    if errors:
        raise FileRowsError(errors)
    if not pairs:
        raise FileRowsError([{"row": 2, "column": "", "message": _("没有数据行")}])
    return pairs


def import_diners(actor, path_or_file, name: str | None = None, canteen=None) -> dict:
    """Diner counts from a card-swipe export (.xlsx/.csv: 食堂, 日期, 餐次, 就餐人数; 食堂
    may be left out when importing into one `canteen`). All or nothing: any bad row —
    an unknown canteen or one outside the actor's scope, a negative count, a date in the
    future, an unknown meal, a (canteen, day, meal) twice — and nothing is written:
    {"imported": 0, "errors": [{"row", "column", "message"}]}. Re-importing a day updates
    its count."""
    from django.db import transaction

    from .models import Canteen, DinerCount, Meal
    from .services import check_diner_day, require, save

    require(actor, "add")
    try:
        rows, columns = read_rows(path_or_file, name)
    except FileRowsError as exc:
        return {"imported": 0, "errors": exc.errors}
    errors = [
        {
            "row": 1,
            "column": HEADERS[key][-1],
            "message": _("缺少列：%(c)s") % {"c": HEADERS[key][-1]},
        }
        for key in ("date", "diners") + (() if canteen else ("canteen",))
        if key not in columns
    ]
    if errors:
        return {"imported": 0, "errors": errors}
    visible = Canteen.objects.all() if actor is None else Canteen.objects.restrict(actor, "change")
    by_text: dict[str, object] = {}
    meal_names = {label: value for value, label in Meal.choices} | {v: v for v in Meal.values}
    parsed, seen = [], {}
    for row in rows:
        n = row["_row"]
        target = canteen
        if canteen is None:
            text = str(row.get("canteen") or "").strip()
            if text not in by_text:
                by_text[text] = (
                    visible.filter(code=text).first()
                    or (list(visible.filter(name=text)[:2]) or [None])[0]
                )
            target = by_text[text]
            if target is None:
                errors.append(
                    {
                        "row": n,
                        "column": "食堂",
                        "message": _("找不到食堂：%(t)s（或不在权限范围内）") % {"t": text},
                    }
                )
        meal = meal_names.get(str(row.get("meal") or "午餐").strip())
        if meal is None:
            errors.append(
                {
                    "row": n,
                    "column": "餐次",
                    "message": _("未知餐次：%(m)s") % {"m": row.get("meal")},
                }
            )
        try:
            day = parse_date(row["date"])
        except (TypeError, ValueError):
            errors.append(
                {
                    "row": n,
                    "column": "日期",
                    "message": _("日期无法识别：%(v)s") % {"v": row["date"]},
                }
            )
            day = None
        try:
            diners = parse_count(row["diners"])
        except (TypeError, ValueError):
            errors.append(
                {
                    "row": n,
                    "column": "就餐人数",
                    "message": _("就餐人数应为非负整数：%(v)s") % {"v": row["diners"]},
                }
            )
            diners = None
        if day is not None and meal and diners is not None:
            problems = check_diner_day(day, meal, diners)
            for field, message in problems.items():
                errors.append(
                    {
                        "row": n,
                        "column": {"date": "日期", "meal": "餐次", "diners": "就餐人数"}[field],
                        "message": message,
                    }
                )
            key = (getattr(target, "pk", None), day, meal)
            if target is not None and key in seen:
                errors.append(
                    {
                        "row": n,
                        "column": "日期",
                        "message": _("与第 %(r)s 行重复") % {"r": seen[key]},
                    }
                )
            seen.setdefault(key, n)
            if target is not None and not problems:
                parsed.append((target, day, meal, diners))
    if errors:
        return {"imported": 0, "errors": errors}
    with transaction.atomic():
        days = [day for _c, day, _m, _n in parsed]
        existing = {
            (r.canteen_id, r.date, r.meal): r
            for r in DinerCount.objects.filter(
                canteen__in={c.pk for c, *_rest in parsed}, date__gte=min(days), date__lte=max(days)
            )
        }
        for target, day, meal, diners in parsed:
            row = existing.get((target.pk, day, meal)) or DinerCount(
                canteen=target, date=day, meal=meal
            )
            row.diners, row.source = diners, DinerCount.Source.IMPORT
            save(actor, row)
    return {"imported": len(parsed), "errors": []}
