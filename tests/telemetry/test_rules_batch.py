"""The columnar batch evaluator agrees with the streaming engine, case for case (same dedup
keys, episode ends and evidence), and its trips agree with trips.segment."""

from __future__ import annotations

import random

import pytest

from guanjia.telemetry import batch, trips
from guanjia.telemetry.models import Geofence, RuleSetting
from guanjia.telemetry.rules import Directory, Engine
from guanjia.telemetry.trips import TripParams

from .rules_fixtures import CHENGDU, DAZU, car, china, drive, garage, order

pytestmark = pytest.mark.django_db


def streaming_items(positions) -> dict:
    eng = Engine()
    eng.evaluate(sorted(positions, key=lambda p: (p.time, p.terminal)))
    eng.finish()
    closes = [i for i in eng.pending if i["what"] == "close"]
    return {i["dedup_key"]: (i["end"], i["title"], i["evidence"]) for i in closes}


def batch_items(positions) -> dict:
    d = Directory()
    d.refresh(min(p.time for p in positions), max(p.time for p in positions), force=True)
    items = batch.evaluate(batch.Columns.from_positions(positions), d)
    return {i["dedup_key"]: (i["end"], i["title"], i["evidence"]) for i in items}


def test_batch_and_streaming_find_the_same_cases(world):
    a, b = world["A"], world["B"]
    home = garage(a)
    lat, lon = DAZU
    Geofence.objects.create(
        agency=a, name="某山庄", kind="forbidden", center_lat=lat + 0.05, center_lon=lon,
        radius_m=400,
    )  # fmt: skip
    cars = [car(a, garage=home) for _ in range(4)] + [car(b) for _ in range(2)]
    RuleSetting.objects.create(  # A's own numbers: profiles differ between the agencies
        rule="tm_speeding", agency=a, params={"limit_kmh": 110, "min_duration_s": 30}, source="A"
    )
    order(cars[1], china(2026, 10, 1, 8, 0), china(2026, 10, 1, 12, 0))
    order(cars[2], china(2026, 10, 2, 9, 0), china(2026, 10, 2, 10, 0))
    k = [c.terminal_key for c in cars]
    positions = [
        # national day night, no order; then parked away from the garage past 23:30
        *drive(k[0], china(2026, 10, 1, 22, 40), 40),
        *drive(
            k[0],
            china(2026, 10, 1, 23, 21),
            60,
            speed=0,
            interval=300,
            acc=False,
            origin=(lat + 0.03, lon + 0.1),
        ),
        # ordered morning with speeding, a silence and slow reports
        *drive(k[1], china(2026, 10, 1, 9, 0), 20, speed=130, interval=10),
        *drive(k[1], china(2026, 10, 1, 9, 30), 10, speed=60),
        *drive(k[1], china(2026, 10, 1, 9, 50), 30, speed=60, interval=60),
        # into the forbidden place and out of the province
        *drive(k[2], china(2026, 10, 2, 9, 0), 20, speed=20, heading_deg=0),
        *drive(k[2], china(2026, 10, 2, 11, 0), 20, speed=50, origin=CHENGDU),
        # a quiet car parked at home
        *drive(k[3], china(2026, 10, 1, 20, 0), 300, speed=0, interval=600, acc=False),
        # B: weekend drive in Chengdu, and one reporting twice a minute but duplicated
        *drive(k[4], china(2026, 10, 11, 15, 0), 30, origin=CHENGDU),
        *drive(k[5], china(2026, 10, 12, 10, 0), 10, origin=CHENGDU),
        *drive(k[5], china(2026, 10, 12, 10, 0), 10, origin=CHENGDU),
    ]
    stream = streaming_items(positions)
    got = batch_items(positions)
    rules = sorted(key.split(":")[2] for key in stream)
    assert {
        "tm_off_hours",
        "tm_no_order",
        "tm_garage",
        "tm_speeding",
        "tm_silent",
        "tm_report_interval",
        "tm_forbidden_area",
        "tm_jurisdiction",
    } <= set(rules)
    assert sorted(got) == sorted(stream), _debug_diff(stream, got)
    for key in stream:
        assert got[key] == stream[key], key


