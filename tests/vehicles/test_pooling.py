"""Pooling suggestions (集约管车): who can share a car, and which free car comes first."""

from datetime import timedelta

import pytest

from guanjia.core.scope import DataScope
from guanjia.vehicles import dispatch, pooling

from ..conftest import make_role, make_user
from .dispatch_helpers import (  # noqa: F401
    new_driver,
    new_garage,
    new_vehicle,
    people_fixture,
    soon,
    trip,
)

# Places in 大足 (WGS-84): the finance bureau, the district government 1.1 km away, and
# 宝顶山 15 km away.
CAIZHENG = (29.7046, 105.7214)
ZHENGFU = (29.7080, 105.7105)
NEAR_ZHENGFU = (29.7100, 105.7125)  # ~0.3 km from 政府
BAODING = (29.7640, 105.8560)


def coords(origin, destination):
    return {
        "origin_lat": origin[0],
        "origin_lon": origin[1],
        "destination_lat": destination[0],
        "destination_lon": destination[1],
    }


def approved(people, who, start, hours=2, **fields):
    return dispatch.approve(people["fleet"], trip(people[who], start, hours, **fields))


def test_haversine_known_distance():
    # one degree of longitude on the equator, of latitude anywhere: 2πR/360
    assert pooling.haversine_km(0, 0, 0, 1) == pytest.approx(111.195, abs=1e-3)
    assert pooling.haversine_km(29, 105, 30, 105) == pytest.approx(111.195, abs=1e-3)
    # at 60° north a degree of longitude is about half as long
    assert pooling.haversine_km(60, 0, 60, 1) == pytest.approx(55.6, abs=0.1)
    assert pooling.haversine_km(*CAIZHENG, *CAIZHENG) == 0


def test_overlapping_close_requests_are_suggested_far_or_late_ones_not(people, world):
    new_vehicle(world["A"], seats=5)
    base = soon()
    mine = approved(people, "staff", base, 2, **coords(CAIZHENG, ZHENGFU))
    half = base + timedelta(minutes=30)
    close = approved(people, "staff2", half, 2, **coords(CAIZHENG, NEAR_ZHENGFU))
    far = approved(people, "staff2", base, 2, **coords(CAIZHENG, BAODING))
    late = approved(people, "staff2", base + timedelta(hours=5), 2, **coords(CAIZHENG, ZHENGFU))
    found = pooling.pool_suggestions(people["fleet"], mine)
    assert [s.trip for s in found] == [close]
    s = found[0]
    assert s.overlap_minutes == 90 and s.origin_km == 0 and 0.2 < s.destination_km < 0.4
    assert s.passengers == 2 and s.vehicle is None
    # 0.6 × 90/120 + 0.4 × (1 − 0.3/6)
    assert s.score == pytest.approx(0.6 * 0.75 + 0.4 * (1 - s.destination_km / 6), abs=1e-3)
    assert far not in [x.trip for x in found] and late not in [x.trip for x in found]


def test_without_coordinates_the_same_place_names_match(people, world):
    new_vehicle(world["A"])
    mine = approved(people, "staff", soon(), origin="区财政局", destination="区人民政府")
    same = approved(people, "staff2", soon(), origin="区财政局 ", destination="区 人民政府")
    other = approved(people, "staff2", soon(), origin="区财政局", destination="区人民医院")
    found = [s.trip for s in pooling.pool_suggestions(people["fleet"], mine)]
    assert found == [same] and other not in found


def test_passengers_must_fit_the_largest_car_or_the_assigned_one(people, world):
    car = new_vehicle(world["A"], seats=5)
    driver = new_driver(world["A"])
    mine = approved(people, "staff", soon(), passengers=2)
    three = approved(people, "staff2", soon(), passengers=3)  # 2 + 3 > 4 seats
    two = approved(people, "staff2", soon(), passengers=2)
    assert [s.trip for s in pooling.pool_suggestions(people["fleet"], mine)] == [two]
    dispatch.assign(people["fleet"], two, car, driver)
    found = pooling.pool_suggestions(people["fleet"], mine)
    assert [s.trip for s in found] == [two] and found[0].vehicle == car
    assert three not in [s.trip for s in found]
    one = approved(people, "staff2", soon(), passengers=1)
    dispatch.assign(people["fleet"], one, pool_with=two)  # the pool now carries 3
    assert pooling.pool_suggestions(people["fleet"], mine) == []  # 3 + 2 > 4


def test_a_pool_is_suggested_once(people, world):
    car = new_vehicle(world["A"], seats=9)
    driver = new_driver(world["A"])
    mine = approved(people, "staff", soon())
    a = approved(people, "staff2", soon())
    b = approved(people, "staff2", soon())
    dispatch.assign(people["fleet"], a, car, driver, pool_with=b)
    found = pooling.pool_suggestions(people["fleet"], mine)
    assert len(found) == 1 and found[0].passengers == 3


