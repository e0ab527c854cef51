"""The dispatch indicators with numbers worked out by hand (March 2026: 22 official
workdays, no holiday or 调休 in the month)."""

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from guanjia.core.indicator_registry import IndicatorScope, Period, get_indicator
from guanjia.core.scope import DataScope
from guanjia.vehicles import dispatch
from guanjia.vehicles.indicators_dispatch import is_workday
from guanjia.vehicles.models import Disposal, TripRequest, Vehicle

from ..conftest import make_role, make_user
from .dispatch_helpers import at, new_driver, new_vehicle, people_fixture, trip  # noqa: F401

MARCH = Period.parse("2026-03")


def value(key, agency, user=None):
    return get_indicator(key).compute(IndicatorScope(agency, True, user), MARCH)


def run(requester, car, driver, start: datetime, end: datetime, **fields):
    t = trip(requester, start, (end - start).total_seconds() / 3600, **fields)
    dispatch.approve(None, t)
    dispatch.assign(None, t, car, driver)
    dispatch.start(None, t, at=start)
    return dispatch.end(None, t, car.odometer_km + 10, at=end)


def test_march_2026_has_22_workdays():
    days = [date(2026, 3, 1) + timedelta(days=i) for i in range(31)]
    assert sum(map(is_workday, days)) == 22
    assert not is_workday(date(2026, 10, 1)) and is_workday(date(2026, 3, 2))


def test_utilization_rate_in_vehicle_workdays(people, world):
    a, b = world["A"], world["B"]
    old = new_vehicle(a, purchase_date=date(2022, 1, 1))  # 22 workdays
    new = new_vehicle(a, purchase_date=date(2026, 3, 16))  # 16th–31st: 12 workdays
    gone = new_vehicle(a, status=Vehicle.Status.DISPOSED)  # disposed on the 9th: 2nd–6th, 5
    Disposal.objects.create(
        vehicle=gone, disposed_on=date(2026, 3, 9), method="auction", reason="到期"
    )
    new_vehicle(a, status=Vehicle.Status.DISPOSED)  # no disposal record: not counted
    b_car = new_vehicle(b)
    driver, b_driver = new_driver(a), new_driver(b)
    staff = people["staff"]
    run(staff, old, driver, at(2, 9), at(2, 11))  # Monday 2nd
    run(staff, old, driver, at(2, 14), at(2, 16))  # the same day again: still one
    run(staff, old, driver, at(3, 9), at(4, 17))  # over two workdays: two
    run(staff, old, driver, at(7, 9), at(7, 11))  # Saturday: not a workday
    run(staff, new, driver, at(16, 9), at(16, 10))
    pending = dispatch.approve(None, trip(staff, at(17, 9)))
    dispatch.assign(None, pending, new, driver)  # assigned, never completed: not used
    run(people["b_fleet"], b_car, b_driver, at(5, 9), at(5, 10), agency=b)  # outside A
    expected = round(100 * 4 / (22 + 12 + 5), 2)
    assert value("vehicles.utilization_rate", a) == expected == 10.26
    assert value("vehicles.utilization_rate", a, people["fleet"]) == expected
    assert value("vehicles.utilization_rate", a, people["b_fleet"]) is None  # sees no car of A
    assert value("vehicles.utilization_rate", world["A1"]) is None  # A1 holds no car
    # F11: sees A's cars but no trips (no dispatch permission): no data, not 0 %
    viewer = make_user(
        "car_viewer",
        a,
        make_role("car_viewer", DataScope.AGENCY_AND_BELOW, ["vehicles.view", "org.view"]),
    )
    assert value("vehicles.utilization_rate", a, viewer) is None


def _approved(requester, created: datetime, hours: float, status=TripRequest.Status.APPROVED):
    t = trip(requester, at(25, 9))
    TripRequest.objects.filter(pk=t.pk).update(
        created_at=created, approved_at=created + timedelta(hours=hours), status=status
    )
    return t


def test_approval_hours_is_the_median(people, world):
    staff = people["staff"]
    _approved(staff, at(2, 9), 1)
    _approved(staff, at(3, 9), 3)
    _approved(staff, at(4, 9), 10, TripRequest.Status.COMPLETED)  # approved, later completed
    _approved(staff, at(5, 9), 100, TripRequest.Status.REJECTED)  # rejections do not count
    feb = timezone.make_aware(datetime(2026, 2, 27, 9))
    _approved(staff, feb, 2)  # approved in February
    trip(staff, at(6, 9))  # not yet approved
    assert value("dispatch.approval_hours", world["A"]) == 3.0
    assert value("dispatch.approval_hours", world["A"], people["staff2"]) is None  # not theirs
    assert value("dispatch.approval_hours", world["B"]) is None


def test_pooling_rate(people, world):
    a = world["A"]
    car, van = new_vehicle(a), new_vehicle(a, seats=9)
    driver, driver2 = new_driver(a), new_driver(a)
    staff = people["staff"]
    lead = dispatch.approve(None, trip(staff, at(10, 9)))
    mate = dispatch.approve(None, trip(staff, at(10, 9)))
    dispatch.assign(None, lead, van, driver, pool_with=mate)  # two pooled
    for day in (11, 12, 13):  # three alone
        t = dispatch.approve(None, trip(staff, at(day, 9)))
        dispatch.assign(None, t, car, driver2)
    dispatch.approve(None, trip(staff, at(14, 9)))  # approved, not dispatched
    cancelled = dispatch.approve(None, trip(staff, at(15, 9)))
    dispatch.assign(None, cancelled, car, driver2)
    dispatch.cancel(None, cancelled, "取消")
    april = dispatch.approve(None, trip(staff, timezone.make_aware(datetime(2026, 4, 1, 9))))
    dispatch.assign(None, april, car, driver2)
    assert value("dispatch.pooling_rate", a) == pytest.approx(40.0)
    assert value("dispatch.pooling_rate", world["B"]) is None
