"""Online dispatch services without HTTP: requests, approval by scope, the conflict rules of
an assignment, the state machine, pooled cars, start/end odometers, rating, cancellation."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from guanjia.core.models import ObjectChange
from guanjia.core.scope import DataScope
from guanjia.vehicles import dispatch
from guanjia.vehicles.models import TripRequest, Vehicle

from ..conftest import make_role, make_user
from .dispatch_helpers import at, new_driver, new_vehicle, people_fixture, soon, trip  # noqa: F401

S = TripRequest.Status


def messages(exc) -> str:
    return "；".join(exc.value.messages)


@pytest.fixture
def fleet(world):
    """A's car pool: two cars and two drivers."""
    return {
        "car": new_vehicle(world["A"], "渝A10001"),
        "van": new_vehicle(world["A"], "渝A10002", seats=9),
        "driver": new_driver(world["A"], "王师傅"),
        "driver2": new_driver(world["A"], "李师傅"),
    }


def approved(requester, start, approver, hours=2, **fields):
    t = trip(requester, start, hours, **fields)
    return dispatch.approve(approver, t)


# -- requesting -----------------------------------------------------------------------------


def test_request_gets_a_daily_sequence_number_and_the_requesters_agency(people, world):
    staff = people["staff"]
    first = dispatch.request_trip(
        staff,
        purpose="送文件",
        passengers=2,
        origin="大足区财政局",
        destination="大足区人民政府",
        start_at=soon(),
        end_at=soon(26),
    )
    second = dispatch.request_trip(
        staff, purpose="调研", origin="甲", destination="乙", start_at=soon(), end_at=soon(25)
    )
    prefix = f"PC{timezone.localdate():%Y%m%d}"
    assert (first.number, second.number) == (f"{prefix}0001", f"{prefix}0002")
    assert first.agency == world["A1"] and first.requester == staff
    assert first.status == S.REQUESTED
    assert ObjectChange.objects.filter(object_id=str(first.pk)).exists()  # audited
    # F10: past the 9999th request of a day the numbers go on (compared as numbers)
    TripRequest.objects.filter(pk=second.pk).update(number=f"{prefix}9999")
    more = [
        dispatch.request_trip(
            staff, purpose="调研", origin="甲", destination="乙", start_at=soon(), end_at=soon(25)
        ).number
        for _ in range(2)
    ]
    assert more == [f"{prefix}10000", f"{prefix}10001"]


@pytest.mark.parametrize(
    "change, field, text",
    [
        ({"purpose": "  "}, "purpose", "请填写用车事由"),
        ({"passengers": 0}, "passengers", "乘车人数"),
        ({"end_at": soon(23)}, "end_at", "晚于开始时间"),
        ({"start_at": soon(-5), "end_at": soon(-3)}, "end_at", "已过"),
        ({"origin_lat": 29.7}, "origin_lat", "同时填写"),
        ({"origin_lat": 129.7, "origin_lon": 105.7}, "origin_lat", "超出范围"),
    ],
)
def test_bad_requests_are_refused_in_chinese_and_write_nothing(people, change, field, text):
    fields = dict(
        purpose="开会",
        passengers=1,
        origin="甲",
        destination="乙",
        start_at=soon(),
        end_at=soon(26),
    )
    with pytest.raises(ValidationError) as exc:
        dispatch.request_trip(people["staff"], **(fields | change))
    assert field in exc.value.message_dict and text in str(exc.value.message_dict[field])
    assert not TripRequest.objects.exists()


def test_staff_cannot_request_for_another_agency(people, world):
    with pytest.raises(PermissionDenied):
        dispatch.request_trip(
            people["staff"],
            agency=world["B"],
            purpose="x",
            origin="甲",
            destination="乙",
            start_at=soon(),
            end_at=soon(26),
        )
    # the fleet manager of A files on behalf of A1, below A
    t = dispatch.request_trip(
        people["fleet"],
        agency=world["A1"],
        purpose="代为申请",
        origin="甲",
        destination="乙",
        start_at=soon(),
        end_at=soon(26),
    )
    assert t.agency == world["A1"] and t.requester == people["fleet"]
    assert not TripRequest.objects.filter(agency=world["B"]).exists()


