"""The platform's one working calendar: workdays, public holidays and adjusted working days.

Order of authority for a day:
1. an entry of the editable table `CalendarDay` (keyed by an administrator from the State
   Council notice, or a local correction);
2. chinese-calendar (the State Council arrangements up to the last year it covers);
3. for a year neither knows: Monday–Friday are workdays (no holidays can be guessed without
   the notice — the rules and forecasts say so where it matters).

Every part of the platform asks here (vehicle use rules, utilisation, canteen forecasts), so
one entry in the table changes all of them. Answers are memoised per day; saving or deleting
an entry clears the memo.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from django.db.models.signals import post_delete, post_save

__all__ = ["covered_by_package", "holiday_name", "is_adjusted_workday", "is_workday"]


@lru_cache(maxsize=1)
def _overrides() -> dict[date, tuple[bool, str]]:
    from django.db import DatabaseError

    from .models import CalendarDay

    try:
        rows = list(CalendarDay.objects.values_list("date", "is_workday", "name"))
    except DatabaseError:  # before migrate has made the table
        return {}
    return {d: (w, n) for d, w, n in rows}


def _package_detail(day: date) -> tuple[bool, str | None] | None:
    """(is_holiday, name) from chinese-calendar, or None for a year it does not cover."""
    try:
        import chinese_calendar

        return chinese_calendar.get_holiday_detail(day)
    except (ImportError, NotImplementedError):
        return None


@lru_cache(maxsize=8192)
def is_workday(day: date) -> bool:
    if (entry := _overrides().get(day)) is not None:
        return entry[0]
    detail = _package_detail(day)
    if detail is None:
        return day.weekday() < 5
    return not detail[0]


@lru_cache(maxsize=8192)
def holiday_name(day: date) -> str | None:
    """The holiday a day off belongs to (chinese-calendar's English name, or the table's),
    None on workdays and ordinary weekends."""
    if (entry := _overrides().get(day)) is not None:
        return None if entry[0] else (entry[1] or None)
    detail = _package_detail(day)
    if detail is None:
        return None
    on_holiday, name = detail
    return name if on_holiday and name else None


def is_adjusted_workday(day: date) -> bool:
    """A Saturday or Sunday made a workday (调休上班)."""
    return day.weekday() >= 5 and is_workday(day)


def covered_by_package(day: date) -> bool:
    return _package_detail(day) is not None


_listeners: list = []


def on_change(callback) -> None:
    """Have `callback()` run whenever the table changes (for memos built on top of this)."""
    _listeners.append(callback)


def clear_cache(**_kwargs) -> None:
    _overrides.cache_clear()
    is_workday.cache_clear()
    holiday_name.cache_clear()
    for callback in _listeners:
        callback()


def connect() -> None:
    from .models import CalendarDay

    post_save.connect(clear_cache, sender=CalendarDay, dispatch_uid="calendar-save")
    post_delete.connect(clear_cache, sender=CalendarDay, dispatch_uid="calendar-delete")
