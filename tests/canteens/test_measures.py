"""Two canteens of one agency are measured each on its own records (the dashboard and the
anti-food-waste evaluation), while the registered indicator answers for the agency."""

import datetime as dt
from decimal import Decimal

import pytest

from guanjia.canteens import services, waste
from guanjia.canteens.measures import canteen_value
from guanjia.canteens.models import Forecast, StockMovement
from guanjia.core.indicator_registry import IndicatorScope, Period, get_indicator

from .conftest import make_canteen

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 9, 1)
SEPT = Period.parse("2026-09")


def test_each_canteen_of_an_agency_has_its_own_numbers(canteens):
    a = canteens["A"]
    b = make_canteen(a.agency, "dz-second", "大足区机关二食堂")
    for canteen, clean, actual in ((a, 90, 110), (b, 50, 200)):
        waste.record_plate_observation(None, canteen, date=DAY, meal="lunch",
                                       trays_observed=100, clean_trays=clean)  # fmt: skip
        services.record_diners(None, canteen, DAY, actual)
        Forecast.objects.create(canteen=canteen, date=DAY, made_on=DAY, p10=90, p50=100, p90=110)
    assert canteen_value("canteen.clean_plate_rate", a, SEPT)[0] == 90.0
    assert canteen_value("canteen.clean_plate_rate", b, SEPT)[0] == 50.0
    assert canteen_value("canteen.forecast_deviation_rate", a, SEPT)[0] == round(1000 / 110, 2)
    assert canteen_value("canteen.forecast_deviation_rate", b, SEPT)[0] == 50.0
    agency = IndicatorScope(a.agency, include_below=False)
    assert get_indicator("canteen.clean_plate_rate").compute(agency, SEPT) == 70.0


def test_stock_turnover_per_canteen(canteens):
    from guanjia.canteens.models import Ingredient

    a = canteens["A"]
    b = make_canteen(a.agency, "dz-second", "大足区机关二食堂")
    rice = Ingredient.objects.create(agency=a.agency, name="大米")
    for canteen, issued in ((a, "10"), (b, "1")):
        common = {"canteen": canteen, "ingredient": rice, "unit_cost": Decimal("4")}
        StockMovement.objects.create(
            date=dt.date(2026, 8, 31), kind="in", quantity=Decimal("30"), **common
        )
        StockMovement.objects.create(date=DAY, kind="out", quantity=Decimal(issued), **common)
    fast, _basis = canteen_value("canteen.stock_turnover_days", a, SEPT)
    slow, _basis = canteen_value("canteen.stock_turnover_days", b, SEPT)
    assert fast < slow
