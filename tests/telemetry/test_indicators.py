"""The telemetry indicators with numbers worked out by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest

from guanjia.core.indicator_registry import IndicatorScope, Period, get_indicator
from guanjia.core.scope import DataScope
from guanjia.telemetry import rule_defs as R
from guanjia.telemetry.models import ReportIntervalDay
from guanjia.telemetry.rules import Engine, percentile_from_histogram
from guanjia.vehicles.models import MisuseCase

from ..conftest import make_role, make_user
from .rules_fixtures import car, china, drive

pytestmark = pytest.mark.django_db
MARCH = Period.parse("2026-03")


def value(key, agency, user=None, period=MARCH):
    return get_indicator(key).compute(IndicatorScope(agency, True, user), period)


def case(agency, rule, start, opened=None, handled=None, status="open", n=[0]):  # noqa: B006
    n[0] += 1
    c = MisuseCase.objects.create(
        agency=agency,
        rule=rule,
        title="t",
        dedup_key=f"test:{n[0]}",
        episode_start=start,
        status=status,
        handled_at=handled,
    )
    if opened is not None:
        MisuseCase.objects.filter(pk=c.pk).update(opened_at=opened)
    return c


def test_misuse_cases_counts_telemetry_cases_that_began_in_the_period(world):
    a, a1, b = world["A"], world["A1"], world["B"]
    case(a, R.SPEEDING, china(2026, 3, 2, 10, 0))
    case(a1, R.OFF_HOURS, china(2026, 3, 31, 23, 0), status="dismissed")  # below A, counted
    case(a, R.NO_ORDER, china(2026, 4, 1, 0, 30))  # April
    case(a, "fuel_over_tank", china(2026, 3, 5, 9, 0))  # a 私车公养 case, not telemetry
    case(b, R.SPEEDING, china(2026, 3, 3, 10, 0))  # B's
    assert value("vehicles.misuse_cases", a) == 2
    assert value("vehicles.misuse_cases", b) == 1
    # A's own-agency user computing over B learns nothing of B
    user = make_user("a_only", a, make_role("a_only", DataScope.AGENCY))
    assert value("vehicles.misuse_cases", b, user) == 0


def test_case_handled_within_24_hours_rate(world, monkeypatch):
    a = world["A"]
    now = china(2026, 3, 20, 12, 0)
    monkeypatch.setattr("guanjia.telemetry.indicators.timezone.now", lambda: now)
    o = china(2026, 3, 10, 8, 0)
    case(a, R.SPEEDING, o, opened=o, handled=o + timedelta(hours=2), status="verified")
    case(a, R.SPEEDING, o, opened=o, handled=o + timedelta(hours=23), status="dismissed")
    case(a, R.SPEEDING, o, opened=o, handled=o + timedelta(hours=30), status="verified")  # late
    case(a, R.SPEEDING, o, opened=o)  # still open after ten days: late
    fresh = now - timedelta(hours=3)
    case(a, R.SPEEDING, fresh, opened=fresh)  # open, not yet due: left out
    case(world["B"], R.SPEEDING, o, opened=o)  # B's
    assert value("vehicles.case_handled_24h_rate", a) == 50.0
    assert value("vehicles.case_handled_24h_rate", world["B"]) == 0.0
    assert value("vehicles.case_handled_24h_rate", a, period=Period.parse("2026-02")) is None


def test_report_interval_p95_from_the_engines_daily_histogram(world):
    a_car, b_car = car(world["A"]), car(world["B"])
    base = drive(a_car.terminal_key, china(2026, 3, 4, 9, 0), 45)  # 91 reports: 90 × 30 s
    last = base[-1].time
    slow = [base[-1]._replace(time=last + 120 * j) for j in range(1, 11)]  # 10 × 120 s
    b_slow = drive(b_car.terminal_key, china(2026, 3, 4, 9, 0), 60, interval=300)
    eng = Engine()
    eng.handle(sorted(base + slow + b_slow, key=lambda p: p.time))
    eng.flush()
    row = ReportIntervalDay.objects.get(agency=world["A"])
    assert row.count == 100 and row.histogram == {"30": 90, "120": 10}
    assert value("telemetry.report_interval_p95_s", world["A"]) == 120.0
    assert value("telemetry.report_interval_p95_s", world["B"]) == 300.0
    assert (
        value("telemetry.report_interval_p95_s", world["A"], period=Period.parse("2026-04")) is None
    )
    # a second flush adds to the day's row
    eng.handle([slow[-1]._replace(time=slow[-1].time + 30)])
    eng.flush()
    row.refresh_from_db()
    assert row.histogram == {"30": 91, "120": 10}


def test_percentile_from_a_histogram():
    assert percentile_from_histogram({"30": 95, "60": 5}, 0.95) == 30.0
    assert percentile_from_histogram({"30": 94, "60": 6}, 0.95) == 60.0
    assert percentile_from_histogram({}, 0.95) is None
