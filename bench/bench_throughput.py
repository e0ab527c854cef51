"""Issue 5 figure (a): positions per second sustained by the gateway with full decode, durable
acknowledgement (group commit with fsync) and the rules (live state + misuse-rule engine as
pipeline sinks), against the same machine's bare asyncio reader that only reads and discards.

    .venv/bin/python bench/bench_throughput.py [--connections 1000] [--window 4] [--seconds 15]

Both servers run in a process of their own on uvloop; the same client process drives both
(pre-encoded 0x0200 frames, each written separately, `window` in flight per connection):

- bare reader: an asyncio.Protocol that counts the 0x7e delimiters of what it reads, throws
  the bytes away and answers each complete frame with one canned 20-byte reply (so the client
  paces itself the same way — without a reply nothing limits the sender);
- gateway: `gateway.Gateway` (authentication, splitter, unescape, check code, header, 0x0200
  body with additional items, dedupe, WAL write + fsync every 20 ms, then 0x8001), with the
  pipeline sinks "live" and "rules" (an `Engine` over an in-memory register of the same
  terminals, see bench_rules.build_directory: every rule on, areas tested per batch).

The gateway's figure is the positions that went through the rules, over the time from the
first report to the rules finishing the last one (so a sink falling behind shows), and the
ratio is that over the bare reader's frames per second. Client and server share the two
cores, so both figures are floors. Prints one line of JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

FIRST = 13800000000  # terminal numbers: FIRST + i, as bench_rules.build_directory keys them
CANNED_ACK = bytes(20)


def day0() -> int:
    from datetime import datetime

    from guanjia.telemetry.positions import CHINA

    return int(datetime(2026, 3, 4, tzinfo=CHINA).timestamp())  # a Wednesday


# -- servers (each in its own process) ---------------------------------------------------


def serve_bare(port: int) -> None:
    import uvloop

    counts = {"frames": 0, "bytes": 0}

    class Bare(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport = transport
            self.flags = 0

        def data_received(self, data):
            counts["bytes"] += len(data)
            flags = self.flags + data.count(b"\x7e")
            frames, self.flags = divmod(flags, 2)
            if frames:
                counts["frames"] += frames
                self.transport.write(CANNED_ACK * frames)

    async def main():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Bare, "127.0.0.1", port, backlog=4096)
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        print("ready", flush=True)
        await stop.wait()
        server.close()

    uvloop.run(main())
    print(json.dumps(counts), flush=True)


def serve_gateway(port: int, home: str, connections: int) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanjia.settings")
    django.setup()
    from bench.bench_rules import build_directory
    from guanjia.telemetry import gateway, limits, pipeline
    from guanjia.telemetry.registry import Registry
    from guanjia.telemetry.rules import Engine

    class OpenRegistry(Registry):
        def refresh(self):
            return 0

        def known(self, key):
            return True

        def check_auth(self, key, code):
            return True

        def vehicle_of(self, key):
            return (int(key) - FIRST + 1, 1)

        def touch(self, keys):
            pass

    directory, _homes = build_directory(connections, day0())
    engine = Engine(directory, now=lambda: day0() + 9 * 3600)
    done = {"positions": 0, "last": 0.0}

    def rules(batch):
        engine.handle(batch)
        engine.pending.clear()  # cases are not written in this bench (no database rows)
        done["positions"] += len(batch)
        done["last"] = time.time()

    # Each bench connection reports far faster than a terminal (every 30 s): lift the
    # per-connection frame rate bound, keep every other bound at its default.
    lim = limits.load(frames_per_second=1e9, burst_frames=10**9)
    gw = gateway.Gateway(
        host="127.0.0.1", port=port, home=home, registry=OpenRegistry(), limits=lim
    )
    pipeline.register("rules", rules)
    profile = os.environ.get("GUANJIA_BENCH_PROFILE")  # a file: cProfile of the event loop
    if profile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    gateway.serve(gw, ready=lambda g: print("ready", flush=True))
    if profile:
        prof.disable()
        prof.dump_stats(profile)
    status = gw.status()
    print(
        json.dumps(
            {
                "counters": status["counters"],
                "commit_p99_ms": status["commit_p99_ms"],
                "rules_done": done["positions"],
                "rules_last": done["last"],
                "evaluated": engine.stats["evaluated"],
                "sink_failures": status["sink_failures"],
            }
        ),
        flush=True,
    )


# -- the client ----------------------------------------------------------------------------


def frames_for(connections: int, per_connection: int) -> list[list[bytes]]:
    """Pre-encoded reports: car i drives near its home at 40–60 km/h, one report a second of
    GNSS time from 09:00 (inside its dispatch order, so the rules run and stay mostly quiet)."""
    import numpy as np

    from bench.bench_rules import build_directory
    from guanjia.telemetry.jt808 import LOCATION, Location, encode_message

    _d, homes = build_directory(connections, day0())
    t0 = day0() + 9 * 3600
    rng = np.random.default_rng(5)
    out = []
    for i in range(connections):
        number = f"{FIRST + i:012d}"
        lat, lon = homes[i]
        speeds = rng.uniform(40, 60, per_connection)
        frames = []
        for k in range(per_connection):
            body = Location(
                0, 3, round((lat + k * 1e-5) * 1e6), round(lon * 1e6), 500,
                round(speeds[k] * 10), 90, t0 + k, mileage=123450 + k,
            )  # fmt: skip
            frames.append(encode_message(LOCATION, number, (k + 2) & 0xFFFF, body))
        out.append(frames)
    return out


async def drive(port: int, pool: list[list[bytes]], window: int, seconds: float, auth: bool):
    from guanjia.telemetry.jt808 import AUTHENTICATE, Authentication, encode_message

    acked = 0
    first_sent = None
    deadline = None

    async def terminal(i: int, frames: list[bytes]):
        nonlocal acked
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.transport.get_extra_info("socket").setsockopt(
            socket.IPPROTO_TCP, socket.TCP_NODELAY, 1
        )
        flags = 0

        async def replies(n):
            nonlocal flags
            got = 0
            while got < n:
                data = await asyncio.wait_for(reader.read(65536), 30)
                if not data:
                    raise ConnectionError("closed")
                if data[0] == 0:  # the bare reader's canned replies
                    got += len(data) // len(CANNED_ACK)
                    continue
                flags += data.count(b"\x7e")
                k, flags = divmod(flags, 2)
                got += k
            return got

        if auth:
            writer.write(encode_message(AUTHENTICATE, f"{FIRST + i:012d}", 1, Authentication("x")))
            await replies(1)
        await started.wait()
        k = 0
        while time.monotonic() < deadline and k + window <= len(frames):
            for f in frames[k : k + window]:
                writer.write(f)
            k += window
            got = await replies(window)
            acked += got
        writer.close()

    started = asyncio.Event()
    tasks = [asyncio.create_task(terminal(i, f)) for i, f in enumerate(pool)]
    await asyncio.sleep(1.0 + len(pool) / 2000)  # all connected (and authenticated)
    first_sent = time.time()
    deadline = time.monotonic() + seconds
    started.set()
    await asyncio.gather(*tasks)
    return acked, first_sent, time.time()


def run_server(args: list[str], env=None) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout.readline().strip() == "ready"
    return proc


def finish(proc: subprocess.Popen) -> dict:
    proc.send_signal(signal.SIGTERM)
    out = json.loads(proc.stdout.readline() or "{}")
    proc.wait(120)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", nargs="+")
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--window", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--per-connection", type=int, default=800)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanjia.settings")
    if args.serve:
        if args.serve[0] == "bare":
            serve_bare(int(args.serve[1]))
        else:
            serve_gateway(int(args.serve[1]), args.serve[2], int(args.serve[3]))
        return
    import resource

    import uvloop

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * args.connections)), hard))
    home = tempfile.mkdtemp(prefix="guanjia-bench-")
    os.environ["GUANJIA_HOME"] = home
    import django

    django.setup()
    t = time.perf_counter()
    pool = frames_for(args.connections, args.per_connection)
    encode_s = time.perf_counter() - t

    port = free_port()
    bare = run_server(["--serve", "bare", str(port)])
    b_acked, b_start, b_end = uvloop.run(drive(port, pool, args.window, args.seconds, False))
    b_server = finish(bare)
    bare_rate = b_acked / (b_end - b_start)

    port = free_port()
    gw = run_server(
        ["--serve", "gateway", str(port), home, str(args.connections)],
        env=os.environ | {"GUANJIA_HOME": home},
    )
    g_acked, g_start, g_end = uvloop.run(drive(port, pool, args.window, args.seconds, True))
    time.sleep(0.5)
    server = finish(gw)  # the gateway drains its sink thread before it stops
    ack_rate = g_acked / (g_end - g_start)
    rules_end = max(g_end, server.get("rules_last") or g_end)
    rules_rate = server.get("rules_done", 0) / (rules_end - g_start)
    sustained = min(ack_rate, rules_rate)
    print(
        json.dumps(
            {
                "connections": args.connections,
                "window": args.window,
                "pre_encoded_frames": args.connections * args.per_connection,
                "encode_s": round(encode_s, 1),
                "bare_frames_per_s": round(bare_rate),
                "bare_server_frames": b_server.get("frames"),
                "gateway_acked": g_acked,
                "gateway_acked_per_s": round(ack_rate),
                "rules_done": server.get("rules_done"),
                "rules_evaluated": server.get("evaluated"),
                "rules_lag_s": round(rules_end - g_end, 2),
                "sustained_per_s": round(sustained),
                "ratio_vs_bare": round(sustained / bare_rate, 3),
                "commit_p99_ms": server.get("commit_p99_ms"),
                "stored": server.get("counters", {}).get("stored"),
                "duplicates": server.get("counters", {}).get("duplicates"),
                "sink_failures": server.get("sink_failures"),
            }
        )
    )


if __name__ == "__main__":
    main()