def test_suggestions_stay_inside_the_dispatchers_scope(people, world):
    new_vehicle(world["A"])
    new_vehicle(world["B"])
    mine = approved(people, "staff", soon())
    b_trip = trip(people["b_fleet"], soon(), agency=world["B"])
    dispatch.approve(None, b_trip)
    assert pooling.pool_suggestions(people["fleet"], mine) == []
    # and nothing at all for someone who does not dispatch
    other = approved(people, "staff2", soon())
    assert pooling.pool_suggestions(people["staff"], other) == []


def test_free_cars_nearest_in_time_and_place_first(people, world):
    garage = new_garage(world["A"], lat=CAIZHENG[0], lon=CAIZHENG[1])
    at_garage = new_vehicle(world["A"], "渝A30001", garage=garage)  # never out: idle 24 h
    far_garage = new_garage(world["A"], "宝顶停车场", *BAODING)
    far_away = new_vehicle(world["A"], "渝A30002", garage=far_garage)
    just_back = new_vehicle(world["A"], "渝A30003")
    busy = new_vehicle(world["A"], "渝A30004")
    sealed = new_vehicle(world["A"], "渝A30005", status="sealed")
    small = new_vehicle(world["A"], "渝A30006", seats=2)
    b_car = new_vehicle(world["B"], "川A30007")
    driver, driver2 = new_driver(world["A"]), new_driver(world["A"])
    start = soon(48)
    earlier = approved(people, "staff2", start - timedelta(hours=3), 2, **coords(ZHENGFU, CAIZHENG))
    dispatch.assign(people["fleet"], earlier, just_back, driver)  # back at 财政局 1 h before
    mine = approved(people, "staff", start, 2, passengers=2, **coords(CAIZHENG, ZHENGFU))
    clash = approved(people, "staff2", start + timedelta(hours=1))
    dispatch.assign(people["fleet"], clash, busy, driver2)
    found = pooling.vehicle_suggestions(people["fleet"], mine)
    plates = [s.vehicle.plate for s in found]
    assert plates == [just_back.plate, at_garage.plate, far_away.plate]
    assert busy.plate not in plates and sealed.plate not in plates and small.plate not in plates
    assert b_car.plate not in plates
    first = found[0]
    assert first.idle_hours == 1.0 and first.distance_km == 0 and first.last_driver_id == driver.pk
    # time 1/(1+1/4) = 0.8, place 1 → 0.9; the garage car: time 1/(1+24/4), place 1
    assert first.score == pytest.approx(0.9)
    assert found[1].score == pytest.approx(0.5 / 7 + 0.5, abs=1e-4)
    assert found[2].distance_km > 14


def test_drivers_offered_are_free_on_duty_and_licensed(people, world):
    start = soon(48)
    day = (start + timedelta(hours=2)).date()
    ok = new_driver(world["A"], "甲师傅")
    new_driver(world["A"], "乙师傅", expiry=day - timedelta(days=1))
    new_driver(world["A"], "丙师傅", active=False)
    booked = new_driver(world["A"], "丁师傅")
    new_driver(world["B"], "成都师傅")
    car = new_vehicle(world["A"])
    other = approved(people, "staff2", start)
    dispatch.assign(people["fleet"], other, car, booked)
    mine = approved(people, "staff", start)
    assert [d.name for d in pooling.driver_choices(people["fleet"], mine)] == [ok.name]


def test_a_cars_last_trip_outside_the_dispatchers_scope_is_not_shown(people, world):
    """F2: the dispatcher of A (own agency only) sees A's car, not its last trip for A1."""
    car = new_vehicle(world["A"], "渝A30011")
    driver = new_driver(world["A"])
    start = soon(48)
    earlier = approved(people, "staff2", start - timedelta(hours=3), 2, **coords(ZHENGFU, BAODING))
    dispatch.assign(people["fleet"], earlier, car, driver)  # A1's trip, to 宝顶山
    own = make_user(
        "a_dispatcher",
        world["A"],
        make_role("a_only", DataScope.AGENCY, ["vehicles.view", "dispatch.*"]),
    )
    mine = trip(own, start, agency=world["A"], **coords(CAIZHENG, ZHENGFU))
    [seen] = pooling.vehicle_suggestions(own, mine)
    assert seen.vehicle == car
    assert (seen.where, seen.last_driver_id, seen.idle_hours) == ("", None, None)
    # the fleet manager of A and below may list that trip and sees where the car is
    [full] = pooling.vehicle_suggestions(people["fleet"], mine)
    assert full.last_driver_id == driver.pk and full.idle_hours == 1.0
