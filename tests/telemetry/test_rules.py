"""The misuse rules on planted episodes: each fires on its episode and stays quiet on a
normal day; alerts fold into one case per episode; a replay opens nothing new."""

from __future__ import annotations

import pytest

from guanjia.telemetry import rule_defs as R
from guanjia.telemetry.models import Geofence, RuleSetting
from guanjia.telemetry.rules import Engine
from guanjia.vehicles.models import MisuseCase

from .rules_fixtures import CHENGDU, DAZU, car, china, drive, garage, order

pytestmark = pytest.mark.django_db


def run(*drives, engine=None) -> Engine:
    eng = engine or Engine()
    positions = sorted((p for d in drives for p in d), key=lambda p: (p.time, p.terminal))
    eng.evaluate(positions)
    eng.finish()
    eng.flush()
    return eng


def rules_of(vehicle) -> list[str]:
    return sorted(MisuseCase.objects.filter(vehicle=vehicle).values_list("rule", flat=True))


def test_national_day_night_drive_without_an_order_is_a_night_and_holiday_case(world):
    a_car = car(world["A"])
    run(drive(a_car.terminal_key, china(2026, 10, 1, 23, 30), 20))
    assert rules_of(a_car) == [R.NO_ORDER, R.OFF_HOURS]
    case = MisuseCase.objects.get(vehicle=a_car, rule=R.OFF_HOURS)
    assert "夜间" in case.title and "法定节假日" in case.title
    assert case.status == "open" and case.agency == world["A"]
    assert "2017" in case.source  # the clause it enforces
    track = case.evidence["track"]
    assert len(track) == 41 and track[0][0] == "2026-10-01T23:30:00+08:00"
    assert [len(row) for row in track[:1]] == [4]  # [time, lat, lon, speed]
    assert case.episode_end > case.episode_start


def test_the_same_drive_with_an_approved_order_is_no_case(world):
    a_car = car(world["A"])
    order(a_car, china(2026, 10, 1, 23, 0), china(2026, 10, 2, 1, 0))
    run(drive(a_car.terminal_key, china(2026, 10, 1, 23, 30), 20))
    assert rules_of(a_car) == []


def test_an_adjusted_working_saturday_is_a_workday(world):
    worked, rested = car(world["A"]), car(world["A"])
    run(
        drive(worked.terminal_key, china(2026, 10, 10, 10, 0), 20),  # 调休上班 Saturday
        drive(rested.terminal_key, china(2026, 10, 11, 10, 0), 20),  # an ordinary Sunday
    )
    assert rules_of(worked) == [R.NO_ORDER]
    assert rules_of(rested) == [R.NO_ORDER, R.OFF_HOURS]
    assert "周末" in MisuseCase.objects.get(vehicle=rested, rule=R.OFF_HOURS).title


def test_a_normal_working_day_with_an_order_is_quiet(world):
    a_car = car(world["A"], garage=garage(world["A"]))
    order(a_car, china(2026, 3, 4, 9, 0), china(2026, 3, 4, 11, 0), status="completed")
    run(
        drive(a_car.terminal_key, china(2026, 3, 4, 6, 0), 150, speed=0, interval=60),
        drive(a_car.terminal_key, china(2026, 3, 4, 9, 30), 60, speed=50),
    )
    assert rules_of(a_car) == []


def test_twenty_minutes_of_speeding_is_one_case_and_a_replay_opens_nothing(world):
    a_car = car(world["A"])
    order(a_car, china(2026, 3, 4, 9, 0), china(2026, 3, 4, 12, 0))
    trip = drive(a_car.terminal_key, china(2026, 3, 4, 10, 0), 20, speed=135, interval=10)
    run(trip)
    case = MisuseCase.objects.get(vehicle=a_car)
    assert case.rule == R.SPEEDING and "135" in case.title
    assert case.evidence["points"] == len(trip) and case.evidence["duration_s"] == 1200
    run(trip)  # the same positions again (a replay after a restart)
    assert MisuseCase.objects.filter(vehicle=a_car).count() == 1


def test_speeding_shorter_than_the_minimum_duration_is_no_case(world):
    a_car = car(world["A"])
    order(a_car, china(2026, 3, 4, 9, 0), china(2026, 3, 4, 12, 0))
    fast = drive(a_car.terminal_key, china(2026, 3, 4, 10, 0), 0.5, speed=135, interval=10)
    slow = drive(a_car.terminal_key, china(2026, 3, 4, 10, 1), 10, speed=80, interval=10)
    run(fast + slow)
    assert rules_of(a_car) == []


def test_two_speeding_episodes_apart_are_two_cases(world):
    a_car = car(world["A"])
    order(a_car, china(2026, 3, 4, 9, 0), china(2026, 3, 4, 13, 0))
    first = drive(a_car.terminal_key, china(2026, 3, 4, 10, 0), 5, speed=130, interval=10)
    calm = drive(a_car.terminal_key, china(2026, 3, 4, 10, 6), 30, speed=80, interval=10)
    second = drive(a_car.terminal_key, china(2026, 3, 4, 10, 40), 5, speed=140, interval=10)
    run(first + calm + second)
    assert rules_of(a_car) == [R.SPEEDING, R.SPEEDING]


