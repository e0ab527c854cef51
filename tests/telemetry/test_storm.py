"""A reconnect storm: 10,000 terminals connect, register, authenticate, report, disconnect,
reconnect, authenticate with their code and report again — all at once, from another process
— while a set of steady terminals keeps reporting to the same gateway. The steady terminals
keep getting their acknowledgements within a bound, and every storm terminal gets through.

The gateway runs in a thread of the test process with an in-memory register (the storm is
about the gateway's loop, connection handling and group commit, not the database); the storm
is this file run as a script (`python test_storm.py PORT N`) on uvloop.
"""

import asyncio
import json
import resource
import subprocess
import sys
import threading
import time

import pytest

from guanjia.telemetry import gateway, live
from guanjia.telemetry.jt808 import LOCATION
from guanjia.telemetry.limits import Limits
from guanjia.telemetry.registry import REG_OK, Registry

STORM = 10_000
STEADY = 20
T0 = 1772410500


class MemoryRegistry(Registry):
    """Every terminal is in the register; codes issued in memory."""

    def refresh(self):
        return 0

    def known(self, key):
        return True

    def vehicle_of(self, key):
        return (int(key) % 1_000_000, 1)

    def register(self, key, **kw):
        code = self.auth.setdefault(key, f"c{key}")
        self.vehicles[key] = (int(key) % 1_000_000, 1)
        return REG_OK, code

    def authenticate(self, key, code):
        return self.auth.get(key) == code

    def unregister(self, key):
        self.auth.pop(key, None)

    def touch(self, keys):
        pass


class Served:
    def __init__(self, home, **limits):
        self.gw = gateway.Gateway(
            host="127.0.0.1",
            port=0,
            home=home,
            limits=Limits(**limits),
            registry=MemoryRegistry(),
            publish_live=False,
        )
        self.loop = gateway.new_event_loop()
        started = threading.Event()

        def run():
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(self.gw.start())
            started.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert started.wait(30)
        self.port = self.gw.port

    def stop(self):
        asyncio.run_coroutine_threadsafe(self.gw.stop(), self.loop).result(60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        live.STATE.latest.clear()


def raise_fd_limit(want: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def test_reconnect_storm_leaves_steady_terminals_served(tmp_path, settings):
    from .test_gateway import Terminal808, location

    settings.HOME = tmp_path
    if raise_fd_limit(STORM + 2000) < STORM + 1000:
        pytest.skip("the fd limit is below what 10,000 connections need")
    served = Served(tmp_path, idle_timeout_s=60)
    latencies: dict[str, list[float]] = {}
    errors: list[BaseException] = []
    stop = threading.Event()
    phase = {"name": "before"}

    def steady(n):
        number = f"0150{n:08d}"
        try:
            t = Terminal808(served.port, number)
            t.login()
            i = 0
            while not stop.is_set():
                start = time.monotonic()
                serial = t.send(LOCATION, location(T0 + i))
                ack = t.general(timeout=10)
                assert (ack.ack_serial, ack.result) == (serial, 0)
                latencies.setdefault(phase["name"], []).append(time.monotonic() - start)
                i += 1
                time.sleep(0.05)
            t.close()
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=steady, args=(n,)) for n in range(STEADY)]
    try:
        for th in threads:
            th.start()
        time.sleep(1.5)
        phase["name"] = "storm"
        storm = subprocess.run(
            [sys.executable, __file__, str(served.port), str(STORM)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        phase["name"] = "after"
        time.sleep(1.0)
        stop.set()
        for th in threads:
            th.join(20)
        counters = dict(served.gw.counters)
    finally:
        stop.set()
        served.stop()
    assert storm.returncode == 0, storm.stderr
    result = json.loads(storm.stdout)
    assert not errors, errors[:3]
    # Every storm terminal got through both rounds.
    assert result["completed"] == STORM, result
    assert counters["registered"] >= STORM + STEADY
    assert counters["auth_ok"] >= 2 * STORM + STEADY
    # The steady terminals kept being served during the storm, within a bound.
    during = sorted(latencies["storm"])
    p99 = during[int(len(during) * 0.99)]
    assert len(during) >= STEADY * 5, (len(during), during[-5:], result)
    # JT/T 808 terminals retransmit after their reply timeout (parameter 0x0002, commonly
    # 10 s): no steady terminal may reach it (on a loaded 2-core CI machine the slowest ack
    # has been 5 s); most acks stay as fast as without a storm.
    assert during[-1] < 10.0, (p99, during[-1], result)
    assert during[len(during) // 2] < 0.25, (during[len(during) // 2], result)
    print(
        f"storm {result['seconds']:.1f} s; steady acks during it: n={len(during)} "
        f"p50={during[len(during) // 2] * 1000:.0f} ms p99={p99 * 1000:.0f} ms "
        f"max={during[-1] * 1000:.0f} ms; before p99="
        f"{sorted(latencies['before'])[int(len(latencies['before']) * 0.99)] * 1000:.0f} ms"
    )


# -- the storm, run as a script ------------------------------------------------------------


async def _storm(port: int, n: int) -> dict:
    from guanjia.telemetry.jt808 import (
        AUTHENTICATE,
        LOCATION,
        PLATFORM_RESPONSE,
        REGISTER,
        REGISTER_RESPONSE,
        Authentication,
        FrameSplitter,
        Location,
        Register,
        decode_frame,
        encode_message,
    )

    completed = 0
    failures: dict[str, int] = {}

    async def session(number, serial, code):
        for attempt in range(20):
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:  # the listen backlog is full: a real terminal retries
                await asyncio.sleep(0.05 * (attempt + 1))
        else:
            raise ConnectionError("could not connect")
        splitter = FrameSplitter()
        pending = []

        async def reply():
            while not pending:
                data = await asyncio.wait_for(reader.read(4096), 60)
                if not data:
                    raise ConnectionError("closed")
                pending.extend(decode_frame(f) for f in splitter.feed(data))
            return pending.pop(0)

        if code is None:
            writer.write(
                encode_message(REGISTER, number, serial, Register(51, 100, "S", "M", "D", 1, "X"))
            )
            msg = await reply()
            assert msg.msg_id == REGISTER_RESPONSE and msg.body.result == 0
            code = msg.body.auth_code
        writer.write(encode_message(AUTHENTICATE, number, serial + 1, Authentication(code)))
        msg = await reply()
        assert msg.msg_id == PLATFORM_RESPONSE and msg.body.result == 0
        body = Location(0, 3, 30657000, 104066000, 500, 425, 90, T0 + serial)
        writer.write(encode_message(LOCATION, number, serial + 2, body))
        msg = await reply()
        assert msg.msg_id == PLATFORM_RESPONSE and msg.body.result == 0
        writer.close()
        return code

    async def terminal(i):
        nonlocal completed
        number = f"0160{i:08d}"
        try:
            code = await session(number, 1, None)
            await session(number, 10, code)
            completed += 1
        except Exception as e:
            kind = type(e).__name__
            failures[kind] = failures.get(kind, 0) + 1

    start = time.monotonic()
    await asyncio.gather(*(terminal(i) for i in range(n)))
    return {"completed": completed, "failures": failures, "seconds": time.monotonic() - start}


if __name__ == "__main__":
    import uvloop

    raise_fd_limit(int(sys.argv[2]) + 1000)
    print(json.dumps(uvloop.run(_storm(int(sys.argv[1]), int(sys.argv[2])))))
