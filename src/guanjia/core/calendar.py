"""The platform's one working calendar: workdays, public holidays and adjusted working days.

Order of authority for a day:
1. an entry of the editable table `CalendarDay` (keyed by an administrator on the calendar
   page from the State Council's 放假安排 notice, or a local correction);
2. chinese-calendar (the State Council arrangements up to the last year it covers);
3. for a year neither knows: the fixed-date statutory holidays of 《全国年节及纪念日放假办法》
   (2024 revision: 元旦 1 January, 劳动节 1–2 May, 国庆节 1–3 October) and Monday–Friday.
   The lunar holidays (春节, 清明, 端午, 中秋) and the 调休 swaps cannot be known before the
   notice; the calendar page says which years are on this fallback.

Every part of the platform asks here (vehicle use rules, utilisation, menus, the canteen
forecast), so one entry in the table changes all of them. Answers are memoised per day.
Saving or deleting an entry clears the memos at once in the process that wrote it; every
other process (web workers, the task worker, rule workers) notices the change within
`REFRESH_SECONDS` by comparing the table's fingerprint.
"""

from __future__ import annotations

import time
from datetime import date
from functools import lru_cache

from django.db.models.signals import post_delete, post_save

__all__ = [
    "covered_by_package",
    "holiday_name",
    "is_adjusted_workday",
    "is_workday",
    "on_change",
]

REFRESH_SECONDS = 60.0
# 《全国年节及纪念日放假办法》（2024年11月修订）: the holidays fixed to the Gregorian calendar.
FIXED_HOLIDAYS = {
    (1, 1): "New Year's Day",
    (5, 1): "Labour Day",
    (5, 2): "Labour Day",
    (10, 1): "National Day",
    (10, 2): "National Day",
    (10, 3): "National Day",
}

_state = {"overrides": None, "fingerprint": None, "checked": 0.0}
_listeners: list = []


def _load() -> tuple[dict[date, tuple[bool, str]], tuple]:
    from django.db import DatabaseError
    from django.db.models import Count, Max

    from .models import CalendarDay

    try:
        rows = list(CalendarDay.objects.values_list("date", "is_workday", "name"))
        stats = CalendarDay.objects.aggregate(n=Count("pk"), last=Max("pk"))
    except DatabaseError:  # before migrate has made the table, or the database is away
        return {}, ()
    except RuntimeError:  # no database in this context (a test of pure calendar logic)
        return {}, ()
    overrides = {d: (w, n) for d, w, n in rows}
    return overrides, (stats["n"], stats["last"], hash(frozenset(overrides.items())))


def _overrides() -> dict[date, tuple[bool, str]]:
    now = time.monotonic()
    if _state["overrides"] is None or now - _state["checked"] > REFRESH_SECONDS:
        overrides, fingerprint = _load()
        if _state["overrides"] is not None and fingerprint != _state["fingerprint"]:
            _clear_memos()  # another process changed the table
        _state.update(overrides=overrides, fingerprint=fingerprint, checked=now)
    return _state["overrides"]


def _package_detail(day: date) -> tuple[bool, str | None] | None:
    """(is_holiday, name) from chinese-calendar, or None for a year it does not cover."""
    try:
        import chinese_calendar

        return chinese_calendar.get_holiday_detail(day)
    except (ImportError, NotImplementedError):
        return None


def is_workday(day: date) -> bool:
    overrides = _overrides()
    return _is_workday(day, overrides.get(day))


@lru_cache(maxsize=8192)
def _is_workday(day: date, entry) -> bool:
    if entry is not None:
        return entry[0]
    detail = _package_detail(day)
    if detail is None:
        return day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS
    return not detail[0]


def holiday_name(day: date) -> str | None:
    """The holiday a day off belongs to (chinese-calendar's English name, or the table's),
    None on workdays and ordinary weekends."""
    overrides = _overrides()
    return _holiday_name(day, overrides.get(day))


@lru_cache(maxsize=8192)
def _holiday_name(day: date, entry) -> str | None:
    if entry is not None:
        return None if entry[0] else (entry[1] or None)
    detail = _package_detail(day)
    if detail is None:
        return FIXED_HOLIDAYS.get((day.month, day.day))
    on_holiday, name = detail
    return name if on_holiday and name else None


def is_adjusted_workday(day: date) -> bool:
    """A Saturday or Sunday made a workday (调休上班)."""
    return day.weekday() >= 5 and is_workday(day)


def covered_by_package(day: date) -> bool:
    return _package_detail(day) is not None


def on_change(callback) -> None:
    """Have `callback()` run whenever the table changes (for memos built on top of this)."""
    _listeners.append(callback)


def _clear_memos() -> None:
    _is_workday.cache_clear()
    _holiday_name.cache_clear()
    for callback in _listeners:
        callback()


def clear_cache(**_kwargs) -> None:
    """Forget the table and everything computed from it (after a write, and in tests)."""
    _state.update(overrides=None, fingerprint=None, checked=0.0)
    _clear_memos()


def connect() -> None:
    from .models import CalendarDay

    post_save.connect(clear_cache, sender=CalendarDay, dispatch_uid="calendar-save")
    post_delete.connect(clear_cache, sender=CalendarDay, dispatch_uid="calendar-delete")