def _random_drive(rng: random.Random, key: str, start):
    """A day of a car: drives, stops of random length, ignition off, gaps, odometer."""
    out, t, lat, lon, km = [], int(start.timestamp()), 30.0, 104.0, 1000.0
    for _ in range(rng.randint(3, 12)):
        kind = rng.random()
        n = rng.randint(2, 40)
        step = rng.choice([10, 30, 30, 60])
        for _ in range(n):
            t += step
            if kind < 0.5:
                speed = rng.uniform(5, 80)
                lat += speed * step / 3600 / 111.0
                km += speed * step / 3600
                status = 3
            elif kind < 0.8:
                speed, status = rng.choice([0.0, 1.0, 2.5]), 3
            else:
                speed, status = 0.0, 2
            out.append(
                trips.Position(
                    key,
                    t,
                    lat,
                    lon,
                    speed,
                    0,
                    0,
                    0,
                    status,
                    round(km, 1) if rng.random() > 0.1 else None,
                )
            )
        if rng.random() < 0.2:
            t += rng.randint(300, 1800)  # a gap
    return out


def test_batch_trips_equal_streaming_segmentation():
    rng = random.Random(20261001)
    params = TripParams()
    compared = 0
    for trial in range(60):
        positions = []
        for c in range(3):
            positions += _random_drive(rng, f"1390000{trial:03d}{c}", china(2026, 3, 4, 6, 0))
        cols = batch.Columns.from_positions(positions)
        got = batch.segment(cols, params)
        want = []
        for key in sorted({p.terminal for p in positions}):
            mine = [p for p in positions if p.terminal == key]
            want += [
                (key, s.start, s.end, s.points, round(s.distance_km, 6), s.max_speed_kmh)
                for s in trips.segment(mine, params)
            ]
        mine = [
            (
                r["terminal"],
                r["start"],
                r["end"],
                r["points"],
                round(r["distance_km"], 6),
                r["max_speed_kmh"],
            )
            for r in got
        ]
        assert mine == want, trial
        compared += len(want)
    assert compared > 200  # the random days do make trips


def _debug_diff(stream, got):  # pragma: no cover - a helper for reading failures
    return sorted(set(stream) ^ set(got))


def test_the_day_command_reads_the_archive_and_opens_nothing_the_engine_opened(world, tmp_path):
    import json
    from io import StringIO

    from django.core.management import call_command
    from django.test import override_settings

    from guanjia.telemetry import wal
    from guanjia.vehicles.models import MisuseCase

    seen_live, backfilled = car(world["A"]), car(world["A"])
    live_day = drive(seen_live.terminal_key, china(2026, 10, 1, 23, 30), 20)
    late = drive(backfilled.terminal_key, china(2026, 10, 1, 21, 0), 15, speed=140, interval=10)
    eng = Engine()  # live: the engine saw the first car's night drive
    eng.evaluate(live_day)
    eng.finish()
    eng.flush()
    assert MisuseCase.objects.count() == 2  # no order + night/holiday
    writer = wal.WalWriter(wal.wal_root(tmp_path), "gw")
    writer.write(live_day + late)  # the second car's blind-area batch arrived days later
    writer.close()
    with override_settings(HOME=tmp_path):
        out = StringIO()
        call_command("telemetry", "rules", "--date", "2026-10-01", "--json", stdout=out)
        first = json.loads(out.getvalue())
        out = StringIO()
        call_command("telemetry", "rules", "--date", "2026-10-01", "--json", stdout=out)
        again = json.loads(out.getvalue())
    assert first["positions"] == len(live_day) + len(late)
    assert first["by_rule"] == {"tm_no_order": 2, "tm_off_hours": 2, "tm_speeding": 1}
    assert first["opened"] == 3 and again["opened"] == 0
    assert sorted(MisuseCase.objects.filter(vehicle=backfilled).values_list("rule", flat=True)) == [
        "tm_no_order",
        "tm_off_hours",
        "tm_speeding",
    ]


def test_batch_episode_tracks_keep_the_points_the_streaming_episode_keeps():
    import numpy as np

    from guanjia.telemetry.rules import MAX_TRACK, Episode

    rng = np.random.default_rng(5)
    for n in (1, MAX_TRACK, MAX_TRACK + 1, 3 * MAX_TRACK + 7, 2881):
        t = 1_790_000_000 + 30 * np.arange(n, dtype=np.int64)
        lat, lon, speed = rng.uniform(size=(3, n)) * 100
        speed[n // 2] = np.nan
        streaming = Episode("tm_speeding", float(t[0]), 60.0)
        for k in range(n):
            streaming.add(int(t[k]), float(lat[k]), float(lon[k]), float(speed[k]))
        columnar = Episode("tm_speeding", float(t[0]), 60.0)
        batch._add_track(columnar, np.arange(n), t, lat, lon, speed)
        assert repr(columnar.track) == repr(streaming.track)  # NaN speeds compare by repr
        assert columnar.max_speed == streaming.max_speed
        assert len(columnar.track) <= MAX_TRACK