def test_leaving_the_province_without_an_order(world):
    # A is in 大足 (Chongqing): a car of A driving in Chengdu is outside its jurisdiction.
    away, sent = car(world["A"]), car(world["A"])
    order(sent, china(2026, 3, 4, 8, 0), china(2026, 3, 4, 18, 0))
    run(
        drive(away.terminal_key, china(2026, 3, 4, 10, 0), 15, origin=CHENGDU),
        drive(sent.terminal_key, china(2026, 3, 4, 10, 0), 15, origin=CHENGDU),
    )
    assert R.JURISDICTION in rules_of(away)
    assert rules_of(sent) == []
    # and B's car in Chengdu is at home
    b_car = car(world["B"])
    order(b_car, china(2026, 3, 4, 8, 0), china(2026, 3, 4, 18, 0))
    run(drive(b_car.terminal_key, china(2026, 3, 4, 10, 0), 15, origin=CHENGDU))
    assert rules_of(b_car) == []


def test_a_jurisdiction_fence_replaces_the_province(world):
    a_car = car(world["A"])
    order(a_car, china(2026, 3, 4, 8, 0), china(2026, 3, 4, 18, 0))
    RuleSetting.objects.filter(rule=R.JURISDICTION, agency=None).update(
        params={"exempt_with_order": False, "min_duration_s": 60, "quiet_gap_s": 1800}
    )
    lat, lon = DAZU
    Geofence.objects.create(
        agency=world["A"],
        name="大足城区",
        kind="jurisdiction",
        geometry={
            "type": "Polygon",
            "coordinates": [
                [
                    [lon - 0.05, lat - 0.05],
                    [lon + 0.05, lat - 0.05],
                    [lon + 0.05, lat + 0.05],
                    [lon - 0.05, lat + 0.05],
                    [lon - 0.05, lat - 0.05],
                ]
            ],
        },
    )
    run(drive(a_car.terminal_key, china(2026, 3, 4, 10, 0), 20, speed=60))  # drives out east
    case = MisuseCase.objects.get(vehicle=a_car)
    assert case.rule == R.JURISDICTION
    first = case.evidence["track"][0]
    assert first[2] > lon + 0.05  # the episode starts where it left the fence


def test_entering_a_forbidden_place(world):
    a_car, b_car = car(world["A"]), car(world["B"])
    lat, lon = DAZU
    Geofence.objects.create(
        agency=world["A"],
        name="某度假山庄",
        kind="forbidden",
        center_lat=lat,
        center_lon=lon + 0.02,
        radius_m=300,
    )
    order(a_car, china(2026, 3, 4, 8, 0), china(2026, 3, 4, 18, 0))
    order(b_car, china(2026, 3, 4, 8, 0), china(2026, 3, 4, 18, 0))
    parked = drive(
        a_car.terminal_key, china(2026, 3, 4, 12, 0), 10, speed=0, origin=(lat, lon + 0.02)
    )
    # B's car parks at the same place: the fence is A's, not B's.
    b_parked = drive(
        b_car.terminal_key, china(2026, 3, 4, 12, 0), 10, speed=0, origin=(lat, lon + 0.02)
    )
    run(parked, b_parked)
    case = MisuseCase.objects.get(vehicle=a_car)
    assert case.rule == R.FORBIDDEN and "某度假山庄" in case.title
    assert rules_of(b_car) == []


def test_not_at_the_garage_overnight(world):
    home = garage(world["A"])
    out, inside = car(world["A"], garage=home), car(world["A"], garage=home)
    far = (DAZU[0] + 0.02, DAZU[1])  # about 2.2 km north
    run(
        drive(
            out.terminal_key,
            china(2026, 3, 4, 22, 0),
            120,
            speed=0,
            interval=300,
            origin=far,
            acc=False,
        ),
        drive(inside.terminal_key, china(2026, 3, 4, 22, 0), 120, speed=0, interval=300, acc=False),
    )
    case = MisuseCase.objects.get(vehicle=out)
    assert case.rule == R.GARAGE
    assert case.evidence["track"][0][0] == "2026-03-04T23:30:00+08:00"
    assert 2000 < case.evidence["tags"]["away_m"] < 2500
    assert rules_of(inside) == []


def test_away_from_the_garage_on_a_holiday_afternoon(world):
    home = garage(world["A"])
    out = car(world["A"], garage=home)
    far = (DAZU[0] + 0.02, DAZU[1])
    run(
        drive(
            out.terminal_key,
            china(2026, 10, 2, 14, 0),
            90,
            speed=0,
            interval=300,
            origin=far,
            acc=False,
        )
    )
    case = MisuseCase.objects.get(vehicle=out)
    assert case.rule == R.GARAGE and case.evidence["tags"]["kinds"] == ["holiday"]


