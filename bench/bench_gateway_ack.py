"""Positions per second acknowledged by the JT/T 808 gateway (full decode, group commit with
fsync, live-state sink), measured end to end over TCP on this machine.

    .venv/bin/python bench/bench_gateway_ack.py [--connections 200] [--window 20] [--seconds 10]

The gateway runs in a process of its own with a register that accepts every terminal (the
register is an in-memory dict in the real gateway too); the terminals are one asyncio
client process keeping `window` reports in flight per connection. Both share the two cores,
so the figure is a floor. Prints one line of JSON.
"""

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

T0 = 1772410500


def serve(port: int, home: str) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanjia.settings")
    django.setup()
    from guanjia.telemetry import gateway, limits
    from guanjia.telemetry.registry import Registry

    class OpenRegistry(Registry):
        def refresh(self):
            return 0

        def known(self, key):
            return True

        def check_auth(self, key, code):
            return True

        def vehicle_of(self, key):
            return (int(key) % 100000, 1)

        def touch(self, keys):
            pass

    gw = gateway.Gateway(
        host="127.0.0.1", port=port, home=home, registry=OpenRegistry(), limits=limits.load()
    )
    gateway.serve(gw, ready=lambda g: print("ready", flush=True))
    print(json.dumps(gw.status()["counters"]), flush=True)


async def drive(port: int, connections: int, window: int, seconds: float) -> dict:
    from guanjia.telemetry.jt808 import (
        AUTHENTICATE,
        LOCATION,
        Authentication,
        FrameSplitter,
        Location,
        encode_message,
    )

    acked = 0
    latencies = []
    deadline = time.monotonic() + seconds

    async def terminal(n: int):
        nonlocal acked
        number = f"{13000000000 + n:012d}"
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        splitter = FrameSplitter()
        writer.write(encode_message(AUTHENTICATE, number, 0, Authentication("x")))
        serial, t = 1, T0

        async def frames(count):
            got = 0
            while got < count:
                data = await asyncio.wait_for(reader.read(65536), 10)
                if not data:
                    raise ConnectionError
                got += len(splitter.feed(data))
            return got

        await frames(1)
        while time.monotonic() < deadline:
            batch = []
            for _ in range(window):
                body = Location(0, 3, 30657000, 104066000, 500, 425, 90, t, mileage=12345)
                batch.append(encode_message(LOCATION, number, serial, body))
                serial = (serial + 1) & 0xFFFF
                t += 1
            start = time.perf_counter()
            writer.write(b"".join(batch))
            got = await frames(window)  # not `acked += await …`: that loses updates
            acked += got
            latencies.append(time.perf_counter() - start)
        writer.close()

    start = time.monotonic()
    await asyncio.gather(*(terminal(n) for n in range(connections)))
    elapsed = time.monotonic() - start
    latencies.sort()
    return {
        "positions_acked_per_s": round(acked / elapsed),
        "acked": acked,
        "seconds": round(elapsed, 2),
        "connections": connections,
        "window": window,
        "window_ack_p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
        "window_ack_p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 1),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", nargs=2)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--window", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    if args.serve:
        serve(int(args.serve[0]), args.serve[1])
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as home:
        # A bench terminal reports far faster than a real one (limit: 50 frames/s).
        env = os.environ | {"GUANJIA_HOME": home, "GUANJIA_GW_FRAMES_PER_SECOND": "1000000"}
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(port), home],
            env=env, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert server.stdout.readline().strip() == "ready"
        try:
            import uvloop

            result = uvloop.run(drive(port, args.connections, args.window, args.seconds))
        finally:
            server.terminate()
            counters = json.loads(server.stdout.readline() or "{}")
            server.wait(30)
        result["server_stored"] = counters.get("stored")
        result["server_commits"] = counters.get("commits")
        print(json.dumps(result))


if __name__ == "__main__":
    main()
