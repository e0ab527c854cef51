"""The simulator against a tiny in-test JT/T 808 server built on the codec: the terminals
register, authenticate, report, back-fill; the report counts agree with what the server
received; every planted episode is in the ground truth and is borne out by the positions
the server actually received."""

import asyncio
import itertools
import json
import time
from datetime import datetime, timedelta, timezone

import pytest
from django.core.management import call_command

from guanjia.telemetry import jt808 as j
from guanjia.telemetry import simulator as sim
from guanjia.telemetry.geo import province_geometry

CST = timezone(timedelta(hours=8))
MONDAY_7AM = datetime(2026, 3, 2, 7, 0, tzinfo=CST).timestamp()


def weekdays(day):
    return day.weekday() < 5


class Server:
    """Answers 0x0100 with 0x8100 (refusing `refuse`), checks the 0x0102 code, acks
    everything else with 0x8001, and records what it received."""

    def __init__(self, refuse=()):
        self.refuse = set(refuse)
        self.positions: list = []
        self.messages: list[j.Message] = []
        self.bad_auth = 0

    async def handle(self, reader, writer):
        sp = j.FrameSplitter()
        serial = 0
        try:
            while data := await reader.read(65536):
                for f in sp.feed(data):
                    m = j.decode_frame(f)
                    self.messages.append(m)
                    serial += 1
                    if m.msg_id == j.REGISTER:
                        refused = m.terminal_key in self.refuse
                        body = j.RegisterResponse(
                            m.serial, 4 if refused else 0, None if refused else "c" + m.terminal_key
                        )
                        reply = j.encode_message(
                            j.REGISTER_RESPONSE, m.terminal, serial, body, version=m.version
                        )
                    else:
                        result = 0
                        if m.msg_id == j.AUTHENTICATE and m.body.auth_code != "c" + m.terminal_key:
                            result = 1
                            self.bad_auth += 1
                        self.positions.extend(j.positions_of(m, time.time()))
                        reply = j.encode_message(
                            j.PLATFORM_RESPONSE,
                            m.terminal,
                            serial,
                            j.GeneralResponse(m.serial, m.msg_id, result),
                            version=m.version,
                        )
                    writer.write(reply)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def run(self, specs, cfg):
        srv = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        cfg.port = srv.sockets[0].getsockname()[1]
        async with srv:
            return await sim.simulate_async(specs, cfg, workday=weekdays)


@pytest.fixture(scope="module")
def fleet():
    """10 terminals (5 with a planted episode, one of each kind), Monday 07:00 to Tuesday
    10:00 at 30 s, compressed 40,000×."""
    specs = sim.generated_specs(10, seed=7, misuse_share=0.5)
    cfg = sim.Config(
        "127.0.0.1",
        0,
        len(specs),
        interval=30,
        duration=27 * 3600,
        speedup=40_000,
        seed=7,
        start=MONDAY_7AM,
        ramp_s=0.1,
    )
    server = Server()
    t0 = time.perf_counter()
    report = asyncio.run(server.run(specs, cfg))
    return specs, server, report, time.perf_counter() - t0


def test_protocol_and_counts(fleet):
    _specs, server, report, wall = fleet
    assert report["terminals"] == report["registered"] == report["authenticated"] == 10
    assert report["editions"] == {"2013": 7, "2019": 3}
    assert {m.version for m in server.messages} == {None, 1}
    assert server.bad_auth == 0  # every 0x0102 carried the code from 0x8100
    assert report["errors"] == {} and report["rejected"] == 0
    assert report["sent"] == len(server.positions) == report["acknowledged"]
    assert report["sent"] > 10 * 27 * 60  # ≥ one report a minute per terminal
    lat = report["latency_ms"]
    assert 0 < lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"]
    # blind-area batches were sent after signal gaps, as 0x0704 type 1
    batches = [m for m in server.messages if m.msg_id == j.LOCATION_BATCH]
    assert report["batches"] == len(batches) > 0
    assert {m.body.kind for m in batches} == {j.BATCH_BLIND}
    assert report["heartbeats"] == sum(m.msg_id == j.HEARTBEAT for m in server.messages) > 0
    # GNSS time compressed: 27 h of reports in a few seconds, all inside the window
    assert wall < 60
    assert all(MONDAY_7AM <= p.time < MONDAY_7AM + 27 * 3600 for p in server.positions)


def test_routes_are_plausible(fleet):
    specs, server, _report, _ = fleet
    sichuan, chongqing = province_geometry("510000"), province_geometry("500000")
    import shapely

    by_term: dict[str, list] = {}
    for p in server.positions:
        by_term.setdefault(p.terminal, []).append(p)
    jur = {s.key for s in specs if s.misuse == sim.JURISDICTION}
    for key, ps in by_term.items():
        ps.sort(key=lambda p: p.time)
        inside = shapely.intersects_xy(
            shapely.union(sichuan, chongqing), [p.lon for p in ps], [p.lat for p in ps]
        )
        if key not in jur:
            assert inside.all(), key
        for a, b in itertools.pairwise(ps):
            dt = b.time - a.time
            km = sim._distance_m(a.lat, a.lon, b.lat, b.lon) / 1000
            assert km <= 150 * dt / 3600 + 0.3, (key, a, b)  # no teleporting
            assert b.mileage_km >= a.mileage_km  # odometer only grows
        moving = [p for p in ps if p.speed_kmh >= 5]
        assert moving and all(p.acc_on for p in moving)  # ACC on while moving
        assert max(p.mileage_km for p in ps) > min(p.mileage_km for p in ps)


