"""Waste services without HTTP: recording, each indicator's number against hand arithmetic,
the year-on-year table and the dashboard series."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from guanjia.canteens import services, waste
from guanjia.canteens.models import Forecast, PlateObservation, SurveyResponse, WasteRecord
from guanjia.core.indicator_registry import IndicatorScope, Period, get_indicator

D1, D2, D3 = dt.date(2026, 3, 2), dt.date(2026, 3, 3), dt.date(2026, 3, 4)
MARCH = Period.parse("2026-03")


def weigh(canteen, day, stream, kg, meal="lunch", edible=True, item=""):
    return waste.record_weighing(
        None, canteen, date=day, stream=stream, weight_kg=Decimal(kg), meal=meal,
        edible=edible, item=item,
    )  # fmt: skip


def value(key, agency, period=MARCH, user=None):
    return get_indicator(key).compute(IndicatorScope(agency=agency, user=user), period)


@pytest.fixture
def march(canteens):
    """Three days at A: D1 and D2 weighed and counted; D3 counted but not weighed; a
    breakfast weighed but not counted."""
    a = canteens["A"]
    for day, n in ((D1, 1000), (D2, 800), (D3, 900)):
        services.record_diners(None, a, day, n)
    weigh(a, D1, "preparation", "40", edible=False, item="菜根")
    weigh(a, D1, "unserved", "30", item="红烧肉")
    weigh(a, D1, "plate", "50", item="米饭")
    weigh(a, D2, "unserved", "10", item="红烧肉")
    weigh(a, D2, "plate", "70", item="米饭")
    weigh(a, D2, "spoilage", "5", meal="breakfast", item="牛奶")  # no breakfast count
    return a


def test_per_capita_waste_counts_only_meals_with_both_records(march, world):
    # Paired meals: D1 lunch (120 kg, 1000 diners) and D2 lunch (80 kg, 800 diners).
    # (40+30+50 + 10+70) × 1000 ÷ (1000+800) = 200000 ÷ 1800 = 111.1 g
    assert value("canteen.per_capita_kitchen_waste_g", world["A"]) == 111.1


def test_discarded_food_is_the_unserved_mean_over_weighed_served_days(march, world):
    # Served and weighed days: D1, D2 (D3 served, never weighed). (30 + 10) ÷ 2 = 20 kg
    assert value("canteen.discarded_food_kg", world["A"]) == 20.0
    # A weighed day without an unserved weighing counts as 0 kg discarded.
    weigh(march, D3, "plate", "60")
    assert value("canteen.discarded_food_kg", world["A"]) == round(40 / 3, 2)


def test_clean_plate_rate_pools_observations(canteens, world):
    a = canteens["A"]
    waste.record_plate_observation(None, a, date=D1, trays_observed=200, clean_trays=150)
    waste.record_plate_observation(None, a, date=D2, trays_observed=100, clean_trays=90)
    # (150 + 90) ÷ (200 + 100) = 80 %, not the mean of 75 % and 90 %
    assert value("canteen.clean_plate_rate", world["A"]) == 80.0


def test_satisfaction_rate_counts_four_and_five(canteens, world):
    for score in (5, 4, 3, 4, 1):
        SurveyResponse.objects.create(canteen=canteens["A"], overall=score)
    # submitted_at is set on save; move the answers into March.
    SurveyResponse.objects.update(submitted_at=dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC))
    # 3 of 5 answers score 4 or 5: 60 %
    assert value("canteen.satisfaction_rate", world["A"]) == 60.0
    assert value("canteen.satisfaction_rate", world["A"], Period.parse("2026-04")) is None


def test_every_indicator_is_none_without_data(canteens, world):
    for key in waste.OWN_INDICATORS:
        assert value(key, world["A"]) is None, key


def test_indicators_stay_within_the_agency_and_the_scope(march, canteens, world, users):
    b = canteens["B"]
    services.record_diners(None, b, D1, 100)
    weigh(b, D1, "plate", "90")
    assert value("canteen.per_capita_kitchen_waste_g", world["B"]) == 900.0
    assert value("canteen.per_capita_kitchen_waste_g", world["A"]) == 111.1
    # A user of agency A asking about B learns nothing.
    assert value("canteen.per_capita_kitchen_waste_g", world["B"], user=users["agency"]) is None


def test_year_on_year_table(march, canteens):
    a = canteens["A"]
    last = dt.date(2025, 3, 3)
    services.record_diners(None, a, last, 1000)
    weigh(a, last, "plate", "150")
    weigh(a, last, "unserved", "50")
    rows = {r["key"]: r for r in waste.indicator_table(None, a, MARCH)}
    g = rows["canteen.per_capita_kitchen_waste_g"]
    assert (g["value"], g["last_year"], g["last_year_period"]) == (111.1, 200.0, "2025-03")
    # (111.1 − 200) ÷ 200 = −44.45 % → −44.5 %, an improvement (lower is better)
    assert g["change_pct"] == -44.5 and g["improved"] is True
    d = rows["canteen.discarded_food_kg"]
    assert (d["value"], d["last_year"], d["change_pct"]) == (20.0, 50.0, -60.0)
    assert rows["canteen.clean_plate_rate"]["change_pct"] is None


def test_same_period_last_year():
    assert waste.same_period_last_year(Period.parse("2026Q2")).label == "2025Q2"
    assert waste.same_period_last_year(Period.parse("2026-02")).label == "2025-02"
    assert waste.same_period_last_year(Period.parse("2026")).label == "2025"
    assert waste.change_pct(5, 0) is None and waste.change_pct(110, 100) == 10.0


def test_recording_refuses_bad_input(canteens):
    a = canteens["A"]
    future = waste.today() + dt.timedelta(days=1)
    with pytest.raises(ValidationError) as e:
        weigh(a, future, "plate", "1")
    assert "date" in e.value.message_dict
    with pytest.raises(ValidationError) as e:
        weigh(a, D1, "plate", "-1")
    assert "weight_kg" in e.value.message_dict
    with pytest.raises(ValidationError) as e:
        weigh(a, D1, "compost", "1")
    assert "stream" in e.value.message_dict
    with pytest.raises(ValidationError) as e:
        waste.record_plate_observation(None, a, date=D1, trays_observed=10, clean_trays=11)
    assert "clean_trays" in e.value.message_dict
    assert not WasteRecord.objects.exists() and not PlateObservation.objects.exists()


def test_several_streams_at_once_are_all_or_nothing(canteens):
    a = canteens["A"]
    entries = [
        {"stream": "preparation", "weight_kg": Decimal("3"), "edible": False, "item": ""},
        {"stream": "plate", "weight_kg": Decimal("0"), "edible": True, "item": ""},
        {"stream": "unserved", "weight_kg": Decimal("-2"), "edible": True, "item": ""},
    ]
    with pytest.raises(ValidationError):
        waste.record_weighings(None, a, date=D1, meal="lunch", entries=entries)
    assert not WasteRecord.objects.exists()
    entries[2]["weight_kg"] = Decimal("2")
    rows = waste.record_weighings(None, a, date=D1, meal="lunch", entries=entries)
    assert sorted(r.stream for r in rows) == ["preparation", "unserved"]  # 0 kg skipped


def test_writes_stay_in_scope(canteens, users):
    with pytest.raises(PermissionDenied):
        waste.record_weighing(
            users["agency"], canteens["B"], date=D1, stream="plate", weight_kg=Decimal("1")
        )
    with pytest.raises(PermissionDenied):
        waste.record_weighing(
            users["norole"], canteens["A"], date=D1, stream="plate", weight_kg=Decimal("1")
        )
    assert not WasteRecord.objects.exists()


def test_dashboard_series(march, canteens):
    a = canteens["A"]
    Forecast.objects.create(canteen=a, date=D1, made_on=D1, p10=900, p50=1100, p90=1200)
    Forecast.objects.create(canteen=a, date=dt.date(2026, 3, 20), made_on=D1, p10=1,
                            p50=2, p90=3)  # fmt: skip
    data = waste.dashboard(None, a, MARCH, by="week")
    # D1 (Mon 2 March) and D2 fall in the week of 2 March.
    assert data["trend"] == [{"bucket": D1, "kg": 200.0, "diners": 1800, "g_per_diner": 111.1}]
    by_key = {(s["stream"], s["edible"]): s["kg"] for s in data["streams"]}
    assert by_key == {
        ("preparation", False): 40.0, ("unserved", True): 40.0, ("plate", True): 120.0,
        ("spoilage", True): 5.0,
    }  # fmt: skip
    assert [(t["item"], t["kg"]) for t in data["top_items"]][:2] == [
        ("米饭", 120.0),
        ("红烧肉", 40.0),
    ]
    # Only the forecast with a diner count: (1100 − 1000) ÷ 1000 = +10 %
    assert [(f["date"], f["p50"], f["actual"], f["error_pct"]) for f in data["forecast"]] == [
        (D1, 1100, 1000, 10.0)
    ]
    monthly = waste.dashboard(None, a, MARCH, by="month")["trend"]
    assert [(t["bucket"], t["g_per_diner"]) for t in monthly] == [(dt.date(2026, 3, 1), 111.1)]
