"""Reading diner counts from files: the backtest's `date,diners` CSV, and card-swipe exports
(.xlsx or .csv with 食堂, 日期, 餐次, 就餐人数) imported into the canteens.

Rows are checked whole before anything is used: every bad row is reported as
{"row", "column", "message"} with rows numbered as in the file (the header is row 1).
Both readers share one row parser, so a date or a count means the same in both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from guanjia.core.spreadsheets import UnreadableSheet, norm_header, read_table

from .models import Canteen, DinerCount, Meal
from .services import check_diner_day, require, save

# canonical key → (names a header may use …, the name errors report)
HEADERS = {
    "canteen": ("canteen", "食堂"),
    "date": ("date", "日期"),
    "meal": ("meal", "餐次"),
    "diners": ("diners", "人数", "就餐人数"),
}
MEALS = {str(label): value for value, label in Meal.choices} | {v: v for v in Meal.values}


class FileRowsError(ValueError):
    def __init__(self, errors: list[dict]):
        super().__init__(f"{len(errors)} errors")
        self.errors = errors


def read_rows(path_or_file, name: str | None = None) -> tuple[list[dict], set[str]]:
    """The file's rows as dicts keyed by canonical header ("date", "diners", …), each with
    its sheet row number under "_row", and the set of columns found. Unknown columns are
    ignored; blank rows skipped."""
    name = name or str(getattr(path_or_file, "name", path_or_file))
    if isinstance(path_or_file, (str, Path)):
        content = Path(path_or_file).read_bytes()
    else:
        content = path_or_file.read()
    try:
        table = read_table(name, content)
    except UnreadableSheet as exc:
        raise FileRowsError(
            [{"row": 1, "column": "", "message": "；".join(exc.messages)}]
        ) from None
    if not table:
        raise FileRowsError([{"row": 1, "column": "", "message": _("文件为空")}])
    keys = {}
    for i, text in enumerate(table[0]):
        for key, names in HEADERS.items():
            if norm_header(text).lower() in names:
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


@dataclass
class RowCheck:
    """The errors found so far, reported under each column's name in the file's language."""

    columns: dict[str, str]  # canonical key → the name errors report
    errors: list[dict] = field(default_factory=list)

    def add(self, n: int, key: str, message: str) -> None:
        self.errors.append({"row": n, "column": self.columns.get(key, key), "message": message})

    def missing(self, columns: set[str], wanted) -> None:
        for key in wanted:
            if key not in columns:
                self.add(1, key, _("缺少列：%(c)s") % {"c": self.columns.get(key, key)})

    def day_and_count(self, row: dict, meal: str = Meal.LUNCH) -> tuple[date | None, int | None]:
        """The row's date and count, each None (with its error) when unusable; the count's
        rules (no future day, not negative, a known meal) are the services' own."""
        n = row["_row"]
        try:
            day = parse_date(row["date"])
        except (TypeError, ValueError):
            self.add(n, "date", _("日期无法识别：%(v)s") % {"v": row["date"]})
            day = None
        try:
            diners = parse_count(row["diners"])
        except (TypeError, ValueError):
            self.add(n, "diners", _("就餐人数应为非负整数：%(v)s") % {"v": row["diners"]})
            diners = None
        if day is not None and diners is not None:
            for key, message in check_diner_day(day, meal, diners).items():
                self.add(n, key, message)
                if key == "date":
                    day = None
        return day, diners

    def once(self, seen: dict, key, n: int) -> bool:
        """True the first time `key` is met; an error naming the first row after that."""
        if key in seen:
            self.add(n, "date", _("与第 %(r)s 行重复") % {"r": seen[key]})
            return False
        seen[key] = n
        return True


def read_series_file(path_or_file, name: str | None = None) -> list[tuple[date, int]]:
    """(day, diners) pairs of a one-canteen `date,diners` file; FileRowsError if any row is
    bad (unreadable date or count, a negative count, a day twice, a day in the future)."""
    rows, columns = read_rows(path_or_file, name)
    check = RowCheck({})
    check.missing(columns, ("date", "diners"))
    if check.errors:
        raise FileRowsError(check.errors)
    pairs, seen = [], {}
    for row in rows:
        day, diners = check.day_and_count(row)
        if day is not None and check.once(seen, day, row["_row"]) and diners is not None:
            pairs.append((day, diners))
    if check.errors:
        raise FileRowsError(check.errors)
    if not pairs:
        raise FileRowsError([{"row": 2, "column": "", "message": _("没有数据行")}])
    return pairs


def import_diners(actor, path_or_file, name: str | None = None, canteen=None) -> dict:
    """Diner counts from a card-swipe export (食堂 may be left out when importing into one
    `canteen`). All or nothing: any bad row — an unknown canteen or one outside the actor's
    scope, a negative count, a date in the future, an unknown meal, a (canteen, day, meal)
    twice — and nothing is written: {"imported": 0, "errors": [{"row", "column",
    "message"}]}. Re-importing a day updates its count."""
    require(actor, "add")
    check = RowCheck({key: names[-1] for key, names in HEADERS.items()})
    try:
        rows, columns = read_rows(path_or_file, name)
    except FileRowsError as exc:
        return {"imported": 0, "errors": exc.errors}
    check.missing(columns, ("date", "diners") + (() if canteen else ("canteen",)))
    if check.errors:
        return {"imported": 0, "errors": check.errors}
    visible = Canteen.objects.all() if actor is None else Canteen.objects.restrict(actor, "change")
    by_text: dict[str, Canteen | None] = {}
    parsed, seen = [], {}
    for row in rows:
        n = row["_row"]
        target = canteen or _canteen(visible, by_text, str(row.get("canteen") or "").strip())
        if target is None:
            check.add(
                n, "canteen", _("找不到食堂：%(t)s（或不在权限范围内）") % {"t": row.get("canteen")}
            )
        meal = MEALS.get(str(row.get("meal") or "午餐").strip())
        if meal is None:
            check.add(n, "meal", _("未知餐次：%(m)s") % {"m": row.get("meal")})
        day, diners = check.day_and_count(row, meal or Meal.LUNCH)
        if None in (target, meal, day, diners):
            continue
        if check.once(seen, (target.pk, day, meal), n):
            parsed.append((target, day, meal, diners))
    if check.errors:
        return {"imported": 0, "errors": check.errors}
    _write(actor, parsed)
    return {"imported": len(parsed), "errors": []}


def _canteen(visible, cache: dict, text: str) -> Canteen | None:
    if text not in cache:
        by_name = list(visible.filter(name=text)[:2])
        cache[text] = visible.filter(code=text).first() or (
            by_name[0] if len(by_name) == 1 else None
        )
    return cache[text]


@transaction.atomic
def _write(actor, parsed: list[tuple]) -> None:
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
