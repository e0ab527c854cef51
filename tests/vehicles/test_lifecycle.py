"""Lifecycle services: reminders, maintenance approval at designated shops, one card per car,
disposal by the age/mileage rule, and the total cost of ownership on a hand-checked car."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from guanjia.core.models import ObjectChange
from guanjia.core.scope import DataScope
from guanjia.vehicles import lifecycle
from guanjia.vehicles.models import (
    FuelCard,
    Inspection,
    Maintenance,
    Refuelling,
    Threshold,
    Vehicle,
)

from ..conftest import make_role, make_user
from .lifecycle_fixtures import car, fill, shop

D = dt.date


# -- thresholds -----------------------------------------------------------------------------


def test_thresholds_are_loaded_with_their_source_and_agency_overrides_win(world):
    t = Threshold.objects.get(key="maintenance.approval_amount", agency=None)
    assert t.value == 5000 and "地方管理实践" in t.source
    assert "株洲" in Threshold.objects.get(key="disposal.age_years", agency=None).source
    Threshold.objects.create(
        key="maintenance.approval_amount", value=2000, agency=world["A1"], label="x", source="y"
    )
    assert lifecycle.threshold_value("maintenance.approval_amount", world["A1"]) == 2000
    assert lifecycle.threshold_value("maintenance.approval_amount", world["A"]) == 5000


# -- inspections and reminders --------------------------------------------------------------


def test_reminders_list_expired_and_due_not_later_or_renewed(world, users):
    a = world["A"]
    expired, due, fine, renewed, gone = (car(a) for _ in range(5))
    today = D(2026, 3, 10)
    user = users["agency"]
    lifecycle.record_inspection(
        user, expired, kind="inspection", valid_from=D(2025, 3, 1), valid_until=D(2026, 3, 1)
    )
    lifecycle.record_inspection(
        user, due, kind="compulsory", valid_from=D(2025, 4, 1), valid_until=D(2026, 3, 31)
    )
    lifecycle.record_inspection(
        user, fine, kind="inspection", valid_from=D(2026, 1, 1), valid_until=D(2026, 12, 31)
    )
    for start in (D(2025, 1, 1), D(2026, 1, 1)):  # the old record is superseded
        lifecycle.record_inspection(
            user,
            renewed,
            kind="commercial",
            valid_from=start,
            valid_until=start.replace(month=2) + dt.timedelta(days=365),
        )
    lifecycle.record_inspection(
        user, gone, kind="inspection", valid_from=D(2024, 1, 1), valid_until=D(2025, 1, 1)
    )
    Vehicle.objects.filter(pk=gone.pk).update(status=Vehicle.Status.DISPOSED)
    rows = lifecycle.reminders(user, today=today)
    got = {(r.plate, r.kind, r.state, r.days_left) for r in rows}
    assert got == {
        (expired.plate, "inspection", "expired", -9),
        (due.plate, "compulsory", "due", 21),
    }
    assert rows[0].state == "expired"  # most urgent first
    assert lifecycle.reminders(user, today=today, days=10) == rows[:1]
    assert lifecycle.reminders(users["norole"], today=today) == []


def test_inspection_dates_are_checked_and_scope_refuses_another_agency(world, users):
    b_car = car(world["B"])
    with pytest.raises(ValidationError):
        lifecycle.record_inspection(
            None, b_car, kind="inspection", valid_from=D(2026, 2, 1), valid_until=D(2026, 1, 1)
        )
    with pytest.raises(PermissionDenied):
        lifecycle.record_inspection(
            users["agency"],
            b_car,
            kind="inspection",
            valid_from=D(2026, 1, 1),
            valid_until=D(2027, 1, 1),
        )
    assert not Inspection.objects.exists()


# -- maintenance ----------------------------------------------------------------------------


def _request(user, agency, amount, plate=None, at_shop=None, **kw):
    return lifecycle.request_maintenance(
        user,
        agency=agency,
        plate=plate or kw.pop("vehicle").plate,
        shop=at_shop,
        kind="repair",
        date=kw.pop("date", D(2026, 3, 5)),
        amount=Decimal(amount),
        **kw,
    )


def test_maintenance_below_the_threshold_is_done_at_or_above_waits(world, users):
    a, user = world["A"], users["agency"]
    c, s = car(a), shop(a)
    small = _request(user, a, "4999.99", vehicle=c, at_shop=s)
    assert small.status == Maintenance.Status.DONE and small.vehicle == c
    big = _request(user, a, "5000", vehicle=c, at_shop=s)  # 以上 includes the amount itself
    assert big.status == Maintenance.Status.REQUESTED and big.requested_by == user
    # The requester cannot approve their own request.
    with pytest.raises(ValidationError, match="申请人以外"):
        lifecycle.approve_maintenance(user, big)
    # Someone without vehicles.change cannot approve either.
    clerk = make_user(
        "clerk", a, make_role("clerk", DataScope.AGENCY, ["vehicles.view", "vehicles.add"])
    )
    with pytest.raises(PermissionDenied):
        lifecycle.approve_maintenance(clerk, big)
    # Not done before approval.
    with pytest.raises(ValidationError):
        lifecycle.complete_maintenance(users["agency_and_below"], big)
    boss = users["agency_and_below"]
    lifecycle.approve_maintenance(boss, big, note="同意")
    big.refresh_from_db()
    assert (big.status, big.approver, big.decision_note) == ("approved", boss, "同意")
    with pytest.raises(ValidationError, match="超出批准金额"):
        lifecycle.complete_maintenance(user, big, amount=Decimal("5200"))
    lifecycle.complete_maintenance(user, big, amount=Decimal("4800"))
    big.refresh_from_db()
    assert (big.status, big.amount) == ("done", Decimal("4800"))


def test_agency_override_lowers_the_approval_amount(world, users):
    a = world["A"]
    Threshold.objects.create(
        key="maintenance.approval_amount", value=1000, agency=a, label="x", source="本单位规定"
    )
    m = _request(users["agency"], a, "1500", vehicle=car(a), at_shop=shop(a))
    assert m.status == Maintenance.Status.REQUESTED


def test_rejection_needs_a_reason_and_is_final(world, users):
    a = world["A"]
    m = _request(users["agency"], a, "8000", vehicle=car(a), at_shop=shop(a))
    boss = users["agency_and_below"]
    with pytest.raises(ValidationError):
        lifecycle.reject_maintenance(boss, m, "  ")
    lifecycle.reject_maintenance(boss, m, "非必要项目")
    with pytest.raises(ValidationError):
        lifecycle.approve_maintenance(boss, m)
    assert Maintenance.objects.get(pk=m.pk).decision_note == "非必要项目"


def test_a_stale_copy_cannot_decide_or_complete_again(world, users):
    """F5: two approvers with the same request open; the second sees the first's decision."""
    a = world["A"]
    m = _request(users["agency"], a, "8000", vehicle=car(a), at_shop=shop(a))
    stale = Maintenance.objects.get(pk=m.pk)
    lifecycle.approve_maintenance(users["agency_and_below"], m, "同意")
    with pytest.raises(ValidationError, match="待审批"):
        lifecycle.reject_maintenance(users["all"], stale, "不同意")
    lifecycle.complete_maintenance(users["agency"], Maintenance.objects.get(pk=m.pk))
    stale.status = Maintenance.Status.APPROVED  # a copy read before the job was done
    with pytest.raises(ValidationError, match="已批准"):
        lifecycle.complete_maintenance(users["agency"], stale, amount=Decimal("100"))
    m.refresh_from_db()
    assert (m.status, m.approver, m.amount) == ("done", users["agency_and_below"], 8000)


