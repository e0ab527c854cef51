"""Waste measurement: weighings by stream and clean-plate observations, the four measures
of DB50/T 9001—2022 computed from them, their year-on-year table, and the dashboard series.

Definitions (the numbers the indicators and the dashboard show):

* **光盘率** (3.1) = Σ clean trays ÷ Σ trays observed × 100 over the period's observations.
* **人均餐厨垃圾量** (3.2, g per diner) = Σ kg of every stream, edible and inedible, × 1000 ÷
  Σ diners, both over the *paired meals*: the (day, meal) pairs of the period that have at
  least one weighing and a diner count above 0. A meal weighed without a diner count (or
  counted without a weighing) is left out of both sums, so a gap in either record does not
  bend the ratio.
* **倾销量日均值** (3.3, 6.3, kg per day) = Σ kg of the unserved stream ÷ the number of
  *weighed served days*: days with diners above 0 (any meal) and at least one weighing (any
  stream). A weighed day without an unserved weighing counts as 0 kg discarded.
* **满意度** (9.2) = responses with an overall score of 4 or 5 ÷ all responses × 100.

Each measure is None without data, never 0. They take a queryset of canteens, so the same
code serves one canteen (the dashboard) and every canteen in an indicator's scope.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.core.indicator_registry import Period, all_indicators

from . import services
from .models import (
    Canteen,
    DinerCount,
    Forecast,
    Meal,
    PlateObservation,
    SurveyResponse,
    WasteRecord,
    WasteStream,
)

SATISFIED_FROM = 4  # an overall score of 4 or 5 out of 5 is "satisfied" (SurveyResponse)
OWN_INDICATORS = (
    "canteen.clean_plate_rate",
    "canteen.per_capita_kitchen_waste_g",
    "canteen.discarded_food_kg",
    "canteen.satisfaction_rate",
)


def scoped(model, user, action: str = "view"):
    """`model`'s rows `user` may reach; all of them for the system (None)."""
    return model.objects.all() if user is None else model.objects.restrict(user, action)


def today() -> dt.date:
    return timezone.localdate()


# -- recording ------------------------------------------------------------------------------


def check_weighing(day, meal, stream, weight_kg, on: dt.date | None = None) -> dict:
    """Field errors of one weighing ({} when fine): not in the future, a known meal and
    stream, a weight that is not negative."""
    errors = {}
    if day is not None and day > (on or today()):
        errors["date"] = _("日期 %(d)s 晚于今天") % {"d": day}
    if meal not in Meal.values:
        errors["meal"] = _("未知餐次：%(m)s") % {"m": meal}
    if stream not in WasteStream.values:
        errors["stream"] = _("未知类别：%(s)s") % {"s": stream}
    if weight_kg is None or Decimal(weight_kg) < 0:
        errors["weight_kg"] = _("重量不能为负数")
    return errors


def record_weighing(
    actor, canteen: Canteen, *, date, stream, weight_kg, meal=Meal.LUNCH, edible=True, item=""
) -> WasteRecord:
    if errors := check_weighing(date, meal, stream, weight_kg):
        raise ValidationError(errors)
    row = WasteRecord(
        canteen=canteen, date=date, meal=meal, stream=stream, edible=edible,
        weight_kg=Decimal(weight_kg), item=(item or "").strip(),
        recorded_by=actor if actor is not None and actor.pk else None,
    )  # fmt: skip
    return services.save(actor, row)


def record_weighings(actor, canteen: Canteen, *, date, meal, entries) -> list[WasteRecord]:
    """Several weighings of one meal at once (the "today" form), all or none. Entries are
    dicts with stream, weight_kg, edible, item; a weight of 0 or none is skipped."""
    services.require(actor, "add")
    # A blank or zero weight is a stream not weighed this meal; a negative one is an error.
    entries = [e for e in entries if e.get("weight_kg") not in (None, "", 0)]
    if not entries:
        raise ValidationError(_("请至少填写一项重量"))
    with transaction.atomic():
        return [record_weighing(actor, canteen, date=date, meal=meal, **e) for e in entries]


def record_plate_observation(
    actor, canteen: Canteen, *, date, trays_observed, clean_trays, meal=Meal.LUNCH, observer=""
) -> PlateObservation:
    errors = {}
    if date > today():
        errors["date"] = _("日期 %(d)s 晚于今天") % {"d": date}
    if trays_observed is None or trays_observed <= 0:
        errors["trays_observed"] = _("观察餐盘数应大于 0")
    if clean_trays is None or clean_trays < 0:
        errors["clean_trays"] = _("光盘数不能为负数")
    elif trays_observed and clean_trays > trays_observed:
        errors["clean_trays"] = _("光盘数不能多于观察餐盘数")
    if meal not in Meal.values:
        errors["meal"] = _("未知餐次：%(m)s") % {"m": meal}
    if errors:
        raise ValidationError(errors)
    row = PlateObservation(
        canteen=canteen, date=date, meal=meal, trays_observed=trays_observed,
        clean_trays=clean_trays, observer=(observer or "").strip(),
    )  # fmt: skip
    return services.save(actor, row)


