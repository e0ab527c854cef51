"""The gateway end to end over real TCP: a gateway on a free port in a thread of the test
process, terminals as plain sockets speaking frames built by the codec, and `guanjia
telemetry track` in a subprocess as the other process that must see acknowledged positions.
"""

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from guanjia.telemetry import gateway, live, wal
from guanjia.telemetry.jt808 import (
    AUTHENTICATE,
    HEARTBEAT,
    LOCATION,
    LOCATION_BATCH,
    PLATFORM_RESPONSE,
    REGISTER,
    REGISTER_RESPONSE,
    STATUS_ACC,
    STATUS_FIXED,
    Authentication,
    FrameSplitter,
    Location,
    LocationBatch,
    Register,
    decode_frame,
    encode_message,
    split_message,
)
from guanjia.telemetry.limits import Limits
from guanjia.telemetry.models import Terminal
from guanjia.vehicles import services as vehicle_services

from ..vehicles.conftest import vehicle_fields

T0 = 1772410500  # 2026-03-02T08:15:00+08:00
SC = "013800138000"  # 2013 terminal of 成都's car (12 BCD digits)
CQ = "00000000013900139000"  # 2019 terminal of 大足's car (20 BCD digits)
ROOT = Path(__file__).resolve().parents[2]


class Terminal808:
    """A terminal: a blocking socket, serial numbers, and a reader of the platform's replies."""

    def __init__(self, port, number, version=None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.number, self.version = number, version
        self.serial = 0
        self.splitter = FrameSplitter()
        self.pending = []

    def send(self, msg_id, body=b"", raw=None):
        self.serial += 1
        wire = raw or encode_message(msg_id, self.number, self.serial, body, version=self.version)
        self.sock.sendall(wire)
        return self.serial

    def reply(self, timeout=5.0):
        self.sock.settimeout(timeout)
        while not self.pending:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed by the gateway")
            self.pending += [decode_frame(f) for f in self.splitter.feed(data)]
        return self.pending.pop(0)

    def general(self, timeout=5.0):
        msg = self.reply(timeout)
        assert msg.msg_id == PLATFORM_RESPONSE, msg
        return msg.body

    def register(self):
        self.send(REGISTER, Register(51, 100, "GJTST", "M1", "DEV0001", 1, "川A12345"))
        msg = self.reply()
        assert msg.msg_id == REGISTER_RESPONSE
        return msg.body

    def login(self):
        code = self.register().auth_code
        serial = self.send(AUTHENTICATE, Authentication(code, "860000000000001", "1.0"))
        ack = self.general()
        assert (ack.ack_serial, ack.ack_id, ack.result) == (serial, AUTHENTICATE, 0)
        return code

    def closed(self, timeout=3.0) -> bool:
        self.sock.settimeout(timeout)
        try:
            while True:
                if not self.sock.recv(65536):
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except TimeoutError:
            return False

    def close(self):
        self.sock.close()


def location(t, lat=30.657, lon=104.066, speed=42.5, mileage=1234.5, **kw):
    return Location(
        alarm=kw.get("alarm", 0),
        status=kw.get("status", STATUS_ACC | STATUS_FIXED),
        lat_e6=round(lat * 1e6),
        lon_e6=round(lon * 1e6),
        altitude=kw.get("altitude", 500),
        speed=round(speed * 10),
        direction=kw.get("direction", 90),
        time=t,
        mileage=None if mileage is None else round(mileage * 10),
    )


def track(home, terminal):
    """`guanjia telemetry track` in another process, as an operator would run it."""
    env = os.environ | {"GUANJIA_HOME": str(home)}
    out = subprocess.run(
        [sys.executable, "-m", "guanjia.cli", "telemetry", "track", "--terminal", terminal,
         "--json"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)["positions"]


class Running:
    """A gateway serving in a background thread (its own event loop, uvloop)."""

    def __init__(self, home, **limits):
        self.gw = gateway.Gateway(
            host="127.0.0.1", port=0, home=home, limits=Limits(**limits), publish_live=False
        )
        self.loop = gateway.new_event_loop()
        started = threading.Event()
        self.error = None

        def run():
            asyncio.set_event_loop(self.loop)
            try:
                self.loop.run_until_complete(self.gw.start())
            except BaseException as e:  # surfaced by the fixture
                self.error = e
                started.set()
                return
            started.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        started.wait(30)
        if self.error:
            raise self.error
        self.port = self.gw.port

    def stop(self):
        asyncio.run_coroutine_threadsafe(self.gw.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    @property
    def counters(self):
        return self.gw.counters


@pytest.fixture
def cars(transactional_db, world):
    return {
        "SC": vehicle_services.create_vehicle(
            None, **vehicle_fields(world["B"], terminal_number=SC)
        ),
        "CQ": vehicle_services.create_vehicle(
            None, **vehicle_fields(world["A1"], terminal_number=CQ)
        ),
    }


@pytest.fixture
def gw(tmp_path, cars, settings):
    settings.HOME = tmp_path
    running = Running(tmp_path, idle_timeout_s=30, partial_frame_s=30)
    yield running
    running.stop()
    live.STATE.latest.clear()


def test_both_editions_register_authenticate_heartbeat_and_report(gw, tmp_path):
    for number, version in ((SC, None), (CQ, 1)):
        t = Terminal808(gw.port, number, version)
        code = t.login()
        key = number.lstrip("0")
        assert Terminal.objects.get(key=key).auth_code == code
        assert Terminal.objects.get(key=key).edition == ("2013" if version is None else "2019")
        serial = t.send(HEARTBEAT)
        assert t.general() == (serial, HEARTBEAT, 0)
        serial = t.send(LOCATION, location(T0, speed=61.3))
        assert t.general() == (serial, LOCATION, 0)
        # Acknowledged means durable and visible to another process at once.
        rows = track(tmp_path, number)
        assert [(r["time"], r["speed_kmh"], r["mileage_km"]) for r in rows] == [
            ("2026-03-02T08:15:00+08:00", 61.3, 1234.5)
        ]
        t.close()
    # A reconnect authenticates with the code it was given, without registering again.
    t = Terminal808(gw.port, SC)
    t.send(AUTHENTICATE, Authentication(Terminal.objects.get(key=SC.lstrip("0")).auth_code))
    assert t.general().result == 0
    t.close()
    assert gw.counters["auth_ok"] == 3 and gw.counters["registered"] == 2


def test_unknown_terminal_is_refused_and_positions_before_auth_are_not_stored(gw, tmp_path):
    stranger = Terminal808(gw.port, "013999999999")
    assert stranger.register().result == 4  # 终端数据库中无该终端 (JT/T 808-2013 表 8)
    serial = stranger.send(LOCATION, location(T0))
    assert stranger.general() == (serial, LOCATION, 1)
    stranger.send(AUTHENTICATE, Authentication("guess"))
    assert stranger.general().result == 1
    assert stranger.closed()  # third refusal: the connection is closed
    known = Terminal808(gw.port, SC)
    known.register()
    known.send(AUTHENTICATE, Authentication("wrong code"))
    assert known.general().result == 1
    serial = known.send(LOCATION, location(T0))
    assert known.general() == (serial, LOCATION, 1)
    assert track(tmp_path, SC) == [] and track(tmp_path, "13999999999") == []
    assert not Terminal.objects.filter(key="13999999999").exists()


def test_bad_check_code_is_dropped_and_the_connection_keeps_serving(gw, tmp_path):
    t = Terminal808(gw.port, SC)
    t.login()
    wire = bytearray(encode_message(LOCATION, SC, 900, location(T0)))
    wire[-2] ^= 0x55  # the check code (no escaping in this frame's last bytes)
    t.send(None, raw=bytes(wire))
    serial = t.send(LOCATION, location(T0 + 30))
    assert t.general() == (serial, LOCATION, 0)  # the next ack is for the good frame
    assert gw.counters["bad_check"] == 1
    assert [r["time"] for r in track(tmp_path, SC)] == ["2026-03-02T08:15:30+08:00"]


def test_escaped_bytes_in_a_position(gw, tmp_path):
    t = Terminal808(gw.port, SC)
    t.login()
    # Latitude 0x01D3_7E7D µ° and altitude 0x7E7D: both delimiter and escape bytes inside.
    body = location(T0, altitude=0x7E7D)._replace(lat_e6=0x01D37E7D, alarm=0x7D7E)
    wire = encode_message(LOCATION, SC, 77, body)
    assert b"\x7d\x02" in wire and b"\x7d\x01" in wire
    t.send(None, raw=wire)
    assert t.general() == (77, LOCATION, 0)
    (row,) = track(tmp_path, SC)
    assert (row["lat"], row["altitude_m"], row["alarm"]) == (0x01D37E7D / 1e6, 0x7E7D, 0x7D7E)


def test_batch_and_blind_area_backfill_out_of_order_and_duplicates_stored_once(gw, tmp_path):
    t = Terminal808(gw.port, CQ, 1)
    t.login()
    serial = t.send(LOCATION, location(T0 + 300))
    assert t.general().result == 0
    backfill = LocationBatch(1, tuple(location(T0 + 30 * i) for i in range(5)))
    serial = t.send(LOCATION_BATCH, backfill)
    assert t.general() == (serial, LOCATION_BATCH, 0)
    serial = t.send(LOCATION_BATCH, backfill)  # its ack was lost: sent again
    assert t.general() == (serial, LOCATION_BATCH, 0)
    times = [r["time"][11:19] for r in track(tmp_path, CQ)]
    assert times == ["08:15:00", "08:15:30", "08:16:00", "08:16:30", "08:17:00", "08:20:00"]
    assert gw.counters["duplicates"] == 5
    # The live state keeps the latest GNSS time, not the last received.
    assert live.STATE.latest[CQ.lstrip("0")].time == T0 + 300


def test_subpackaged_batch_is_reassembled_and_every_piece_acknowledged(gw, tmp_path):
    t = Terminal808(gw.port, SC)
    t.login()
    batch = LocationBatch(1, tuple(location(T0 + 30 * i) for i in range(20)))
    frames = split_message(LOCATION_BATCH, SC, 500, batch, max_body=200)
    assert len(frames) > 2
    for f in frames:
        t.send(None, raw=f)
    acks = {t.general().ack_serial for _ in frames}
    assert acks == set(range(500, 500 + len(frames)))
    assert len(track(tmp_path, SC)) == 20


def test_oversize_frame_closes_that_connection_only(gw, tmp_path):
    good, bad = Terminal808(gw.port, SC), Terminal808(gw.port, CQ, 1)
    good.login()
    bad.login()
    bad.sock.sendall(b"\x7e" + b"\x01" * (Limits().max_frame + 10))
    assert bad.closed()
    serial = good.send(LOCATION, location(T0))
    assert good.general() == (serial, LOCATION, 0)
    assert gw.counters["oversize"] == 1


def test_slowloris_does_not_delay_other_terminals(gw, tmp_path):
    slow = socket.create_connection(("127.0.0.1", gw.port))
    frame = encode_message(LOCATION, CQ, 1, location(T0), version=1)
    stop = threading.Event()

    def drip():
        for byte in frame[:-1]:  # never finishes the frame
            if stop.wait(1.0):
                return
            slow.sendall(bytes([byte]))

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    t = Terminal808(gw.port, SC)
    t.login()
    worst = 0.0
    for i in range(20):
        start = time.perf_counter()
        serial = t.send(LOCATION, location(T0 + i))
        assert t.general() == (serial, LOCATION, 0)
        worst = max(worst, time.perf_counter() - start)
        time.sleep(0.1)
    stop.set()
    slow.close()
    assert worst < 0.5, f"an ack took {worst:.3f} s next to a slowloris client"


def test_slow_partial_frame_is_closed_after_the_limit(tmp_path, cars, settings):
    settings.HOME = tmp_path
    running = Running(tmp_path, partial_frame_s=0.6)
    try:
        slow = socket.create_connection(("127.0.0.1", running.port), timeout=5)
        slow.sendall(b"\x7e\x02\x00")
        time.sleep(2.0)
        assert slow.recv(10) == b""
        assert running.counters["slow_closed"] == 1
    finally:
        running.stop()


def test_connections_beyond_the_limit_are_refused(tmp_path, cars, settings):
    settings.HOME = tmp_path
    running = Running(tmp_path, max_connections=2)
    try:
        first = [Terminal808(running.port, SC), Terminal808(running.port, CQ, 1)]
        third = socket.create_connection(("127.0.0.1", running.port), timeout=5)
        assert third.recv(10) == b""
        first[0].login()  # the first two are served
        assert running.counters["refused"] == 1
    finally:
        running.stop()


def test_status_file_for_healthz(gw, tmp_path, client):
    t = Terminal808(gw.port, SC)
    t.login()
    gw.gw.write_status()
    status = json.loads(gateway.status_path(tmp_path, gw.port).read_text())
    assert status["state"] == "running" and status["connections"] == 1
    t.close()


def test_acknowledged_positions_survive_a_restart(tmp_path, cars, settings):
    settings.HOME = tmp_path
    running = Running(tmp_path)
    t = Terminal808(running.port, SC)
    t.login()
    for i in range(10):
        t.send(LOCATION, location(T0 + i))
        assert t.general().result == 0
    seg = running.gw.wal.current
    # A crash: the segment keeps a half-written block and stays "open".
    with open(seg, "ab") as f:
        f.write(wal.block(wal.pack([]), 0)[:7])
    running.stop()
    assert len(track(tmp_path, SC)) == 10
