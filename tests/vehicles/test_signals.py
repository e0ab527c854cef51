"""私车公养 detectors: each finds its planted anomaly and leaves the normal records alone;
re-runs are idempotent; cases carry their evidence and source; the scope holds."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanjia.vehicles import lifecycle
from guanjia.vehicles import signals_private_use as sig
from guanjia.vehicles.cases import dismiss_case
from guanjia.vehicles.models import MisuseCase, Threshold

from .lifecycle_fixtures import car, fill, shop

D = dt.date


def run(user=None, **kw):
    return sig.detect(user, **kw)


def cases(rule):
    return list(MisuseCase.objects.filter(rule=rule))


@pytest.fixture
def fleet(world):
    """A's car with its card and a normal month: 3 fills of 40 L every 500 km (8 L/100 km,
    the norm) into a 50 L tank."""
    a = world["A"]
    normal = car(a, plate="渝A10001")
    card = lifecycle.issue_fuel_card(None, agency=a, number="9000000000000001", vehicle=normal)
    for day, km in (("2026-03-01", 10000), ("2026-03-10", 10500), ("2026-03-20", 11000)):
        fill(card, day=day, litres="40", km=Decimal(km))
    return {"A": a, "car": normal, "card": card}


def test_a_normal_month_raises_nothing(fleet):
    result = run()
    assert sum(result["found"].values()) == 0
    assert not MisuseCase.objects.exists()


def test_tank_overfill_finds_the_fill_above_tank_plus_tolerance(fleet):
    card = fleet["card"]
    fill(card, day="2026-03-25", litres="55", km=Decimal("11500"))  # 50 × 1.1 = 55: not above
    big = fill(card, day="2026-03-28", litres="72.5", km=Decimal("11600"))
    run(rules=[sig.TANK])
    [case] = cases(sig.TANK)
    assert case.vehicle == fleet["car"] and case.agency == fleet["A"]
    assert case.evidence["refuelling_ids"] == [big.pk]
    assert case.evidence["litres"] == 72.5 and case.evidence["tank_l"] == 50.0
    assert case.evidence["limit_l"] == 55.0
    assert "第二十六条" in case.source and "私油公供" in case.source
    assert "72.5" in case.title


def test_card_used_for_two_plates_in_a_month(fleet):
    card = fleet["card"]
    car(fleet["A"], plate="川A77777")
    fill(card, plate="川A66666", day="2026-04-20", litres="30")  # unregistered: another rule
    fill(card, plate="渝A10001", day="2026-04-02", litres="30")
    fill(card, plate="川A77777", day="2026-04-09", litres="45")
    fill(card, plate="川A77777", day="2026-04-16", litres="44")
    run(rules=[sig.SHARED])
    [case] = cases(sig.SHARED)
    ev = case.evidence
    assert ev["month"] == "2026-04" and ev["card"] == card.number
    assert [p["plate"] for p in ev["plates"]] == ["川A77777", "渝A10001"]
    assert ev["plates"][0]["count"] == 2 and len(ev["refuelling_ids"]) == 3
    assert len(cases(sig.SHARED)) == 1
    assert case.vehicle == fleet["car"] and ev["bound_plate"] == "渝A10001"
    # March (one plate only) raised nothing.
    assert not MisuseCase.objects.filter(dedup_key__endswith="2026-03").exists()


def test_fuel_over_norm_by_month(fleet, world):
    """April: 3 × 50 L over 1,000 km = 15 L/100 km against a norm of 8 (+20 % = 9.6)."""
    card = fleet["card"]
    for day, km in (("2026-04-01", 11400), ("2026-04-10", 11800), ("2026-04-20", 12000)):
        fill(card, day=day, litres="50", km=Decimal(km))
    run(rules=[sig.NORM])
    [case] = cases(sig.NORM)
    ev = case.evidence
    assert ev["month"] == "2026-04"
    assert ev["km"] == 1000.0 and ev["litres"] == 150.0 and ev["l_per_100km"] == 15.0
    assert ev["norm_l_per_100km"] == 8.0 and ev["limit_l_per_100km"] == 9.6
    assert len(ev["refuelling_ids"]) == 3
    # A ratio raised for A (an agency override) clears it.
    MisuseCase.objects.all().delete()
    Threshold.objects.create(
        key="fuel.over_norm_ratio", value=1, agency=world["A"], label="x", source="本单位"
    )
    run(rules=[sig.NORM])
    assert cases(sig.NORM) == []


def test_short_months_are_not_judged(fleet):
    card = fleet["card"]
    fill(card, day="2026-04-01", litres="30", km=Decimal("11100"))  # 100 km: 30 L/100 km
    run(rules=[sig.NORM])
    assert cases(sig.NORM) == []


def test_refuelling_for_an_unregistered_plate_with_a_service_card(fleet):
    card = fleet["card"]
    fill(card, plate="川A88888", day="2026-04-03", litres="35")
    fill(card, plate="川A88888", day="2026-04-13", litres="36", station="中石化大足一站")
    fill(None, plate="川A88888", day="2026-04-14", litres="36", agency=fleet["A"])  # no card
    run(rules=[sig.FUEL_UNREG])
    [case] = cases(sig.FUEL_UNREG)
    ev = case.evidence
    assert (ev["plate"], ev["count"], ev["litres"]) == ("川A88888", 2, 71.0)
    assert ev["bound_plate"] == "渝A10001" and ev["stations"] == ["中石化大足一站"]


def test_maintenance_for_unregistered_plate_and_for_another_agencys_car(fleet, world):
    a, s = fleet["A"], shop(fleet["A"])
    ok = lifecycle.request_maintenance(
        None, agency=a, plate="渝A10001", shop=s, kind="service", date=D(2026, 3, 3), amount=400
    )
    ghost = lifecycle.request_maintenance(
        None, agency=a, plate="渝A55555", shop=s, kind="repair", date=D(2026, 3, 4), amount=900
    )
    b_car = car(world["B"], plate="川A12121")
    foreign = lifecycle.request_maintenance(
        None, agency=a, plate=b_car.plate, shop=s, kind="tyres", date=D(2026, 3, 5), amount=1200
    )
    # The bureau paying for a car of an agency it serves (A for A1) is not flagged.
    a1_car = car(world["A1"])
    lifecycle.request_maintenance(
        None, agency=a, plate=a1_car.plate, shop=s, kind="service", date=D(2026, 3, 6), amount=300
    )
    run(rules=[sig.MNT_UNREG, sig.MNT_OTHER])
    [unreg] = cases(sig.MNT_UNREG)
    assert unreg.evidence["maintenance_ids"] == [ghost.pk] and unreg.evidence["amount"] == 900.0
    [other] = cases(sig.MNT_OTHER)
    assert other.evidence["maintenance_ids"] == [foreign.pk] and other.vehicle == b_car
    assert "第（七）项" in other.source
    assert ok.pk not in {c.evidence["maintenance_ids"][0] for c in MisuseCase.objects.all()}


def test_rerun_is_idempotent_and_does_not_reopen_a_handled_case(fleet, users):
    fill(fleet["card"], day="2026-03-28", litres="80", km=Decimal("11600"))
    first = run()
    assert first["opened"][sig.TANK] == 1
    opened = MisuseCase.objects.count()  # the 80 L also puts March over the norm
    case = MisuseCase.objects.get(rule=sig.TANK)
    dismiss_case(None, case, "油箱加装副油箱，已备案")
    again = run()
    assert again["found"] == first["found"] and sum(again["opened"].values()) == 0
    assert MisuseCase.objects.count() == opened
    assert MisuseCase.objects.get(rule=sig.TANK).status == "dismissed"


def test_detect_stays_in_the_callers_scope_and_period(fleet, world, users):
    b = world["B"]
    b_car = car(b, plate="川A30303")
    b_card = lifecycle.issue_fuel_card(None, agency=b, number="9000000000000B01", vehicle=b_car)
    fill(b_card, day="2026-03-05", litres="90")
    fill(fleet["card"], day="2026-05-05", litres="90", km=Decimal("12000"))
    result = run(users["agency"], rules=[sig.TANK], since=D(2026, 5, 1), until=D(2026, 6, 1))
    assert result["opened"] == {sig.TANK: 1}
    assert {c.agency for c in MisuseCase.objects.all()} == {fleet["A"]}
    assert run(users["agency"], agency=fleet["A"], rules=[sig.TANK])["found"][sig.TANK] == 1
    with pytest.raises(PermissionDenied):
        run(users["norole"])
    assert run(None, rules=[sig.TANK])["opened"][sig.TANK] == 1  # the system sees B


def test_detectors_use_a_fixed_number_of_queries(world):
    """Set-based: ten cars with a month of fills each cost no more queries than one."""

    pool = car(world["A"], plate="渝A99999")  # a pool car every card also fills once

    def plant(n, offset):
        for i in range(n):
            c = car(world["A"])
            card = lifecycle.issue_fuel_card(
                None, agency=world["A"], number=f"77{offset + i:014d}", vehicle=c
            )
            for j in range(3):
                fill(card, day=f"2026-03-{1 + 9 * j:02d}", litres="49", km=1000 + 300 * j)
            fill(card, day="2026-03-25", litres="60", km=1700)
            fill(card, plate="川A99999", day="2026-03-15", litres="30")
            fill(card, plate=pool.plate, day="2026-03-16", litres="30")

    def count_queries():
        window = sig.Window()
        with CaptureQueriesContext(connection) as ctx:
            found = {rule: len(fn(window)) for rule, fn in sig.DETECTORS.items()}
        return len(ctx.captured_queries), found

    plant(1, 0)
    one, found_one = count_queries()
    plant(9, 100)
    ten, found_ten = count_queries()
    assert ten == one, (one, ten)
    assert found_one[sig.TANK] == 1 and found_ten[sig.TANK] == 10
    assert found_ten[sig.SHARED] == 10 and found_ten[sig.FUEL_UNREG] == 10
    assert found_ten[sig.NORM] == 10  # 158 L over 700 km = 22.6 L/100 km


def test_detect_command_prints_one_json_document(fleet):
    import io
    import json

    from django.core.management import call_command

    fill(fleet["card"], day="2026-03-28", litres="80", km=Decimal("11600"))
    out = io.StringIO()
    call_command("vehicles", "detect", "--agency", fleet["A"].name, "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["opened"][sig.TANK] == 1 and len(result["case_ids"]) >= 1
    out = io.StringIO()
    call_command("vehicles", "detect", "--json", stdout=out)
    assert sum(json.loads(out.getvalue())["opened"].values()) == 0


def test_tco_command(fleet):
    import io
    import json

    from django.core.management import call_command

    out = io.StringIO()
    call_command(
        "vehicles", "tco", "--start", "2026-03-01", "--end", "2026-04-01", "--json", stdout=out
    )
    result = json.loads(out.getvalue())
    [row] = result["items"]
    assert row["agency_name"] == fleet["A"].name and row["vehicles"] == 1
    assert result["total"]["fuel"] == 3 * 40 * 7.8
