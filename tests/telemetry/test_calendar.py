"""The calendar the rules use: statutory holidays, adjusted workdays, the fallback, nights."""

from datetime import date

from guanjia.telemetry.calendar import (
    HOLIDAY,
    WEEKEND,
    WORKDAY,
    DayTable,
    day_kind,
    hhmm_to_s,
    is_night,
    local_day,
)

from .rules_fixtures import epoch


def test_day_kinds_around_national_day_2026():
    assert day_kind(date(2026, 10, 1)) == HOLIDAY
    assert day_kind(date(2026, 10, 7)) == HOLIDAY  # a Wednesday in the Golden Week
    assert day_kind(date(2026, 10, 10)) == WORKDAY  # Saturday made a workday (调休)
    assert day_kind(date(2026, 10, 11)) == WEEKEND
    assert day_kind(date(2026, 10, 12)) == WORKDAY


def test_years_the_package_does_not_cover_fall_back_to_fixed_holidays_and_weekdays():
    # The package stops earlier; 《全国年节及纪念日放假办法》 fixes 1–3 October.
    assert day_kind(date(2031, 10, 1)) == HOLIDAY  # a Wednesday
    assert day_kind(date(2031, 10, 6)) == WORKDAY  # a Monday: no 调休 known without the notice
    assert day_kind(date(2031, 10, 4)) == WEEKEND


def test_local_day_and_table_use_china_time():
    t = epoch(2026, 10, 1, 0, 30)  # 16:30 UTC on 30 September
    assert local_day(t) == date(2026, 10, 1)
    table = DayTable()
    assert table.kind(t) == HOLIDAY and table.kind(t - 3600) == WORKDAY


def test_night_windows_wrap_midnight():
    start, end = hhmm_to_s("22:00"), hhmm_to_s("06:00")
    assert is_night(hhmm_to_s("23:30"), start, end)
    assert is_night(hhmm_to_s("05:59"), start, end)
    assert not is_night(hhmm_to_s("06:00"), start, end)
    assert not is_night(hhmm_to_s("12:00"), start, end)
    assert is_night(hhmm_to_s("13:00"), hhmm_to_s("12:00"), hhmm_to_s("14:00"))
