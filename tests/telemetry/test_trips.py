"""Trips: segmentation by ignition, stops and gaps; distance by track and by odometer;
matching to dispatch orders; stored once per start; the daily command."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from guanjia.telemetry import trips
from guanjia.telemetry.models import Trip
from guanjia.telemetry.trips import TripParams, segment

from .rules_fixtures import DAZU, car, china, drive, order

KEY = "13912345678"


def test_a_stop_longer_than_five_minutes_splits_two_trips():
    first = drive(KEY, china(2026, 3, 4, 9, 0), 20, speed=60)  # 20 km east
    stop = drive(
        KEY, china(2026, 3, 4, 9, 20, 30), 10, speed=0, origin=(first[-1].lat, first[-1].lon)
    )
    second = drive(
        KEY, china(2026, 3, 4, 9, 31), 10, speed=30, origin=(first[-1].lat, first[-1].lon)
    )
    got = segment(first + stop + second)
    assert len(got) == 2
    assert got[0].start == first[0].time and got[0].end == first[-1].time + 30  # stop began
    assert got[0].gps_km == pytest.approx(20.0, rel=0.01)
    assert got[1].start == second[0].time and got[1].gps_km == pytest.approx(5.0, rel=0.02)


def test_a_short_stop_at_a_light_does_not_split():
    first = drive(KEY, china(2026, 3, 4, 9, 0), 10, speed=60)
    light = drive(
        KEY, china(2026, 3, 4, 9, 10, 30), 2, speed=0, origin=(first[-1].lat, first[-1].lon)
    )
    second = drive(
        KEY, china(2026, 3, 4, 9, 13), 10, speed=60, origin=(first[-1].lat, first[-1].lon)
    )
    assert len(segment(first + light + second)) == 1


def test_ignition_off_and_a_gap_end_trips():
    a = drive(KEY, china(2026, 3, 4, 9, 0), 10, speed=60)
    off = a[-1]._replace(time=a[-1].time + 30, speed_kmh=0, status=2)
    b = drive(KEY, china(2026, 3, 4, 9, 15), 10, speed=60)
    c = drive(KEY, china(2026, 3, 4, 9, 45), 10, speed=60)  # 20 minutes without a report
    got = segment([*a, off, *b, *c])
    assert [t.start for t in got] == [a[0].time, b[0].time, c[0].time]
    assert got[0].end == off.time


def test_drift_in_a_car_park_is_no_trip():
    creep = drive(KEY, china(2026, 3, 4, 9, 0), 3, speed=4)  # 200 m in 3 minutes
    assert segment(creep) == []
    assert len(segment(creep, TripParams(min_distance_km=0.1))) == 1


def test_distance_prefers_the_odometer():
    d = drive(KEY, china(2026, 3, 4, 9, 0), 30, speed=40, mileage0=12345.0)
    (trip,) = segment(d)
    assert trip.gps_km == pytest.approx(20.0, rel=0.01)
    assert trip.mileage_km == pytest.approx(20.0, abs=0.11)
    assert trip.distance_km == trip.mileage_km


@pytest.mark.django_db
def test_matching_to_the_order_by_time_and_places(world):
    a_car = car(world["A"])
    d = drive(a_car.terminal_key, china(2026, 3, 4, 9, 0), 30, speed=40)
    (seg,) = segment(d)
    right = order(
        a_car,
        china(2026, 3, 4, 8, 50),
        china(2026, 3, 4, 9, 40),
        origin_lat=DAZU[0],
        origin_lon=DAZU[1],
        destination_lat=d[-1].lat,
        destination_lon=d[-1].lon,
    )
    other_place = order(
        a_car,
        china(2026, 3, 4, 8, 50),
        china(2026, 3, 4, 9, 40),
        origin_lat=30.66,
        origin_lon=104.07,
        destination_lat=30.7,
        destination_lon=104.1,
    )
    other_day = order(a_car, china(2026, 3, 5, 9, 0), china(2026, 3, 5, 10, 0))
    assert trips.score(seg, right) == pytest.approx(1.0)
    assert trips.score(seg, other_place) == pytest.approx(0.6)
    assert trips.score(seg, other_day) == 0
    best, sc = trips.match(seg, [other_day, other_place, right])
    assert best == right and sc == pytest.approx(1.0)
    assert trips.match(seg, [other_day]) == (None, None)


@pytest.mark.django_db
def test_the_daily_command_stores_trips_once_and_raises_the_odometer(world):
    a_car = car(world["A"])
    o = order(a_car, china(2026, 3, 4, 8, 30), china(2026, 3, 4, 12, 0), status="completed")
    morning = drive(a_car.terminal_key, china(2026, 3, 4, 9, 0), 30, speed=40, mileage0=5000.0)
    back = drive(
        a_car.terminal_key,
        china(2026, 3, 4, 11, 0),
        30,
        speed=40,
        mileage0=5020.0,
        origin=(morning[-1].lat, morning[-1].lon),
        heading_deg=270,
    )
    night = drive(a_car.terminal_key, china(2026, 3, 4, 22, 0), 20, speed=50, mileage0=5040.0)
    data = {a_car.terminal_key: morning + back + night}
    trips.set_source(lambda key, s, e: [p for p in data.get(key, []) if s <= p.time < e])
    try:
        for _ in range(2):  # a re-run updates, never duplicates
            call_command("telemetry", "trips", "--date", "2026-03-04", "--json")
    finally:
        trips.set_source(None)
    rows = list(Trip.objects.filter(vehicle=a_car).order_by("started_at"))
    assert len(rows) == 3
    assert [r.order_id for r in rows] == [o.pk, o.pk, None]
    assert rows[0].distance_km == pytest.approx(20.0, abs=0.11)
    a_car.refresh_from_db()
    assert float(a_car.odometer_km) == pytest.approx(5056.7, abs=0.1)


@pytest.mark.django_db
def test_the_daily_command_reads_the_archive(world, tmp_path):
    from django.test import override_settings

    from guanjia.telemetry import wal

    a_car = car(world["A"])
    day = drive(a_car.terminal_key, china(2026, 3, 4, 9, 0), 30, speed=40, mileage0=700.0)
    other_day = drive(a_car.terminal_key, china(2026, 3, 5, 9, 0), 30, speed=40, mileage0=720.0)
    writer = wal.WalWriter(wal.wal_root(tmp_path), "gw")
    writer.write(day + other_day)
    writer.close()
    with override_settings(HOME=tmp_path):
        result = trips.run_day(china(2026, 3, 4, 0, 0).date())
    assert result["positions"] == len(day) and result["trips"] == 1
    (row,) = Trip.objects.filter(vehicle=a_car)
    assert row.points == len(day) and row.distance_km == pytest.approx(20.0, abs=0.11)
    a_car.refresh_from_db()
    assert float(a_car.odometer_km) == pytest.approx(720.0, abs=0.1)
