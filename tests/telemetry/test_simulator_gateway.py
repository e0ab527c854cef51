"""The simulator against the real gateway (gateway.py) over TCP: the register's cars
register, authenticate and report; a terminal not in the register is refused; every
position the simulator saw acknowledged is in the archive for `telemetry track`."""

from datetime import datetime, timedelta, timezone

import pytest

from guanjia.telemetry import live
from guanjia.telemetry import simulator as sim
from guanjia.telemetry.management.commands.simulate import register_specs

from .test_gateway import Running, cars, track  # noqa: F401  (cars is a fixture)

CST = timezone(timedelta(hours=8))


@pytest.fixture
def gw(tmp_path, cars, settings):  # noqa: F811
    settings.HOME = tmp_path
    running = Running(tmp_path, idle_timeout_s=30, partial_frame_s=30)
    yield running
    running.stop()
    live.STATE.latest.clear()


def test_simulated_fleet_against_the_gateway(gw, tmp_path):
    specs = register_specs(10, share=0)
    assert {s.edition for s in specs} == {2013, 2019}
    stranger = sim.generated_specs(1, seed=99, misuse_share=0)[0]
    cfg = sim.Config(
        "127.0.0.1",
        gw.port,
        3,
        interval=30,
        duration=1800,
        speedup=300,
        start=datetime(2026, 3, 2, 9, 0, tzinfo=CST).timestamp(),
        ramp_s=0.2,
    )
    report = sim.simulate([*specs, stranger], cfg)
    assert report["registered"] == report["authenticated"] == 2
    assert report["rejected"] == 1
    assert set(report["errors"]) == {next(iter(report["errors"]))}  # only the refusal
    assert "registration refused" in next(iter(report["errors"]))
    assert report["sent"] == report["acknowledged"] >= 2 * 30  # parked: every other tick
    assert report["latency_ms"]["p99"] is not None
    stored = sum(len(track(tmp_path, s.key)) for s in specs)
    assert stored == report["acknowledged"]
    assert gw.counters["register_refused"] == 1