def test_only_designated_shops_with_a_valid_contract(world, users):
    a, a1, user = world["A"], world["A1"], users["agency_and_below"]
    c = car(a1)
    with pytest.raises(ValidationError, match="定点"):
        _request(user, a1, "300", vehicle=c, at_shop=None)
    with pytest.raises(ValidationError, match="不是定点"):
        _request(user, a1, "300", vehicle=c, at_shop=shop(a, "路边店", is_designated=False))
    old = shop(a, "协议到期厂")
    old.contract_until = D(2025, 12, 31)
    old.save()
    with pytest.raises(ValidationError, match="到期"):
        _request(user, a1, "300", vehicle=c, at_shop=old)
    with pytest.raises(ValidationError, match="不是本单位"):
        _request(None, a1, "300", vehicle=c, at_shop=shop(world["B"], "成都汽修"))
    # A shop designated by the agency above (the bureau serving A1) is fine.
    assert _request(user, a1, "300", vehicle=c, at_shop=shop(a)).status == "done"
    assert Maintenance.objects.count() == 1


def test_maintenance_keeps_the_billed_plate_and_links_only_registered_cars(world, users):
    a = world["A"]
    m = _request(users["agency"], a, "600", plate="渝a·99999", at_shop=shop(a))
    assert (m.plate, m.vehicle) == ("渝A99999", None)


