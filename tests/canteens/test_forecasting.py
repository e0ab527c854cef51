"""The diner forecast: the backtest contract, our model against the baselines on the sample
and on canteens it has not seen, and what the calendar and registered events do to it."""

import csv
import datetime as dt
import itertools
import json
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from guanjia.canteens import forecasting, forecasts, services, synthetic
from guanjia.canteens.models import Forecast
from guanjia.core.calendar import clear_cache
from guanjia.core.indicator_registry import IndicatorScope, Period, get_indicator
from guanjia.core.models import CalendarDay

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "canteen" / "diners-sample.csv"
pytestmark = pytest.mark.django_db


def run_cli(*args) -> tuple[int, dict]:
    out = StringIO()
    try:
        call_command("canteen", *args, "--json", stdout=out)
        code = 0
    except CommandError:
        code = 1
    return code, json.loads(out.getvalue())


def sample_series() -> forecasting.Series:
    with SAMPLE.open() as f:
        rows = list(csv.DictReader(f))
    return forecasting.Series.from_pairs(
        [(dt.date.fromisoformat(r["date"]), int(r["diners"])) for r in rows]
    )


def test_backtest_command_reports_each_model_on_the_sample():
    code, body = run_cli("backtest", "--csv", str(SAMPLE))
    assert code == 0
    models = body["models"]
    assert set(models) >= {"seasonal_naive", "AutoETS", "guanjia"}
    for name in models:
        assert set(models[name]) >= {"mape", "mae"}
    # 8 origins 14 days apart, the last window ending on the last date of the file.
    origins = [dt.date.fromisoformat(d) for d in body["origins"]]
    assert len(origins) == 8
    assert all((b - a).days == 14 for a, b in itertools.pairwise(origins))
    assert origins[-1] + dt.timedelta(days=13) == dt.date(2026, 10, 31)
    # Ours beats seasonal naive by a wide margin and the library model clearly.
    ours = models["guanjia"]["mape"]
    assert ours < 0.5 * models["seasonal_naive"]["mape"]
    assert ours < 0.6 * models["AutoETS"]["mape"]
    assert models["guanjia"]["mae"] < models["AutoETS"]["mae"]


def test_errors_count_a_zero_forecast_on_a_served_day_as_100_percent():
    abs_err, pct = forecasting.errors(np.array([100.0, 0.0, 50.0]), np.array([0.0, 30.0, 40.0]))
    assert list(pct) == [1.0, 0.2]  # the closed day (actual 0) is left out
    assert list(abs_err) == [100.0, 10.0]


@pytest.mark.parametrize("seed", [7001, 7002, 7003])
def test_ours_beats_both_baselines_on_canteens_it_has_not_seen(seed):
    series = forecasting.Series.from_pairs(
        synthetic.series(seed, dt.date(2024, 3, 1), dt.date(2026, 9, 30))
    )
    result = forecasting.backtest(series)
    assert result["guanjia"]["mape"] < 0.6 * result["seasonal_naive"]["mape"]
    assert result["guanjia"]["mape"] < 0.75 * result["AutoETS"]["mape"]


def test_holidays_are_forecast_closed_and_the_adjusted_saturday_open():
    history = sample_series().before(dt.date(2026, 9, 28))
    result = forecasting.guanjia_model.fit_predict(history, 14)
    by_day = dict(zip(result.days, result.p50, strict=True))
    for day in range(1, 8):  # 国庆 2026: 10-01 … 10-07 off
        assert by_day[dt.date(2026, 10, day)] == 0
    assert by_day[dt.date(2026, 10, 10)] > 500  # Saturday made a workday (调休)
    assert by_day[dt.date(2026, 10, 11)] == 0  # an ordinary Sunday
    tags = dict(zip(result.days, result.tags, strict=True))
    assert "节前" in tags[dt.date(2026, 9, 30)]
    assert "节后" in tags[dt.date(2026, 10, 8)]
    assert "调休上班" in tags[dt.date(2026, 10, 10)]
    # The band holds the median.
    assert all(
        lo <= mid <= hi for lo, mid, hi in zip(result.p10, result.p50, result.p90, strict=True)
    )


def test_a_day_keyed_into_the_calendar_table_changes_the_forecast():
    """Years chinese-calendar does not cover fall back to the fixed-date statutory holidays
    and Monday–Friday until the State Council's notice is keyed into the table."""
    pairs = synthetic.series(11, dt.date(2025, 11, 1), dt.date(2027, 1, 31))
    history = forecasting.Series.from_pairs(pairs)
    assert dict(pairs)[dt.date(2027, 1, 1)] == 0  # 元旦 is a fixed date: known without notice
    spring_festival = dt.date(2027, 2, 8)  # a Monday; the lunar holiday needs the notice
    before = dict(zip(*_forecast(history), strict=True))
    assert before[spring_festival] > 0
    CalendarDay.objects.create(date=spring_festival, is_workday=False, name="春节", source="测试")
    try:
        after = dict(zip(*_forecast(history), strict=True))
        assert after[spring_festival] == 0
        assert after[spring_festival + dt.timedelta(days=1)] > 0
    finally:
        CalendarDay.objects.all().delete()
        clear_cache()