# -- approval -------------------------------------------------------------------------------


def test_fleet_manager_approves_within_scope_staff_and_others_cannot(people, world):
    t = trip(people["staff"], soon())
    for who in ("staff", "staff2", "b_fleet"):  # own-records scope approves nothing; B is away
        with pytest.raises(PermissionDenied):
            dispatch.approve(people[who], t)
    t.refresh_from_db()
    assert t.status == S.REQUESTED and t.approver is None
    dispatch.approve(people["fleet"], t)
    t.refresh_from_db()
    assert t.status == S.APPROVED and t.approver == people["fleet"] and t.approved_at


def test_nobody_approves_their_own_request(people):
    own = trip(people["fleet"], soon(), agency=people["fleet"].agency)
    with pytest.raises(PermissionDenied, match="本人"):
        dispatch.approve(people["fleet"], own)


def test_reject_needs_a_reason_and_ends_the_request(people, fleet):
    t = trip(people["staff"], soon())
    with pytest.raises(ValidationError, match="驳回理由"):
        dispatch.reject(people["fleet"], t, " ")
    dispatch.reject(people["fleet"], t, "会议改为视频会议")
    t.refresh_from_db()
    assert t.status == S.REJECTED and t.rejection_reason == "会议改为视频会议"
    with pytest.raises(ValidationError, match="已驳回"):
        dispatch.approve(people["fleet"], t)
    with pytest.raises(ValidationError, match="只有审批通过"):
        dispatch.assign(people["fleet"], t, fleet["car"], fleet["driver"])


# -- the state machine ----------------------------------------------------------------------


def test_cannot_assign_before_approval_nor_start_before_assignment(people, fleet):
    t = trip(people["staff"], soon())
    with pytest.raises(ValidationError, match="只有审批通过"):
        dispatch.assign(people["fleet"], t, fleet["car"], fleet["driver"])
    with pytest.raises(ValidationError, match="不能出车"):
        dispatch.start(people["fleet"], t)
    with pytest.raises(ValidationError, match="不能收车"):
        dispatch.end(people["fleet"], t, 100)
    dispatch.approve(people["fleet"], t)
    with pytest.raises(ValidationError, match="不能出车"):
        dispatch.start(people["fleet"], t)
    t.refresh_from_db()
    assert t.status == S.APPROVED and t.vehicle is None


def test_full_run_moves_the_odometer(people, fleet):
    car = fleet["car"]
    car.odometer_km = Decimal("12000.0")
    car.save()
    t = approved(people["staff"], soon(), people["fleet"])
    dispatch.assign(people["fleet"], t, car, fleet["driver"])
    t.refresh_from_db()
    assert (t.status, t.vehicle, t.driver, t.dispatcher) == (
        S.ASSIGNED,
        car,
        fleet["driver"],
        people["fleet"],
    )
    with pytest.raises(ValidationError, match="不能收车"):
        dispatch.end(people["fleet"], t, 12050)
    with pytest.raises(ValidationError, match="小于车辆登记里程"):
        dispatch.start(people["fleet"], t, 11000)
    dispatch.start(people["fleet"], t)  # the registered odometer by default
    t.refresh_from_db()
    assert t.status == S.IN_PROGRESS and t.start_odometer_km == Decimal("12000.0")
    with pytest.raises(ValidationError) as exc:
        dispatch.end(people["fleet"], t, "11999.9")
    assert "小于出车里程" in messages(exc)
    with pytest.raises(ValidationError, match="数字"):
        dispatch.end(people["fleet"], t, "很多")
    dispatch.end(people["fleet"], t, "12042.5")
    t.refresh_from_db()
    car.refresh_from_db()
    assert t.status == S.COMPLETED and t.end_odometer_km == Decimal("12042.5")
    assert car.odometer_km == Decimal("12042.5")
    with pytest.raises(ValidationError, match="不能取消"):
        dispatch.cancel(people["staff"], t, "不去了")


