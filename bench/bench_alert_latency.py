"""Issue 5 figure (c): receive → alert latency under load (target p99 ≤ 1 s).

    .venv/bin/python bench/bench_alert_latency.py [--terminals 2000] [--rate 10000]
        [--speeders 100] [--seconds 20] [--redis]

A gateway process (in-memory register of the same terminals as bench_rules.build_directory,
every rule on) takes a steady load of `rate` positions/s from `terminals` connections, each
report acknowledged after the group commit. `speeders` of them drive in cycles: 7 reports
over 120 km/h (the speeding rule's default needs 60 s of GNSS time, reports are 10 s apart),
then 31 slow ones (the rule's 300 s quiet gap), so every cycle opens one speeding case.
Latency = the wall clock when the rule engine emits the case (its "open" event, what the
case writer then stores and the pages show) minus `Position.received` of the report that
completed the episode — the gateway's clock when the frame arrived. Same machine, same
clock. The engine's writer stores cases every 0.2 s after that (not included: no database
rows in this bench, the register is in memory).

`--redis` runs the scaled-out path instead: a redis-server (Debian's, started here), the
gateway publishing to the streams, one `streams.Worker` process with the engine consuming
them; the latency then includes XADD, the consumer group and the worker's batch.

The baseline, measured in the same run: the gateway's own durable-ack latency (send → 0x8001
at the client, p50/p99) under the same load; the alert latency is printed as its ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_throughput import FIRST, day0, free_port

SPEED_CYCLE, FAST = 38, 7


def django_setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanjia.settings")
    import django

    django.setup()


def alert_engine(terminals: int, out: list):
    """An engine over the in-memory register, and a sink that stamps speeding reports."""
    from bench.bench_rules import build_directory
    from guanjia.telemetry.rules import Engine

    directory, _homes = build_directory(terminals, day0())
    engine = Engine(directory, now=lambda: day0() + 9 * 3600)
    received: dict[tuple[str, int], float] = {}

    def listener(item):
        if item["rule"] == "tm_speeding":
            got = received.pop((item["terminal"], int(item["end"])), None)
            if got is not None:
                out.append(time.time() - got)

    engine.listeners.append(listener)

    def sink(batch):
        for p in batch:
            if p.speed_kmh > 120:
                received[(p.terminal, p.time)] = p.received
        engine.handle(batch)
        engine.pending.clear()

    return engine, sink


def serve_gateway(port: int, home: str, terminals: int, redis_url: str | None) -> None:
    django_setup()
    from bench.bench_throughput import FIRST as first
    from guanjia.telemetry import gateway, limits, pipeline
    from guanjia.telemetry.registry import Registry

    class OpenRegistry(Registry):
        def refresh(self):
            return 0

        def known(self, key):
            return True

        def check_auth(self, key, code):
            return True

        def vehicle_of(self, key):
            return (int(key) - first + 1, 1)

        def touch(self, keys):
            pass

    latencies: list[float] = []
    if not redis_url:
        _engine, sink = alert_engine(terminals, latencies)
        pipeline.register("rules", sink)
    lim = limits.load(frames_per_second=1e9, burst_frames=10**9)
    gw = gateway.Gateway(
        host="127.0.0.1", port=port, home=home, registry=OpenRegistry(), limits=lim,
        publish_live=False,
    )  # fmt: skip
    gateway.serve(gw, ready=lambda g: print("ready", flush=True))
    print(json.dumps({"latencies": latencies, "counters": gw.status()["counters"]}), flush=True)


def serve_worker(terminals: int) -> None:
    django_setup()
    import threading

    from guanjia.telemetry import streams

    latencies: list[float] = []
    _engine, sink = alert_engine(terminals, latencies)
    worker = streams.Worker(streams.connect(), name="bench", lease_s=5, deliver=sink)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_a: stop.set())
    worker.balance()
    print("ready", flush=True)
    stats = worker.run(stop)
    print(json.dumps({"latencies": latencies, "worker": stats}), flush=True)


async def load(port: int, terminals: int, rate: float, speeders: int, seconds: float) -> list:
    from bench.bench_rules import build_directory
    from guanjia.telemetry.jt808 import (
        AUTHENTICATE,
        LOCATION,
        Authentication,
        FrameSplitter,
        Location,
        encode_message,
    )

    _d, homes = build_directory(terminals, day0())
    t0 = day0() + 9 * 3600
    period = terminals / rate
    acks: list[float] = []
    deadline = time.monotonic() + seconds + 2

    async def terminal(i: int):
        number = f"{FIRST + i:012d}"
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        splitter = FrameSplitter()

        async def one_reply():
            while True:
                data = await asyncio.wait_for(reader.read(4096), 30)
                if not data:
                    raise ConnectionError("closed")
                if splitter.feed(data):
                    return

        writer.write(encode_message(AUTHENTICATE, number, 1, Authentication("x")))
        await one_reply()
        await asyncio.sleep(period * (i / terminals) + 2)  # spread, all connected first
        lat, lon = homes[i]
        k = 0
        nxt = time.monotonic()
        while time.monotonic() < deadline:
            fast = i < speeders and k % SPEED_CYCLE < FAST
            speed = 130.0 if fast else 45.0
            body = Location(
                0, 3, round((lat + k * 1e-5) * 1e6), round(lon * 1e6), 500,
                round(speed * 10), 90, t0 + 10 * k, mileage=100000 + k,
            )  # fmt: skip
            sent = time.monotonic()
            writer.write(encode_message(LOCATION, number, (k + 2) & 0xFFFF, body))
            await one_reply()
            acks.append(time.monotonic() - sent)
            k += 1
            nxt += period
            delay = nxt - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        writer.close()

    await asyncio.gather(*(terminal(i) for i in range(terminals)))
    return acks


def start(args, env=None) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True,
                         env=env)  # fmt: skip
    assert p.stdout.readline().strip() == "ready"
    return p


def stop(p: subprocess.Popen) -> dict:
    p.send_signal(signal.SIGTERM)
    out = json.loads(p.stdout.readline() or "{}")
    p.wait(60)
    return out


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))] if values else float("nan")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", nargs="+")
    parser.add_argument("--worker", type=int)
    parser.add_argument("--terminals", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=10000)
    parser.add_argument("--speeders", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--redis", action="store_true")
    args = parser.parse_args()
    if args.serve:
        serve_gateway(int(args.serve[0]), args.serve[1], int(args.serve[2]), os.environ.get(
            "GUANJIA_REDIS_URL"))  # fmt: skip
        return
    if args.worker:
        serve_worker(args.worker)
        return
    import resource

    import uvloop

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    home = tempfile.mkdtemp(prefix="guanjia-bench-")
    os.environ["GUANJIA_HOME"] = home
    django_setup()
    env = os.environ | {"GUANJIA_HOME": home}
    procs = []
    redis_proc = worker = None
    if args.redis:
        rport = free_port()
        redis_proc = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(rport), "--bind",
             "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", home],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        env["GUANJIA_REDIS_URL"] = f"redis://127.0.0.1:{rport}/0"
        time.sleep(0.5)
        worker = start(["--worker", str(args.terminals)], env)
    port = free_port()
    gw = start(["--serve", str(port), home, str(args.terminals)], env)
    procs.append(gw)
    try:
        acks = uvloop.run(load(port, args.terminals, args.rate, args.speeders, args.seconds))
    finally:
        time.sleep(1.0)
        server = stop(gw)
        if worker is not None:
            server = stop(worker) | {"counters": server.get("counters")}
        if redis_proc is not None:
            redis_proc.terminate()
            redis_proc.wait(10)
    alerts = server["latencies"]
    ack_p99 = pct(acks, 0.99)
    print(
        json.dumps(
            {
                "path": "redis streams + worker" if args.redis else "in-process rules",
                "terminals": args.terminals,
                "offered_rate": args.rate,
                "acked": len(acks),
                "acked_per_s": round(len(acks) / args.seconds),
                "ack_p50_ms": round(pct(acks, 0.5) * 1000, 1),
                "ack_p99_ms": round(ack_p99 * 1000, 1),
                "alerts": len(alerts),
                "alert_p50_ms": round(pct(alerts, 0.5) * 1000, 1),
                "alert_p99_ms": round(pct(alerts, 0.99) * 1000, 1),
                "alert_max_ms": round(max(alerts) * 1000, 1) if alerts else None,
                "alert_p99_over_ack_p99": round(pct(alerts, 0.99) / ack_p99, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
