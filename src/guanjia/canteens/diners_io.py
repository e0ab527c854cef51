"""Reading diner series from files: `date,diners` CSV (the backtest's input and the
card-swipe export most canteen systems can produce) and .xlsx with the same or the Chinese
headers (日期, 就餐人数, and for a multi-canteen import 食堂, 餐次).

Rows are checked whole before anything is used: every bad row is reported as
{"row", "column", "message"} with rows numbered as in the file (the header is row 1).
"""

from __future__ import annotations

import csv
import io
from datetime import date
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
    if hasattr(value, "date") and not isinstance(value, date):
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