def test_rating_by_the_requester_once_after_completion(people, fleet):
    t = approved(people["staff"], soon(), people["fleet"])
    with pytest.raises(ValidationError, match="不能评价"):
        dispatch.rate(people["staff"], t, 5)
    dispatch.assign(people["fleet"], t, fleet["car"], fleet["driver"])
    dispatch.start(people["fleet"], t)
    dispatch.end(people["fleet"], t, 30)
    with pytest.raises(PermissionDenied, match="只有申请人"):
        dispatch.rate(people["fleet"], t, 5)
    with pytest.raises(ValidationError, match="1 至 5"):
        dispatch.rate(people["staff"], t, 6)
    dispatch.rate(people["staff"], t, 4, "司机准时")
    t.refresh_from_db()
    assert (t.rating, t.rating_comment) == (4, "司机准时")
    with pytest.raises(ValidationError, match="已评价"):
        dispatch.rate(people["staff"], t, 5)


def test_cancel_frees_the_car_and_needs_a_reason(people, fleet):
    first = approved(people["staff"], soon(), people["fleet"])
    dispatch.assign(people["fleet"], first, fleet["car"], fleet["driver"])
    second = approved(people["staff2"], soon(25), people["fleet"])
    with pytest.raises(ValidationError, match="时间冲突"):
        dispatch.assign(people["fleet"], second, fleet["car"], fleet["driver2"])
    with pytest.raises(PermissionDenied):  # another staff member cannot cancel it
        dispatch.cancel(people["staff2"], first, "x")
    with pytest.raises(ValidationError, match="取消原因"):
        dispatch.cancel(people["staff"], first, "")
    dispatch.cancel(people["staff"], first, "会议取消")
    first.refresh_from_db()
    assert first.status == S.CANCELLED and first.cancel_reason == "会议取消"
    dispatch.assign(people["fleet"], second, fleet["car"], fleet["driver"])  # free again
    second.refresh_from_db()
    assert second.vehicle == fleet["car"]


# -- conflicts ------------------------------------------------------------------------------


def test_vehicle_double_booked_in_overlapping_windows_only(people, fleet):
    first = approved(people["staff"], soon(), people["fleet"], hours=3)
    dispatch.assign(people["fleet"], first, fleet["car"], fleet["driver"])
    clash = approved(people["staff2"], soon(26), people["fleet"])  # 26–28 within 24–27
    with pytest.raises(ValidationError) as exc:
        dispatch.assign(people["fleet"], clash, fleet["car"], fleet["driver2"])
    assert "车辆 渝A10001 在" in messages(exc) and first.number in messages(exc)
    after = approved(people["staff2"], soon(27), people["fleet"])  # starts when first ends
    dispatch.assign(people["fleet"], after, fleet["car"], fleet["driver2"])


def test_driver_double_booked(people, fleet):
    first = approved(people["staff"], soon(), people["fleet"])
    dispatch.assign(people["fleet"], first, fleet["car"], fleet["driver"])
    second = approved(people["staff2"], soon(25), people["fleet"])
    with pytest.raises(ValidationError) as exc:
        dispatch.assign(people["fleet"], second, fleet["van"], fleet["driver"])
    assert "驾驶员 王师傅 在" in messages(exc) and "时间冲突" in messages(exc)
    assert "车辆" not in messages(exc)


def test_in_progress_trips_block_too(people, fleet):
    first = approved(people["staff"], soon(-1), people["fleet"], hours=4)
    dispatch.assign(people["fleet"], first, fleet["car"], fleet["driver"])
    dispatch.start(people["fleet"], first)
    second = approved(people["staff2"], soon(1), people["fleet"])
    with pytest.raises(ValidationError, match="时间冲突"):
        dispatch.assign(people["fleet"], second, fleet["car"], fleet["driver2"])


