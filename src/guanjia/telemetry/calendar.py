"""Workdays, weekends, public holidays and night hours, in China time, for the rules.

Workday-or-not is the platform calendar's `is_workday` (guanjia.core.calendar), which asks
the editable calendar table, then chinese-calendar — so an adjusted working day (调休, e.g. a
Saturday made a workday around National Day) is a workday — and falls back to Monday–Friday
for a year neither covers. This module only adds what the streaming rules need on top:

* `day_kind(day)`: "workday", "weekend" or "holiday" (a statutory holiday by name where
  chinese-calendar knows it; a non-working weekday is a holiday too);
* `DayTable`: the kind of a position's local day by integer arithmetic on its UTC epoch
  second, memoised per day — the rules ask this for every position;
* `is_night(seconds_of_day, start, end)`: a window that may wrap midnight (22:00–06:00).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from guanjia.core.calendar import holiday_name, is_workday, on_change

CHINA_OFFSET_S = 8 * 3600
EPOCH = date(1970, 1, 1)

WORKDAY, WEEKEND, HOLIDAY = "workday", "weekend", "holiday"
KIND_LABELS = {WORKDAY: "工作日", WEEKEND: "周末", HOLIDAY: "法定节假日"}

__all__ = ["DayTable", "day_kind", "holiday_name", "is_night", "is_workday", "local_day"]


@lru_cache(maxsize=4096)
def day_kind(day: date) -> str:
    if is_workday(day):
        return WORKDAY
    if holiday_name(day) or day.weekday() < 5:
        return HOLIDAY
    return WEEKEND


on_change(day_kind.cache_clear)


def local_day(epoch_s: int | float) -> date:
    return EPOCH + timedelta(days=int((epoch_s + CHINA_OFFSET_S) // 86400))


def seconds_of_day(epoch_s: int | float) -> int:
    return int((epoch_s + CHINA_OFFSET_S) % 86400)


def is_night(sod: int, start_s: int, end_s: int) -> bool:
    """Whether a local second-of-day lies in [start, end), wrapping midnight when start > end."""
    if start_s <= end_s:
        return start_s <= sod < end_s
    return sod >= start_s or sod < end_s


def hhmm_to_s(text: str) -> int:
    h, _sep, m = str(text).partition(":")
    return int(h) * 3600 + int(m or 0) * 60


class DayTable:
    """Day kinds by local day number ((epoch + 8 h) // 86400), computed once per day."""

    __slots__ = ("_kinds",)

    def __init__(self):
        self._kinds: dict[int, str] = {}

    def kind(self, epoch_s: int | float) -> str:
        n = int((epoch_s + CHINA_OFFSET_S) // 86400)
        k = self._kinds.get(n)
        if k is None:
            k = self._kinds[n] = day_kind(EPOCH + timedelta(days=n))
        return k