def filter_records(qs, *, canteen=None, start=None, end=None, stream=None, meal=None,
                   edible=None):  # fmt: skip
    """The list filters of the weighing pages and API (`end` exclusive)."""
    if canteen:
        qs = qs.filter(canteen=canteen)
    if start:
        qs = qs.filter(date__gte=start)
    if end:
        qs = qs.filter(date__lt=end)
    if stream:
        qs = qs.filter(stream=stream)
    if meal:
        qs = qs.filter(meal=meal)
    if edible is not None:
        qs = qs.filter(edible=edible)
    return qs


# -- the measures ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """Where a measure reads: the canteens and the user whose scope limits each model."""

    canteens: object  # a queryset of Canteen
    user: object = None

    def rows(self, model, start: dt.date, end: dt.date, field: str = "date"):
        return scoped(model, self.user).filter(
            canteen__in=self.canteens, **{f"{field}__gte": start, f"{field}__lt": end}
        )


def source_for(user, canteen: Canteen) -> Source:
    return Source(scoped(Canteen, user).filter(pk=canteen.pk), user)


def clean_plate_rate(src: Source, start, end) -> float | None:
    sums = src.rows(PlateObservation, start, end).aggregate(
        seen=Sum("trays_observed"), clean=Sum("clean_trays")
    )
    if not sums["seen"]:
        return None
    return round(sums["clean"] * 100 / sums["seen"], 2)


def paired_meals(src: Source, start, end) -> dict[tuple, tuple[Decimal, int]]:
    """{(canteen_id, day, meal): (kg of every stream, diners)} of the meals with both a
    weighing and a diner count above 0."""
    kg = {
        (c, d, m): w
        for c, d, m, w in src.rows(WasteRecord, start, end)
        .order_by()
        .values("canteen_id", "date", "meal")
        .annotate(kg=Sum("weight_kg"))
        .values_list("canteen_id", "date", "meal", "kg")
    }
    diners = src.rows(DinerCount, start, end).filter(diners__gt=0)
    return {
        (c, d, m): (kg[(c, d, m)], n)
        for c, d, m, n in diners.values_list("canteen_id", "date", "meal", "diners")
        if (c, d, m) in kg
    }


def per_capita_waste_g(src: Source, start, end) -> float | None:
    pairs = paired_meals(src, start, end).values()
    diners = sum(n for _kg, n in pairs)
    if not diners:
        return None
    return round(float(sum(kg for kg, _n in pairs) * 1000 / diners), 1)


def weighed_served_days(src: Source, start, end) -> set[tuple[int, dt.date]]:
    served = set(
        src.rows(DinerCount, start, end).filter(diners__gt=0).values_list("canteen_id", "date")
    )
    weighed = set(src.rows(WasteRecord, start, end).values_list("canteen_id", "date"))
    return served & weighed


def discarded_daily_kg(src: Source, start, end) -> float | None:
    days = weighed_served_days(src, start, end)
    if not days:
        return None
    unserved = src.rows(WasteRecord, start, end).filter(stream=WasteStream.UNSERVED)
    total = sum(
        (
            w
            for c, d, w in unserved.values_list("canteen_id", "date", "weight_kg")
            if (c, d) in days
        ),
        Decimal(0),
    )
    return round(float(total / len(days)), 2)


def survey_rows(src: Source, start, end):
    tz = timezone.get_default_timezone()
    return scoped(SurveyResponse, src.user).filter(
        canteen__in=src.canteens,
        submitted_at__gte=dt.datetime.combine(start, dt.time.min, tz),
        submitted_at__lt=dt.datetime.combine(end, dt.time.min, tz),
    )


def satisfaction_rate(src: Source, start, end) -> float | None:
    sums = survey_rows(src, start, end).aggregate(
        n=Count("pk"), ok=Count("pk", filter=Q(overall__gte=SATISFIED_FROM))
    )
    if not sums["n"]:
        return None
    return round(sums["ok"] * 100 / sums["n"], 2)


MEASURES = {
    "canteen.clean_plate_rate": clean_plate_rate,
    "canteen.per_capita_kitchen_waste_g": per_capita_waste_g,
    "canteen.discarded_food_kg": discarded_daily_kg,
    "canteen.satisfaction_rate": satisfaction_rate,
}


# -- year on year ---------------------------------------------------------------------------


def same_period_last_year(period: Period) -> Period:
    year = period.start.year - 1
    if period.kind == "year":
        return Period.parse(str(year))
    if period.kind == "quarter":
        return Period.parse(f"{year}Q{(period.start.month - 1) // 3 + 1}")
    return Period.parse(f"{year}-{period.start.month:02d}")