def _forecast(history):
    result = forecasting.guanjia_model.fit_predict(history, 14)
    return result.days, result.p50


def test_a_meal_never_served_is_forecast_zero_not_an_error(canteens):
    canteen = canteens["A"]
    for i in range(40):
        services.record_diners(None, canteen, dt.date(2026, 8, 1) + dt.timedelta(days=i), 0)
    result = forecasts.predict(canteen, "lunch", dt.date(2026, 9, 10))
    assert list(result.p50) == [0.0] * 14


def test_registered_events_move_the_forecast(canteens):
    canteen = canteens["A"]
    for day, n in synthetic.series(3, dt.date(2026, 6, 1), dt.date(2026, 9, 30), staff=1500):
        services.record_diners(None, canteen, day, n)
    origin = dt.date(2026, 10, 12)
    plain = forecasts.predict(canteen, "lunch", origin)
    meeting = dt.date(2026, 10, 14)
    services.add_event(None, canteen, date=meeting, kind="meeting", change=200, title="全区大会")
    with_event = forecasts.predict(canteen, "lunch", origin)
    i = with_event.days.index(meeting)
    assert with_event.p50[i] == pytest.approx(plain.p50[i] + 200)
    assert with_event.p50[i + 1] == pytest.approx(plain.p50[i + 1])


def test_refresh_keeps_what_the_kitchen_planned_with_and_the_indicator_compares(canteens):
    canteen = canteens["A"]
    for day, n in synthetic.series(5, dt.date(2026, 5, 1), dt.date(2026, 9, 13), staff=1500):
        services.record_diners(None, canteen, day, n)
    assert forecasts.refresh(None, canteen, origin=dt.date(2026, 9, 14)) == 14
    planned = Forecast.objects.get(canteen=canteen, date=dt.date(2026, 9, 15))
    # A later run replaces only its own days.
    forecasts.refresh(None, canteen, origin=dt.date(2026, 9, 21))
    assert Forecast.objects.get(canteen=canteen, date=dt.date(2026, 9, 15)).p50 == planned.p50
    assert Forecast.objects.filter(canteen=canteen).count() == 7 + 14
    # Actual counts of two served days: deviation = Σ|f − a| ÷ Σa.
    served = list(
        Forecast.objects.filter(canteen=canteen, date__lt=dt.date(2026, 9, 21), p50__gt=0).order_by(
            "date"
        )[:2]
    )
    actual = [f.p50 + 50 for f in served]
    for f, a in zip(served, actual, strict=True):
        services.record_diners(None, canteen, f.date, a)
    expected = round(100.0 * 100 / sum(actual), 2)
    period = Period.parse("2026-09")
    value = get_indicator("canteen.forecast_deviation_rate").compute(
        IndicatorScope(canteen.agency), period
    )
    assert value == expected


def test_the_deviation_indicator_sees_only_the_callers_scope(canteens, users):
    for key in ("A", "B"):
        c = canteens[key]
        Forecast.objects.create(canteen=c, date=dt.date(2026, 9, 1), made_on=dt.date(2026, 8, 31),
                                p10=90, p50=100, p90=110)  # fmt: skip
        services.record_diners(None, c, dt.date(2026, 9, 1), 120 if key == "A" else 500)
    period = Period.parse("2026-09")
    root_b = canteens["B"].agency
    indicator = get_indicator("canteen.forecast_deviation_rate")
    assert indicator.compute(IndicatorScope(root_b), period) == 80.0
    # A user of agency A asking about B's agency learns nothing.
    assert indicator.compute(IndicatorScope(root_b, user=users["agency"]), period) is None


def test_bad_backtest_files_are_refused_with_row_errors(tmp_path):
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    bad = tmp_path / "bad.csv"
    bad.write_text(
        f"date,diners\n2026-01-05,100\n2026-01-06,-4\n2026-01-05,90\nnotadate,1\n{future},10\n"
    )
    code, body = run_cli("backtest", "--csv", str(bad))
    assert code == 1
    found = {(e["row"], e["column"]) for e in body["errors"]}
    assert found == {(3, "diners"), (4, "date"), (5, "date"), (6, "date")}
    missing = tmp_path / "missing.csv"
    missing.write_text("day,count\n2026-01-05,1\n")
    code, body = run_cli("backtest", "--csv", str(missing))
    assert code == 1 and {e["column"] for e in body["errors"]} == {"date", "diners"}
    short = tmp_path / "short.csv"
    short.write_text("date,diners\n2026-01-05,100\n2026-01-06,100\n")
    code, body = run_cli("backtest", "--csv", str(short))
    assert code == 1 and "太短" in body["errors"][0]["message"]