def test_terminal_silent_while_moving(world):
    a_car = car(world["A"])
    order(a_car, china(2026, 3, 4, 8, 0), china(2026, 3, 4, 18, 0))
    before = drive(a_car.terminal_key, china(2026, 3, 4, 10, 0), 10, speed=60)
    after = drive(a_car.terminal_key, china(2026, 3, 4, 10, 25), 10, speed=60)
    run(before + after)
    case = MisuseCase.objects.get(vehicle=a_car)
    assert case.rule == R.SILENT
    assert case.evidence["duration_s"] == 15 * 60  # 10:10 → 10:25
    assert case.evidence["track"][0][0] == "2026-03-04T10:10:00+08:00"


def test_silence_noticed_by_the_clock_before_the_terminal_returns(world):
    a_car = car(world["A"])
    order(a_car, china(2026, 3, 4, 8, 0), china(2026, 3, 4, 18, 0))
    before = drive(a_car.terminal_key, china(2026, 3, 4, 10, 0), 10, speed=60)
    eng = Engine()
    eng.handle(before)
    eng.tick(before[-1].time + 400)
    eng.flush()
    assert rules_of(a_car) == [R.SILENT]
    # when it comes back, the same episode goes on: still one case
    eng.handle(drive(a_car.terminal_key, china(2026, 3, 4, 10, 25), 5, speed=60))
    eng.finish()
    eng.flush()
    assert rules_of(a_car) == [R.SILENT]


def test_reporting_every_minute_while_driving(world):
    slow, ok = car(world["A"]), car(world["A"])
    for c in (slow, ok):
        order(c, china(2026, 3, 4, 8, 0), china(2026, 3, 4, 18, 0))
    run(
        drive(slow.terminal_key, china(2026, 3, 4, 10, 0), 30, interval=60),
        drive(ok.terminal_key, china(2026, 3, 4, 10, 0), 30, interval=30),
    )
    assert rules_of(slow) == [R.REPORT_INTERVAL]
    assert rules_of(ok) == []


def test_a_disabled_rule_and_an_agency_override(world):
    a_car, b_car = car(world["A"]), car(world["B"])
    for c in (a_car, b_car):
        order(c, china(2026, 3, 4, 8, 0), china(2026, 3, 4, 18, 0))
    # A's own limit is 100 km/h; B keeps the default 120.
    RuleSetting.objects.create(
        rule=R.SPEEDING, agency=world["A"], params={"limit_kmh": 100}, source="大足区规定"
    )
    run(
        drive(a_car.terminal_key, china(2026, 3, 4, 10, 0), 5, speed=110, interval=10),
        drive(
            b_car.terminal_key, china(2026, 3, 4, 10, 0), 5, speed=110, interval=10, origin=CHENGDU
        ),
    )
    case = MisuseCase.objects.get(vehicle=a_car)
    assert case.rule == R.SPEEDING and case.source == "大足区规定"
    assert rules_of(b_car) == []
    RuleSetting.objects.filter(rule=R.SPEEDING).update(enabled=False)
    c_car = car(world["A1"])  # below A: A's override (now disabled) applies
    order(c_car, china(2026, 3, 5, 8, 0), china(2026, 3, 5, 18, 0))
    run(drive(c_car.terminal_key, china(2026, 3, 5, 10, 0), 5, speed=150, interval=10))
    assert rules_of(c_car) == []


def test_unknown_terminals_and_stale_points_are_counted_not_evaluated(world):
    a_car = car(world["A"])
    eng = Engine()
    trip = drive(a_car.terminal_key, china(2026, 3, 4, 10, 0), 5)
    eng.handle(trip + drive("99999999", china(2026, 3, 4, 10, 0), 5))
    eng.handle(trip[:3])  # duplicates
    assert eng.stats["evaluated"] == len(trip)
    assert eng.stats["stale"] == 3 and eng.stats["unknown"] == 1


def test_the_engine_is_a_pipeline_sink_and_writes_from_its_thread(world, transactional_db):
    import time

    from guanjia.telemetry import pipeline

    a_car = car(world["A"])
    trip = drive(a_car.terminal_key, china(2026, 10, 1, 23, 30), 20)
    eng = Engine(now=lambda: trip[-1].time + 60)  # the clock the silence check reads
    pipeline.register("rules", eng.handle)
    eng.start_writer(every_s=0.05)
    try:
        pipeline.deliver(trip)
        deadline = time.time() + 10
        while time.time() < deadline and not MisuseCase.objects.filter(vehicle=a_car).exists():
            time.sleep(0.05)
    finally:
        eng.stop_writer()
        pipeline.unregister("rules")
    assert set(rules_of(a_car)) == {R.NO_ORDER, R.OFF_HOURS}