@pytest.mark.parametrize(
    "status, word",
    [
        (Vehicle.Status.SEALED, "封存"),
        (Vehicle.Status.IN_REPAIR, "维修"),
        (Vehicle.Status.DISPOSED, "已处置"),
    ],
)
def test_unusable_vehicle_is_refused(people, fleet, status, word):
    car = fleet["car"]
    car.status = status
    car.save()
    t = approved(people["staff"], soon(), people["fleet"])
    with pytest.raises(ValidationError) as exc:
        dispatch.assign(people["fleet"], t, car, fleet["driver"])
    assert f"渝A10001 处于“{word}”状态" in messages(exc)
    t.refresh_from_db()
    assert t.status == S.APPROVED and t.vehicle is None


def test_sealed_after_assignment_cannot_start(people, fleet):
    t = approved(people["staff"], soon(), people["fleet"])
    dispatch.assign(people["fleet"], t, fleet["car"], fleet["driver"])
    Vehicle.objects.filter(pk=fleet["car"].pk).update(status=Vehicle.Status.IN_REPAIR)
    with pytest.raises(ValidationError, match="维修"):
        dispatch.start(people["fleet"], t)


def test_licence_expired_at_the_trip_date_and_inactive_driver(people, fleet, world):
    # Mid-morning, so the trip ends on the day it starts whatever the hour of the test run.
    start = timezone.localtime(soon(48)).replace(hour=9)
    day = start.date()
    expired = new_driver(world["A"], "赵师傅", expiry=day - timedelta(days=1))
    valid_that_day = new_driver(world["A"], "钱师傅", expiry=day)
    off_duty = new_driver(world["A"], "孙师傅", active=False)
    t = approved(people["staff"], start, people["fleet"])
    with pytest.raises(ValidationError) as exc:
        dispatch.assign(people["fleet"], t, fleet["car"], expired)
    assert "赵师傅 的驾驶证已于" in messages(exc) and str(day) in messages(exc)
    with pytest.raises(ValidationError, match="不在岗"):
        dispatch.assign(people["fleet"], t, fleet["car"], off_duty)
    dispatch.assign(people["fleet"], t, fleet["car"], valid_that_day)


def test_seats_count_the_driver(people, fleet):
    five = approved(people["staff"], soon(), people["fleet"], passengers=5)
    with pytest.raises(ValidationError) as exc:
        dispatch.assign(people["fleet"], five, fleet["car"], fleet["driver"])
    assert "核定 5 座（含驾驶员），可载 4 人，乘车人数 5 人超出" in messages(exc)
    dispatch.assign(people["fleet"], five, fleet["van"], fleet["driver"])


def test_every_problem_is_listed_at_once(people, fleet, world):
    car = fleet["car"]
    car.status = Vehicle.Status.SEALED
    car.save()
    driver = new_driver(world["A"], "周师傅", expiry=date(2020, 1, 1), active=False)
    t = approved(people["staff"], soon(), people["fleet"], passengers=7)
    with pytest.raises(ValidationError) as exc:
        dispatch.assign(people["fleet"], t, car, driver)
    assert len(exc.value.messages) == 4  # sealed, off duty, licence, seats


def test_vehicle_or_driver_outside_the_dispatchers_scope(people, fleet, world):
    b_car, b_driver = new_vehicle(world["B"], "川A20001"), new_driver(world["B"], "成都师傅")
    t = approved(people["staff"], soon(), people["fleet"])
    with pytest.raises(PermissionDenied, match="川A20001 不在您的管理范围内"):
        dispatch.assign(people["fleet"], t, b_car, fleet["driver"])
    with pytest.raises(PermissionDenied, match="成都师傅 不在您的管理范围内"):
        dispatch.assign(people["fleet"], t, fleet["car"], b_driver)
    with pytest.raises(PermissionDenied):  # B's manager does not dispatch A's requests
        dispatch.assign(people["b_fleet"], t, b_car, b_driver)
    t.refresh_from_db()
    assert t.vehicle is None and t.status == S.APPROVED