def test_every_planted_episode_is_in_the_truth_and_in_the_data(fleet):
    specs, server, report, _ = fleet
    truth = report["ground_truth"]
    planted = {(e["terminal"], e["rule"]): e for e in truth if e["planted"]}
    wanted = {(s.key, s.misuse) for s in specs if s.misuse}
    assert set(planted) == wanted and len(wanted) == 5
    assert set(report["planted"]) == set(sim.MISUSE_KINDS)
    # without planting, cars only drive on workdays in the daytime, within their province
    # and the limit; the only other truth is tm_no_order (there are no dispatch orders).
    assert {e["rule"] for e in truth if not e["planted"]} <= {sim.NO_ORDER}
    pos: dict[str, list] = {}
    for p in server.positions:
        pos.setdefault(p.terminal, []).append(p)

    def window(e):
        s = datetime.fromisoformat(e["start"]).timestamp()
        t = datetime.fromisoformat(e["end"]).timestamp()
        return s, t, [p for p in pos[e["terminal"]] if s <= p.time <= t]

    for (key, rule), e in planted.items():
        s, t, inside = window(e)
        if rule == sim.SPEEDING:
            assert sum(p.speed_kmh > 120 for p in inside) >= 3
            assert all(p.alarm & j.ALARM_OVERSPEED for p in inside if p.speed_kmh > 120)
        elif rule == sim.OFF_HOURS:
            hours = {datetime.fromtimestamp(p.time, CST).hour for p in inside if p.speed_kmh > 5}
            assert hours and hours <= {22, 23, 0, 1, 2, 3, 4, 5}
        elif rule == sim.JURISDICTION:
            prov = next(sp.province for sp in specs if sp.key == key)
            g = province_geometry(prov)
            assert t - s >= 300
            import shapely

            out = ~shapely.intersects_xy(g, [p.lon for p in inside], [p.lat for p in inside])
            assert out.sum() >= 10
        elif rule == sim.SILENT:
            # moving at the last report before the gap, nothing in between, > 300 s
            assert t - s > 300
            assert [p.time for p in inside] == [s, t]
            assert inside[0].speed_kmh >= 5
        elif rule == sim.GARAGE:
            spec = next(sp for sp in specs if sp.key == key)
            check = datetime(2026, 3, 2, 23, 30, tzinfo=CST).timestamp()
            assert s < check < t
            at_check = max((p for p in pos[key] if p.time <= check), key=lambda p: p.time)
            assert sim._distance_m(at_check.lat, at_check.lon, *spec.garage[:2]) > 2000


def test_refused_terminal_stops():
    specs = sim.generated_specs(3, seed=1, misuse_share=0)
    server = Server(refuse={specs[1].key})
    cfg = sim.Config(
        "127.0.0.1", 0, 3, interval=30, duration=1800, speedup=3000, start=MONDAY_7AM, ramp_s=0
    )
    report = asyncio.run(server.run(specs, cfg))
    assert report["rejected"] == 1 and report["authenticated"] == 2
    assert not [p for p in server.positions if p.terminal == specs[1].key]
    assert {m.msg_id for m in server.messages if m.terminal_key == specs[1].key} == {j.REGISTER}
    assert report["sent"] == report["acknowledged"] > 0


def test_plan_depends_only_on_seed():
    import random

    spec = sim.generated_specs(1, seed=3)[0]
    a = sim.plan_trips(spec, MONDAY_7AM, MONDAY_7AM + 86400, random.Random(5), weekdays)
    b = sim.plan_trips(spec, MONDAY_7AM, MONDAY_7AM + 86400, random.Random(5), weekdays)
    assert a == b and a


def test_command_json_with_unreachable_gateway(tmp_path, capsys):
    truth = tmp_path / "truth.json"
    call_command(
        "simulate",
        "--terminals=2",
        "--interval=30",
        "--duration=120",
        "--speedup=600",
        "--gateway=127.0.0.1:1",
        "--timeout=0.5",
        "--start=2026-03-02T09:00:00+08:00",
        f"--truth={truth}",
        "--json",
    )
    out = json.loads(capsys.readouterr().out)
    assert out["terminals"] == 2 and out["connected"] == 0 and out["sent"] == 0
    assert out["error_count"] > 0 and any(k.startswith("connect") for k in out["errors"])
    assert out["gnss_start"] == "2026-03-02T09:00:00+08:00"
    assert json.loads(truth.read_text()) == out["ground_truth"]