def test_a_plate_outside_the_actors_scope_is_not_linked_or_changed(world, users):
    """F1: agency A's user posts B's plate; B's car is neither linked nor moved forward."""
    a, b, user = world["A"], world["B"], users["agency"]
    theirs = car(b, odometer_km=Decimal("1000"))
    m = _request(user, a, "600", plate=theirs.plate, at_shop=shop(a))
    assert (m.plate, m.vehicle_id) == (theirs.plate, None)
    r = fill(plate=theirs.plate, km=Decimal("999999"), agency=a, actor=user)
    assert (r.plate, r.vehicle_id, r.agency) == (theirs.plate, None, a)
    theirs.refresh_from_db()
    assert theirs.odometer_km == Decimal("1000")
    # A's card bound to a car of A1 (outside the "own agency" user's change scope): the
    # reading is kept, the car's odometer is not touched by this user.
    below = car(world["A1"], odometer_km=Decimal("1000"))
    card = lifecycle.issue_fuel_card(None, agency=a, number="9100000000000077", vehicle=below)
    r = fill(card, km=Decimal("5000"), actor=user)
    assert r.vehicle == below
    below.refresh_from_db()
    assert below.odometer_km == Decimal("1000")


# -- fuel cards -----------------------------------------------------------------------------


def test_one_active_card_per_car(world, users):
    a, user = world["A"], users["agency"]
    c, other = car(a), car(a)
    first = lifecycle.issue_fuel_card(user, agency=a, number="9100000000000001", vehicle=c)
    second = lifecycle.issue_fuel_card(user, agency=a, number="9100000000000002")
    with pytest.raises(ValidationError, match="一车一卡"):
        lifecycle.bind_card(user, second, c)
    assert FuelCard.objects.get(pk=second.pk).vehicle is None
    # The database holds the rule even past the service.
    with pytest.raises(IntegrityError), transaction.atomic():
        FuelCard.objects.filter(pk=second.pk).update(vehicle=c)
    lifecycle.bind_card(user, second, other)
    lifecycle.bind_card(user, first, None)  # unbind
    lifecycle.bind_card(user, second, c)  # rebind: second moves to c
    assert FuelCard.objects.get(vehicle=c) == second
    with pytest.raises(ValidationError, match="本单位"):
        lifecycle.bind_card(None, first, car(world["B"]))
    with pytest.raises(ValidationError, match="已存在"):
        lifecycle.issue_fuel_card(user, agency=a, number="9100000000000001")


def test_refuelling_takes_the_cards_agency_and_moves_the_odometer_forward(world, users):
    a, c = world["A"], car(world["A"], odometer_km=Decimal("1000"))
    card = lifecycle.issue_fuel_card(None, agency=a, number="9100000000000009", vehicle=c)
    r = fill(card, day="2026-03-02", km=Decimal("1500"))
    assert (r.agency, r.vehicle, r.plate) == (a, c, c.plate)
    fill(card, day="2026-03-01", km=Decimal("1200"))  # an older reading does not go back
    c.refresh_from_db()
    assert c.odometer_km == Decimal("1500")
    with pytest.raises(ValidationError):
        fill(card, litres="0")


# -- disposal -------------------------------------------------------------------------------


def test_disposal_rule_needs_age_and_mileage_by_default_and_is_data(world, users):
    a, user = world["A"], users["agency"]
    today = D(2026, 6, 1)
    both = car(a, purchase_date=D(2018, 5, 1), odometer_km=Decimal("260000"))
    old_only = car(a, purchase_date=D(2017, 1, 1), odometer_km=Decimal("90000"))
    worn_only = car(a, purchase_date=D(2022, 1, 1), odometer_km=Decimal("300000"))
    car(a, purchase_date=D(2024, 1, 1))
    eligible = set(lifecycle.disposal_eligible(user, today=today))
    assert eligible == {both}
    Threshold.objects.filter(key="disposal.require_both", agency=None).update(value=0)
    assert set(lifecycle.disposal_eligible(user, today=today)) == {both, old_only, worn_only}
    # An agency's own rule applies to its cars only.
    Threshold.objects.create(
        key="disposal.require_both", value=1, agency=a, label="x", source="本单位"
    )
    assert set(lifecycle.disposal_eligible(user, today=today)) == {both}
    assert "年" in lifecycle.disposal_rule_text(a)