def _a1_dispatcher(world):
    role = make_role("a1_dispatch", DataScope.AGENCY, ["dispatch.*", "vehicles.view", "org.view"])
    return make_user("a1_dispatcher", world["A1"], role)


def test_a_clash_with_an_order_outside_scope_is_not_named(people, world):
    """F3: A1's dispatcher learns the car is taken, not A's order number or window."""
    car, driver = new_vehicle(world["A1"], "渝A10021"), new_driver(world["A1"], "赵师傅")
    a_trip = dispatch.approve(None, trip(people["fleet"], soon(), agency=world["A"]))
    dispatch.assign(people["fleet"], a_trip, car, driver)
    mine = approved(people["staff"], soon(), people["fleet"])
    a1_dispatcher = _a1_dispatcher(world)
    with pytest.raises(ValidationError) as exc:
        dispatch.assign(a1_dispatcher, mine, car, new_driver(world["A1"]))
    assert "其他单位" in messages(exc) and a_trip.number not in messages(exc)
    with pytest.raises(ValidationError) as exc:  # the fleet manager of A sees which one
        dispatch.assign(people["fleet"], mine, car, new_driver(world["A1"]))
    assert a_trip.number in messages(exc)
    # The car still out on A's order: starting A1's later order does not name it either.
    dispatch.start(people["fleet"], a_trip, 100)
    later = approved(people["staff"], soon(30), people["fleet"])
    dispatch.assign(people["fleet"], later, car, new_driver(world["A1"]))
    with pytest.raises(ValidationError) as exc:
        dispatch.start(a1_dispatcher, later, 120)
    assert "其他单位未收车" in messages(exc) and a_trip.number not in messages(exc)


def test_staff_cannot_dispatch_their_own_request(people, fleet):
    t = approved(people["staff"], soon(), people["fleet"])
    with pytest.raises(PermissionDenied):
        dispatch.assign(people["staff"], t, fleet["car"], fleet["driver"])


def test_reassignment_replaces_the_car(people, fleet):
    t = approved(people["staff"], soon(), people["fleet"])
    dispatch.assign(people["fleet"], t, fleet["car"], fleet["driver"])
    dispatch.assign(people["fleet"], t, fleet["van"], fleet["driver"])  # no clash with itself
    t.refresh_from_db()
    assert t.vehicle == fleet["van"]
    other = approved(people["staff2"], soon(), people["fleet"])
    dispatch.assign(people["fleet"], other, fleet["car"], fleet["driver2"])  # car is free


# -- pooled cars ----------------------------------------------------------------------------


def test_pooling_with_an_assigned_request_shares_car_and_driver(people, fleet):
    lead = approved(people["staff"], soon(), people["fleet"], passengers=2)
    dispatch.assign(people["fleet"], lead, fleet["car"], fleet["driver"])
    join = approved(people["staff2"], soon(24.5), people["fleet"], passengers=2)
    dispatch.assign(people["fleet"], join, pool_with=lead)
    lead.refresh_from_db()
    join.refresh_from_db()
    assert join.vehicle == lead.vehicle == fleet["car"] and join.driver == fleet["driver"]
    assert lead.pool_lead == lead and join.pool_lead == lead
    third = approved(people["staff2"], soon(24.5), people["fleet"], passengers=1)
    with pytest.raises(ValidationError, match="乘车人数 5 人超出"):
        dispatch.assign(people["fleet"], third, pool_with=join)  # 2 + 2 + 1 > 4
    # the pool moves as one: start and end together
    dispatch.start(people["fleet"], join, 100)
    lead.refresh_from_db()
    assert lead.status == S.IN_PROGRESS and lead.start_odometer_km == 100
    dispatch.end(people["fleet"], lead, 130)
    join.refresh_from_db()
    assert join.status == S.COMPLETED and join.end_odometer_km == 130


