"""Requirements become verdicts: which standards an agency applies, each linked requirement
measured over the agency and those below it, stored, marked stale when the data change and
recomputed; the share of quantitative clauses that are linked."""

import datetime as dt
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from guanjia.canteens import services as canteen_services
from guanjia.canteens import waste
from guanjia.core.indicator_registry import IndicatorScope, Period, get_indicator
from guanjia.evaluation import services
from guanjia.evaluation.models import RequirementResult
from guanjia.standards.applicability import applicable_standards
from guanjia.standards.models import StandardAdoption

from .conftest import SEPT

pytestmark = pytest.mark.django_db
PERIOD = Period.parse("2026-09")


def test_standards_apply_by_region_and_by_adoption(world, standards):
    on = dt.date(2026, 9, 30)
    codes = lambda agency: set(applicable_standards(agency, on).values_list("code", flat=True))  # noqa: E731
    assert codes(world["A1"]) == {"DB50/T 9001—2022"}  # a Chongqing agency: DB50 only
    assert codes(world["B1"]) == {"DB51/T 9002—2021"}
    StandardAdoption.objects.create(agency=world["A"], standard=standards["9002"],
                                    adopted_on=dt.date(2026, 1, 1), note="川渝互认")  # fmt: skip
    assert codes(world["A1"]) == {"DB50/T 9001—2022", "DB51/T 9002—2021"}  # below the adopter
    assert codes(world["B1"]) == {"DB51/T 9002—2021"}
    assert codes(world["A"]) == {"DB50/T 9001—2022", "DB51/T 9002—2021"}
    assert (
        applicable_standards(world["A"], dt.date(2025, 12, 31))
        .filter(code="DB51/T 9002—2021")
        .count()
        == 0
    )  # not before its adoption


def _day(canteen, diners, plate_kg, clean, trays=100, day=SEPT):
    canteen_services.record_diners(None, canteen, day, diners)
    weighing = {"stream": "plate", "edible": True, "weight_kg": Decimal(plate_kg)}
    waste.record_weighings(None, canteen, date=day, meal="lunch", entries=[weighing])
    waste.record_plate_observation(None, canteen, date=day, meal="lunch",
                                   trays_observed=trays, clean_trays=clean)  # fmt: skip


def test_verdicts_with_values_citing_their_clause(world, standards, canteen):
    _day(canteen, 1000, "120", clean=90)  # 120 g per diner, 90 % clean
    results = {r.indicator: r for r in services.evaluate(world["A"], PERIOD)}
    waste_g = results["canteen.per_capita_kitchen_waste_g"]
    assert (waste_g.value, waste_g.op, waste_g.threshold, waste_g.status) == (
        120.0,
        "<=",
        150.0,
        "pass",
    )
    plate = results["canteen.clean_plate_rate"]
    assert (plate.value, plate.op, plate.threshold, plate.status) == (90.0, ">=", 85.0, "pass")
    row = plate.as_dict()
    assert (row["standard"], row["clause"]) == ("DB50/T 9001—2022", "8.2")
    # The Sichuan vehicle standard does not apply to a Chongqing agency.
    assert "telemetry.report_interval_p95_s" not in results
    # B's agencies have no canteen data: no-data, never a zero.
    b = {r.indicator: r.status for r in services.evaluate(world["B"], PERIOD)}
    assert b == {"telemetry.report_interval_p95_s": "no-data"}


def test_a_changed_weighing_marks_results_stale_and_recomputation_changes_the_verdict(
    world, standards, canteen
):
    _day(canteen, 1000, "120", clean=90)
    services.evaluate_and_store(world["A"], PERIOD)
    stored = RequirementResult.objects.get(
        agency=world["A"], indicator="canteen.per_capita_kitchen_waste_g"
    )
    assert stored.status == "pass" and not stored.stale
    # A late weighing of the same day: 120 + 60 kg over 1,000 diners = 180 g.
    late = {"stream": "unserved", "edible": True, "weight_kg": Decimal("60")}
    waste.record_weighings(None, canteen, date=SEPT, meal="lunch", entries=[late])
    stored.refresh_from_db()
    assert stored.stale  # the agency above the canteen's agency is stale too
    assert services.recompute_stale() >= 1
    stored = RequirementResult.objects.get(
        agency=world["A"], indicator="canteen.per_capita_kitchen_waste_g"
    )
    assert (stored.value, stored.status, stored.stale) == (180.0, "fail", False)


def test_trend_against_the_previous_period(world, standards, canteen):
    _day(canteen, 1000, "200", clean=70, day=dt.date(2026, 8, 3))
    _day(canteen, 1000, "120", clean=90)
    plate = next(
        r
        for r in services.evaluate(world["A"], PERIOD)
        if r.indicator == "canteen.clean_plate_rate"
    )
    assert (plate.previous, plate.value) == (70.0, 90.0)
    assert plate.as_dict()["trend"] == "up"


def test_the_command_prints_the_contract(world, standards, canteen):
    _day(canteen, 1000, "120", clean=80)
    out = StringIO()
    call_command(
        "evaluate", "--agency", world["A"].name, "--period", "2026-09", "--json", stdout=out
    )
    doc = json.loads(out.getvalue())
    assert doc["agency"] == world["A"].name and doc["period"] == "2026-09"
    row = next(r for r in doc["results"] if r["indicator"] == "canteen.clean_plate_rate")
    keys = ("standard", "clause", "indicator", "op", "threshold", "value", "status")
    assert {k: row[k] for k in keys} == {
        "standard": "DB50/T 9001—2022", "clause": "8.2", "indicator": "canteen.clean_plate_rate",
        "op": ">=", "threshold": 85.0, "value": 80.0, "status": "fail",
    }  # fmt: skip
    assert RequirementResult.objects.filter(agency=world["A"], period="2026-09").count() == 2


def test_measurable_share(world, standards):
    share = get_indicator("standards.measurable_share").compute(IndicatorScope(world["A"]), PERIOD)
    # DB50/T 9001—2022's quantitative clauses, two of them linked (7.2 and 8.2).
    quantitative = standards["9001"].clauses.filter(requirements__isnull=False).distinct()
    assert share == round(100.0 * 2 / quantitative.count(), 2)
