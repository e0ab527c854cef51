"""The vehicles' part of the demo world: a register that passes the register's own
validators, in the seeds' proportion of Chongqing to Sichuan, with terminals; dispatch
orders in every state; and planted anomalies that the audit and the detectors find."""

from collections import Counter

import pytest

from guanjia.core.models import Agency
from guanjia.demo.services import load_demo_world
from guanjia.vehicles import audit, signals_private_use
from guanjia.vehicles.models import (
    Driver,
    ExceptionApproval,
    Maintenance,
    MisuseCase,
    Refuelling,
    TripRequest,
    Vehicle,
)
from guanjia.vehicles.validators import terminal_key, validate_plate, validate_vin

pytestmark = pytest.mark.django_db

SIZES = {"vehicles_cq": 120, "vehicles_sc": 260, "trips": 80, "canteens": 2, "evaluated_bureaus": 2}


@pytest.fixture
def demo():
    return load_demo_world("small", seed=11, sizes=SIZES)["counts"]


def test_register_is_valid_and_split_as_in_the_seeds(demo):
    assert demo["vehicles"] == Vehicle.objects.count() == 380
    plates = Vehicle.objects.values_list("plate", flat=True)
    by_province = Counter("渝" if p.startswith("渝") else "川" for p in plates)
    assert by_province == {"渝": 120, "川": 260}
    for car in Vehicle.objects.all():
        assert validate_plate(car.plate) == car.plate
        assert validate_vin(car.vin) == car.vin
        assert car.terminal_key == terminal_key(car.terminal_number)
        # New-energy cars carry the 8-character green plate.
        assert (len(car.plate) == 8) == car.is_new_energy
    keys = list(Vehicle.objects.values_list("terminal_key", flat=True))
    assert len(set(keys)) == len(keys)
    # Both terminal editions: 12-digit numbers and 20-digit zero-padded ones.
    assert {len(n) for n in Vehicle.objects.values_list("terminal_number", flat=True)} == {12, 20}
    assert Driver.objects.count() == demo["drivers"] > 100


def test_dispatch_orders_in_every_state(demo):
    statuses = set(TripRequest.objects.values_list("status", flat=True))
    assert {"requested", "approved", "assigned", "completed", "rejected"} <= statuses
    for trip in TripRequest.objects.filter(status__in=("assigned", "completed")):
        assert trip.vehicle.agency_id == trip.agency_id
        assert trip.driver.agency_id == trip.agency_id
    for trip in TripRequest.objects.filter(status="completed"):
        assert trip.end_odometer_km > trip.start_odometer_km
        assert trip.approved_at > trip.created_at


def test_audit_finds_the_planted_over_standard_cars(demo):
    vehicles = Vehicle.objects.exclude(status="disposed")
    result = audit.over_standard(vehicles)
    assert result, "the demo plants cars above their standard"
    # A bus with its approval is measured against the approved tier: never "needs approval".
    approved = set(ExceptionApproval.objects.values_list("vehicle__plate", flat=True))
    for row in result:
        if row["plate"] in approved:
            assert all(r["rule"] != "needs_approval" for r in row["reasons"]), row
    # 特种专业技术用车 have no ceiling in the 2017 rules: a bus among them is never flagged.
    buses = vehicles.filter(body_type__in=("small_bus", "medium_bus", "large_bus")).exclude(
        category="TZZY"
    )
    unapproved = set(buses.exclude(plate__in=approved).values_list("plate", flat=True))
    assert unapproved <= {row["plate"] for row in result}
    for row in result:
        assert all(r["source"] and "limit" in r for r in row["reasons"])


def test_detectors_find_the_planted_private_use(demo):
    result = signals_private_use.detect(None)
    opened = result["opened"]
    assert opened, result
    rules = set(MisuseCase.objects.values_list("rule", flat=True))
    planted_plates = set(Maintenance.objects.filter(vehicle=None).values_list("plate", flat=True))
    assert planted_plates
    cases = MisuseCase.objects.all()
    assert len(rules) >= 3, rules
    assert all(case.evidence for case in cases)
    # A second run opens nothing new.
    again = signals_private_use.detect(None)
    assert sum(again["opened"].values()) == 0
    assert Refuelling.objects.filter(card__isnull=False).exists()
    assert Agency.objects.filter(misuse_cases__isnull=False).exists()