def test_pooling_two_approved_requests_assigns_both(people, fleet):
    a = approved(people["staff"], soon(25), people["fleet"])
    b = approved(people["staff2"], soon(24), people["fleet"])
    dispatch.assign(people["fleet"], a, fleet["car"], fleet["driver"], pool_with=b)
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.status == b.status == S.ASSIGNED and a.vehicle == b.vehicle == fleet["car"]
    assert a.pool_lead == b and b.pool_lead == b  # the earlier one leads


def test_pooling_needs_overlapping_windows_and_the_same_car(people, fleet):
    lead = approved(people["staff"], soon(), people["fleet"])
    dispatch.assign(people["fleet"], lead, fleet["car"], fleet["driver"])
    later = approved(people["staff2"], soon(30), people["fleet"])
    with pytest.raises(ValidationError, match="不重叠"):
        dispatch.assign(people["fleet"], later, pool_with=lead)
    same_time = approved(people["staff2"], soon(), people["fleet"])
    with pytest.raises(ValidationError, match="同一车辆"):
        dispatch.assign(people["fleet"], same_time, fleet["van"], fleet["driver"], pool_with=lead)


def test_cancelling_the_lead_keeps_the_rest_of_the_pool(people, fleet):
    lead = approved(people["staff"], soon(), people["fleet"])
    dispatch.assign(people["fleet"], lead, fleet["car"], fleet["driver"])
    second = approved(people["staff2"], soon(), people["fleet"])
    dispatch.assign(people["fleet"], second, pool_with=lead)
    third = approved(people["staff2"], soon(), people["fleet"])
    dispatch.assign(people["fleet"], third, pool_with=lead)
    dispatch.cancel(people["staff"], lead, "不去了")
    for t in (lead, second, third):
        t.refresh_from_db()
    assert lead.pool_lead is None
    assert second.pool_lead == second and third.pool_lead == second
    dispatch.cancel(people["fleet"], third, "合并")
    second.refresh_from_db()
    assert second.pool_lead is None  # a pool of one is no pool
    assert second.status == S.ASSIGNED and second.vehicle == fleet["car"]


def test_a_dispatcher_cannot_relink_pooled_orders_outside_scope(people, fleet, world):
    """F4: A1's dispatcher cancelling A1's order would relink A's order of the same pool."""
    mine = approved(people["staff"], soon(), people["fleet"])
    a_trip = dispatch.approve(None, trip(people["fleet"], soon(), agency=world["A"]))
    dispatch.assign(people["fleet"], mine, fleet["car"], fleet["driver"], pool_with=a_trip)
    mine.refresh_from_db()
    with pytest.raises(PermissionDenied):
        dispatch.cancel(_a1_dispatcher(world), mine, "不去了")
    a_trip.refresh_from_db()
    assert a_trip.pool_lead == mine.pool_lead is not None
    dispatch.cancel(people["staff"], mine, "不去了")  # the requester always can
    a_trip.refresh_from_db()
    assert a_trip.pool_lead is None and a_trip.status == S.ASSIGNED


def test_a_refused_pool_writes_nothing(people, fleet):
    lead = approved(people["staff"], soon(), people["fleet"], passengers=4)
    other = approved(people["staff2"], soon(), people["fleet"], passengers=1)
    before = ObjectChange.objects.count()
    with pytest.raises(ValidationError, match="超出"):
        dispatch.assign(people["fleet"], lead, fleet["car"], fleet["driver"], pool_with=other)
    assert ObjectChange.objects.count() == before
    lead.refresh_from_db()
    other.refresh_from_db()
    assert lead.status == other.status == S.APPROVED and lead.pool_lead is None


def test_system_trips_in_the_past_for_indicators(people, fleet):
    t = trip(people["staff"], at(2, 9))  # the system may file past trips (demo, imports)
    dispatch.approve(None, t)
    dispatch.assign(None, t, fleet["car"], fleet["driver"])
    dispatch.start(None, t, 10, at=at(2, 9))
    dispatch.end(None, t, 20, at=at(2, 11))
    t.refresh_from_db()
    assert t.status == S.COMPLETED and t.ended_at == at(2, 11)