def test_dispose_sets_status_unbinds_the_card_and_refuses_early_without_flag(world, users):
    a, user = world["A"], users["agency"]
    old = car(a, purchase_date=D(2017, 1, 1), odometer_km=Decimal("280000"))
    young = car(a)
    card = lifecycle.issue_fuel_card(user, agency=a, number="9100000000000077", vehicle=old)
    d = lifecycle.dispose_vehicle(
        user, old, disposed_on=D(2026, 5, 1), method="auction", proceeds=8000, reason="到期更新"
    )
    old.refresh_from_db()
    card.refresh_from_db()
    assert old.status == Vehicle.Status.DISPOSED and card.vehicle is None
    assert d.reason == "到期更新"
    assert ObjectChange.objects.filter(object_repr=old.plate, action="update").exists()
    with pytest.raises(ValidationError, match="已处置"):
        lifecycle.dispose_vehicle(user, old, disposed_on=D(2026, 5, 2), method="scrap", reason="x")
    with pytest.raises(ValidationError, match="未达到处置条件"):
        lifecycle.dispose_vehicle(
            user, young, disposed_on=D(2026, 5, 1), method="scrap", reason="事故"
        )
    d2 = lifecycle.dispose_vehicle(
        user, young, disposed_on=D(2026, 5, 1), method="scrap", reason="事故全损", early=True
    )
    assert d2.reason.startswith("提前处置")
    b_old = car(world["B"], purchase_date=D(2010, 1, 1), odometer_km=Decimal("400000"))
    with pytest.raises(PermissionDenied):
        lifecycle.dispose_vehicle(
            user, b_old, disposed_on=D(2026, 5, 1), method="auction", reason="越权"
        )
    assert Vehicle.objects.get(pk=b_old.pk).status == Vehicle.Status.IN_SERVICE


# -- total cost of ownership ----------------------------------------------------------------


def test_tco_of_a_hand_checked_car(world, users):
    """Price 146,100 over 8 years (2022-01-01 … 2030-01-01 = 2,922 days) → 50 元 a day.

    Period: March 2026 (31 days). Purchase 31 × 50 = 1,550. Fuel 300 + 312 = 612.
    Maintenance done 800 (the requested 6,000 is not done, the February bill is outside).
    Insurance 3,650 over 365 days (2026-01-01…2026-12-31) → 10 a day → 310. Inspection 0
    (none). Total 3,272. Kilometres: last reading before March 20,000; in March 20,900 →
    900 km → 3.64 元/km."""
    a, user = world["A"], users["agency"]
    c = car(a, purchase_price=Decimal("146100"), purchase_date=D(2022, 1, 1))
    card = lifecycle.issue_fuel_card(None, agency=a, number="9100000000000100", vehicle=c)
    fill(card, day="2026-02-20", litres="30", amount="250", km=Decimal("20000"))
    fill(card, day="2026-03-05", litres="38", amount="300", km=Decimal("20400"))
    fill(card, day="2026-03-25", litres="40", amount="312", km=Decimal("20900"))
    fill(card, day="2026-04-01", litres="40", amount="999", km=Decimal("21400"))
    s = shop(a)
    _request(None, a, "800", vehicle=c, at_shop=s, date=D(2026, 3, 10))
    _request(None, a, "6000", vehicle=c, at_shop=s, date=D(2026, 3, 11))
    _request(None, a, "500", vehicle=c, at_shop=s, date=D(2026, 2, 11))
    lifecycle.record_inspection(
        None, c, kind="commercial", valid_from=D(2026, 1, 1), valid_until=D(2026, 12, 31),
        cost=Decimal("3650"),
    )  # fmt: skip
    costs = lifecycle.vehicle_costs(user, start=D(2026, 3, 1), end=D(2026, 4, 1))
    got = costs[c.pk].as_dict()
    assert got["purchase"] == Decimal("1550.00")
    assert got["fuel"] == Decimal("612.00")
    assert got["maintenance"] == Decimal("800.00")
    assert got["insurance"] == Decimal("310.00")
    assert got["inspection"] == Decimal("0.00")
    assert got["total"] == Decimal("3272.00")
    assert got["km"] == Decimal("900.0")
    assert got["per_km"] == Decimal("3.64")
    rows = lifecycle.agency_costs(user, start=D(2026, 3, 1), end=D(2026, 4, 1))
    assert [(r["agency_id"], r["total"], r["vehicles"]) for r in rows] == [
        (a.pk, Decimal("3272.00"), 1)
    ]


def test_tco_subtracts_proceeds_stops_depreciation_at_disposal_and_respects_scope(world, users):
    a = world["A"]
    c = car(a, purchase_price=Decimal("146100"), purchase_date=D(2017, 1, 1))
    c.odometer_km = Decimal("300000")
    c.save()
    lifecycle.dispose_vehicle(
        None, c, disposed_on=D(2026, 3, 10), method="auction", proceeds=5000, reason="到期"
    )
    got = lifecycle.vehicle_costs(users["agency"], start=D(2026, 3, 1), end=D(2026, 4, 1))
    # Fully depreciated after 8 years: purchase 0; proceeds subtracted.
    assert got[c.pk].as_dict()["total"] == Decimal("-5000.00")
    car(world["B"])
    assert set(lifecycle.vehicle_costs(users["agency"], start=D(2026, 3, 1), end=D(2026, 4, 1)))
    assert lifecycle.vehicle_costs(users["norole"], start=D(2026, 3, 1), end=D(2026, 4, 1)) == {}
    assert Refuelling.objects.count() == 0
