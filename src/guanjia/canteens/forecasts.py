"""Making, storing and checking the diner forecasts of the canteens.

`refresh(canteen)` forecasts each meal the canteen serves for the next 14 days from its
diner counts and registered events, and stores the result (a run replaces its own days and
leaves earlier days alone, so the stored forecast of a day is the last one made before it:
what the kitchen planned with). `forecast_vs_actual` joins the two for the forecast page,
its export and the deviation indicator (DB50/T 9001—2022 4.3: 预估偏差率不宜超过10%).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Q

from guanjia.core import audit

from . import forecasting
from .models import AttendanceEvent, Canteen, DinerCount, Forecast, Meal
from .services import require

MIN_HISTORY_DAYS = 28


def history(canteen: Canteen, meal: str, before: date) -> list[tuple[date, int]]:
    return list(
        DinerCount.objects.filter(canteen=canteen, meal=meal, date__lt=before)
        .order_by("date")
        .values_list("date", "diners")
    )


def events(canteen: Canteen, meal: str, start: date, end: date) -> dict[date, int]:
    """Expected change of diners per day from the registered events (whole-day events
    count for every meal)."""
    change: dict[date, int] = defaultdict(int)
    rows = AttendanceEvent.objects.filter(canteen=canteen, date__gte=start, date__lt=end).filter(
        Q(meal="") | Q(meal=meal)
    )
    for day, n in rows.values_list("date", "change"):
        change[day] += n
    return change


def predict(canteen: Canteen, meal: str, origin: date, horizon: int = forecasting.HORIZON):
    """Our model's forecast from the days before `origin`; None without 4 weeks of history."""
    pairs = history(canteen, meal, origin)
    if len(pairs) < MIN_HISTORY_DAYS:
        return None
    series = forecasting.Series.from_pairs(pairs)
    # Counts not yet entered for the last days: forecast across the gap (unknown is not 0)
    # and keep the days from the origin on.
    gap = (origin - series.end).days - 1
    return forecasting.guanjia_model.fit_predict(
        series, horizon + gap, events(canteen, meal, origin, origin + timedelta(days=horizon))
    )


def refresh(actor, canteen: Canteen, origin: date | None = None,
            horizon: int = forecasting.HORIZON) -> int:  # fmt: skip
    """Forecast every meal of `canteen` for `horizon` days from `origin` (default today) and
    store them; returns the number of days stored. Forecasts are derived data: written
    unaudited, like an index (the counts they come from are audited)."""
    require(actor, "change")
    origin = origin or date.today()
    stored = 0
    for meal in canteen.meal_list:
        result = predict(canteen, meal, origin, horizon)
        if result is None:
            continue
        rows = [
            Forecast(
                canteen=canteen,
                date=day,
                meal=meal,
                made_on=origin,
                p10=round(lo),
                p50=round(mid),
                p90=round(hi),
                tags="、".join(tags),
            )
            for day, lo, mid, hi, tags in zip(
                result.days, result.p10, result.p50, result.p90, result.tags, strict=True
            )
            if day >= origin
        ]
        with transaction.atomic(), audit.paused():
            Forecast.objects.filter(canteen=canteen, meal=meal, date__gte=origin).delete()
            Forecast.objects.bulk_create(rows)
        stored += len(rows)
    return stored


@dataclass
class DayRow:
    date: date
    meal: str
    forecast: int | None
    p10: int | None
    p90: int | None
    actual: int | None
    tags: str

    @property
    def deviation_pct(self) -> float | None:
        """|forecast − actual| ÷ actual on a served day; None when either is missing."""
        if self.forecast is None or not self.actual:
            return None
        return round(100.0 * abs(self.forecast - self.actual) / self.actual, 1)


def forecast_vs_actual(canteens, start: date, end: date, meal: str | None = None) -> list[DayRow]:
    """Every (day, meal) in [start, end) with a forecast or a count, for `canteens` (a
    queryset already restricted to the caller's scope)."""
    meals = Q(meal=meal) if meal else Q()
    span = Q(canteen__in=canteens, date__gte=start, date__lt=end) & meals
    actual = dict(
        ((c, d, m), n)
        for c, d, m, n in DinerCount.objects.filter(span).values_list(
            "canteen", "date", "meal", "diners"
        )
    )
    rows: dict[tuple, DayRow] = {}
    for c, d, m, p10, p50, p90, tags in Forecast.objects.filter(span).values_list(
        "canteen", "date", "meal", "p10", "p50", "p90", "tags"
    ):
        rows[(c, d, m)] = DayRow(d, m, p50, p10, p90, actual.get((c, d, m)), tags)
    for key, n in actual.items():
        if key not in rows:
            rows[key] = DayRow(key[1], key[2], None, None, None, n, "")
    return [rows[k] for k in sorted(rows, key=lambda k: (k[1], Meal.values.index(k[2]), k[0]))]


def deviation_rate(rows: list[DayRow]) -> float | None:
    """预估偏差率: Σ|forecast − actual| ÷ Σ actual over the served days that had a forecast,
    in % (weighted by diners, so a 10-diner Saturday does not outweigh a 3,000-diner
    Monday)."""
    pairs = [(r.forecast, r.actual) for r in rows if r.forecast is not None and r.actual]
    if not pairs:
        return None
    return round(100.0 * sum(abs(f - a) for f, a in pairs) / sum(a for _f, a in pairs), 2)