def change_pct(now: float | None, before: float | None) -> float | None:
    """(now − before) ÷ |before| × 100; None when either is missing or before is 0."""
    if now is None or before is None or before == 0:
        return None
    return round((now - before) * 100 / abs(before), 1)


def _value(key: str, user, canteen: Canteen, period: Period):
    from .measures import canteen_value  # measures builds on this module's MEASURES

    return canteen_value(key, canteen, period, user)


def indicator_table(user, canteen: Canteen, period: Period) -> list[dict]:
    """Each canteen.* indicator of `canteen`: this period, the same period last year, the
    change in %, and whether the change is an improvement."""
    before = same_period_last_year(period)
    keys = [i for i in all_indicators() if i.key.startswith("canteen.")]
    rows = []
    for ind in keys:
        now, basis = _value(ind.key, user, canteen, period)
        last, _basis = _value(ind.key, user, canteen, before)
        change = change_pct(now, last)
        better = None
        if change is not None and change != 0 and ind.higher_is_better is not None:
            better = (change > 0) == ind.higher_is_better
        rows.append(
            {
                "key": ind.key, "label": ind.label, "unit": ind.unit,
                "higher_is_better": ind.higher_is_better, "basis": basis,
                "period": period.label, "value": now, "last_year_period": before.label,
                "last_year": last, "change_pct": change, "improved": better,
            }
        )  # fmt: skip
    return rows


# -- dashboard series -----------------------------------------------------------------------


def bucket_of(day: dt.date, by: str) -> dt.date:
    """The first day of the week (Monday) or month holding `day`."""
    if by == "month":
        return day.replace(day=1)
    return day - dt.timedelta(days=day.weekday())


def waste_trend(src: Source, start, end, by: str = "week") -> list[dict]:
    """g per diner per week or month over the paired meals (the 3.2 definition)."""
    sums: dict[dt.date, list] = defaultdict(lambda: [Decimal(0), 0])
    for (_c, day, _m), (kg, n) in paired_meals(src, start, end).items():
        s = sums[bucket_of(day, by)]
        s[0] += kg
        s[1] += n
    return [
        {
            "bucket": b, "kg": float(kg), "diners": n,
            "g_per_diner": round(float(kg * 1000 / n), 1) if n else None,
        }
        for b, (kg, n) in sorted(sums.items())
    ]  # fmt: skip


def stream_split(src: Source, start, end, by: str = "week") -> list[dict]:
    """kg per bucket, stream and edible/inedible."""
    sums: dict[tuple, Decimal] = defaultdict(Decimal)
    rows = src.rows(WasteRecord, start, end).values_list("date", "stream", "edible", "weight_kg")
    for day, stream, edible, kg in rows:
        sums[(bucket_of(day, by), stream, edible)] += kg
    return [
        {"bucket": b, "stream": s, "edible": e, "kg": float(kg)}
        for (b, s, e), kg in sorted(sums.items())
    ]


def top_items(src: Source, start, end, n: int = 10) -> list[dict]:
    rows = (
        src.rows(WasteRecord, start, end)
        .order_by()
        .values("item")
        .annotate(kg=Sum("weight_kg"), count=Count("pk"))
        .order_by("-kg", "item")[:n]
    )
    return [
        {"item": r["item"] or _("（未填品名）"), "kg": float(r["kg"]), "count": r["count"]}
        for r in rows
    ]


def forecast_vs_actual(src: Source, start, end) -> list[dict]:
    """The stored forecast (P50, P10–P90) of each meal next to its diner count, where both
    exist; the error is (forecast − actual) ÷ actual, None on a closed meal."""
    actual = {
        (c, d, m): n
        for c, d, m, n in src.rows(DinerCount, start, end).values_list(
            "canteen_id", "date", "meal", "diners"
        )
    }
    rows = []
    for f in src.rows(Forecast, start, end).order_by("date", "meal"):
        n = actual.get((f.canteen_id, f.date, f.meal))
        if n is None:
            continue
        rows.append(
            {
                "date": f.date, "meal": f.meal, "p10": f.p10, "p50": f.p50, "p90": f.p90,
                "actual": n, "tags": f.tags,
                "error_pct": round((f.p50 - n) * 100 / n, 1) if n else None,
            }
        )  # fmt: skip
    return rows


def dashboard(user, canteen: Canteen, period: Period, by: str = "week",
              indicators: bool = True) -> dict:  # fmt: skip
    src = source_for(user, canteen)
    start, end = period.start, period.end
    return {
        "canteen": canteen,
        "period": period,
        "by": by,
        "target_g": float(canteen.waste_target_g),
        "trend": waste_trend(src, start, end, by),
        "streams": stream_split(src, start, end, by),
        "top_items": top_items(src, start, end),
        "forecast": forecast_vs_actual(src, start, end),
        "indicators": indicator_table(user, canteen, period) if indicators else None,
    }
