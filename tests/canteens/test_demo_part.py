"""The canteens' part of the demo world tells the seeds' story: the 大足 centre canteen
feeds about 3,000 staff, waste per diner falls by about a quarter and the clean-plate rate
rises from about 68 % towards 89 %; menus keep their rule, the inquiry has three quotes,
and every canteen has evaluated itself."""

import datetime as dt

import pytest
from django.utils import timezone

from guanjia.canteens import forecasting, menus
from guanjia.canteens.models import Canteen, DinerCount, Evaluation, MenuPlan, PurchaseRequest
from guanjia.core.indicator_registry import IndicatorScope, Period, get_indicator
from guanjia.demo.services import load_demo_world

pytestmark = pytest.mark.django_db

SIZES = {"vehicles_cq": 20, "vehicles_sc": 40, "trips": 10, "canteens": 5, "evaluated_bureaus": 2}


@pytest.fixture
def demo():
    return load_demo_world("small", seed=5, sizes=SIZES)["counts"]


def value(key, canteen, period):
    scope = IndicatorScope(canteen.agency, include_below=False)
    return get_indicator(key).compute(scope, Period.parse(period))


def test_the_dazu_canteen_and_the_story_of_its_waste(demo):
    assert demo["canteens"] == Canteen.objects.count() == 5
    dazu = Canteen.objects.get(name="大足区机关中心食堂")
    lunches = DinerCount.objects.filter(canteen=dazu, meal="lunch", diners__gt=0)
    mean = sum(lunches.values_list("diners", flat=True)) / lunches.count()
    assert 1500 < mean < 3000  # of ≈3,000 staff, most eat in
    today = timezone.localdate()
    first = f"{today.year - 1}Q1"
    last = f"{today.year}Q{(today.month - 1) // 3}" if today.month > 3 else f"{today.year - 1}Q4"
    waste_then = value("canteen.per_capita_kitchen_waste_g", dazu, first)
    waste_now = value("canteen.per_capita_kitchen_waste_g", dazu, last)
    assert 0.65 < waste_now / waste_then < 0.85  # "减少约四分之一"
    plate_then = value("canteen.clean_plate_rate", dazu, first)
    plate_now = value("canteen.clean_plate_rate", dazu, last)
    assert 64 < plate_then < 73 and plate_now > 82


def test_menus_inquiry_and_evaluations(demo):
    dazu = Canteen.objects.get(name="大足区机关中心食堂")
    plans = MenuPlan.objects.filter(canteen=dazu, status="published")
    assert plans.count() == 2
    for plan in plans:
        assert menus.violations(plan) == []
    request = PurchaseRequest.objects.get(canteen=dazu)
    assert request.status == "awarded" and request.quotations.count() >= 3
    assert Evaluation.objects.count() == 5
    assert Evaluation.objects.filter(status="submitted").exists()


def test_the_demo_series_is_forecast_better_than_by_the_baselines(demo):
    dazu = Canteen.objects.get(name="大足区机关中心食堂")
    pairs = DinerCount.objects.filter(canteen=dazu, meal="lunch").values_list("date", "diners")
    result = forecasting.backtest(forecasting.Series.from_pairs(list(pairs)))
    assert result["guanjia"]["mape"] < result["seasonal_naive"]["mape"] / 2
    assert result["guanjia"]["mape"] < result["AutoETS"]["mape"]
    # Stored forecasts reach two weeks ahead.
    assert dazu.forecasts.filter(date__gte=timezone.localdate() + dt.timedelta(days=13)).exists()
