"""Live state: latest position per vehicle, published for other processes (file or Redis)."""

import shutil
import socket
import subprocess
import time

import pytest

from guanjia.telemetry import live, pipeline
from guanjia.telemetry.live import LiveState

from .test_wal import T0, pos

META = {"1": (101, 7), "2": (102, 8), "3": (103, 7)}


def state():
    return LiveState(lookup=META.get)


def test_sink_keeps_the_latest_gnss_time_per_terminal():
    s = state()
    s.update([pos("1", T0 + 60), pos("2", T0)])
    s.update([pos("1", T0, lat=1.0)])  # a blind-area back-fill arriving late
    assert s.latest["1"].time == T0 + 60
    s.update([pos("1", T0 + 90, lat=2.0)])
    assert [(e.vehicle_id, e.agency_id, e.position.lat) for e in s.entries()] == [
        (101, 7, 2.0),
        (102, 8, 30.657),
    ]


def test_snapshot_from_the_published_file_filters_by_agency_vehicle_and_time(tmp_path):
    s = state()
    s.update([pos("1", T0), pos("2", T0 + 10), pos("3", T0 + 20, mileage_km=None)])
    assert s.publish(live.live_root(tmp_path) / "gw-1.bin") == 3
    # Another gateway published an older position of terminal 1 and a newer one of 2.
    other = state()
    other.update([pos("1", T0 - 100), pos("2", T0 + 500)])
    other.publish(live.live_root(tmp_path) / "gw-2.bin")
    everything = live.snapshot(home=tmp_path)
    assert [(e.vehicle_id, e.position.time) for e in everything] == [
        (101, T0), (102, T0 + 500), (103, T0 + 20),
    ]  # fmt: skip
    assert everything[2].position.mileage_km is None
    assert [e.vehicle_id for e in live.snapshot(agency_ids={7}, home=tmp_path)] == [101, 103]
    assert [e.vehicle_id for e in live.snapshot(vehicle_ids=[103], home=tmp_path)] == [103]
    assert [e.vehicle_id for e in live.snapshot(since=T0 + 15, home=tmp_path)] == [102, 103]


def test_pipeline_sink_failure_does_not_stop_the_others():
    s = state()
    pipeline.register("broken", lambda batch: 1 / 0)
    pipeline.register("test-live", s)
    try:
        pipeline.deliver([pos("1", T0)])
    finally:
        pipeline.unregister("broken")
        pipeline.unregister("test-live")
    assert s.latest["1"].time == T0 and pipeline.failures["broken"] >= 1


@pytest.fixture
def redis_url(tmp_path):
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server not installed")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    import redis

    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield url
    client.close()
    proc.terminate()
    proc.wait(10)


def test_redis_hash_when_scaled_out(redis_url, monkeypatch, tmp_path):
    import redis

    s = state()
    s.redis = redis.Redis.from_url(redis_url)
    s.update([pos("1", T0), pos("2", T0)])
    s.update([pos("1", T0 + 30, lat=31.0), pos("2", T0 - 30)])
    monkeypatch.setenv("GUANJIA_REDIS_URL", redis_url)
    got = live.snapshot(home=tmp_path)  # no files there: read from Redis
    assert [(e.vehicle_id, e.position.time, e.position.lat) for e in got] == [
        (101, T0 + 30, 31.0), (102, T0, 30.657),
    ]  # fmt: skip
    s.redis.close()


def test_visible_applies_the_data_scope(world, users, settings, tmp_path):
    from guanjia.vehicles import services as vehicle_services

    from ..vehicles.conftest import vehicle_fields

    a = vehicle_services.create_vehicle(None, **vehicle_fields(world["A"], terminal_number="11"))
    b = vehicle_services.create_vehicle(None, **vehicle_fields(world["B"], terminal_number="22"))
    s = LiveState(lookup={"11": (a.pk, a.agency_id), "22": (b.pk, b.agency_id)}.get)
    s.update([pos("11", T0), pos("22", T0)])
    settings.HOME = tmp_path
    s.publish(live.live_root(tmp_path) / "gw.bin")
    assert [e.vehicle_id for e in live.visible(users["agency"])] == [a.pk]
    assert {e.vehicle_id for e in live.visible(users["all"])} == {a.pk, b.pk}
    assert live.visible(users["norole"]) == []
