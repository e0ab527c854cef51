"""Issue 5 figure (b): 100,000 concurrent terminal connections held, memory per connection,
against a bare asyncio server holding the same number of idle connections.

    .venv/bin/python bench/bench_connections.py [--connections 100000] [--per-process N]

The file-descriptor limit. The bench raises RLIMIT_NOFILE to the hard limit; where the hard
limit is below what one process needs for all connections (this container: 20,000, and
raising it fails with "not allowed to raise maximum limit"), one process cannot hold them
all, so the connections are spread over as many server processes as needed (`--per-process`,
default: hard limit − 500) — for the gateway that is the scaled-out deployment, several
`Gateway` processes on one machine (ports differ; each with an in-memory register). The
bare baseline uses the same number of processes, so the ratio compares like with like.

Clients: one process per server, each connecting from its own loopback source address
(127.0.0.2, .3 …) so the 28,000 ephemeral ports of one address are not the limit; to the
gateway each connection authenticates (0x0102 → 0x8001) and then stays idle (the idle timeout
is 180 s, the measurement takes less). Memory = the servers' RSS (VmRSS) once everything is
connected minus their RSS before, divided by the connections held (counted by the servers:
the gateway's status file, the bare server's count). Kernel socket memory is not in RSS;
the bench prints the kernel's TCP pages (sockstat) before and after for that. Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
FIRST = 13800000000
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)  # Linux


def raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def tcp_pages() -> int:
    for line in Path("/proc/net/sockstat").read_text().splitlines():
        if line.startswith("TCP:"):
            parts = line.split()
            return int(parts[parts.index("mem") + 1])
    return 0


# -- servers ---------------------------------------------------------------------------------


def serve_bare(port: int, count_file: str) -> None:
    import uvloop

    raise_nofile()
    held = set()

    class Idle(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport = transport
            held.add(self)

        def data_received(self, data):
            pass

        def connection_lost(self, exc):
            held.discard(self)

    async def main():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Idle, "127.0.0.1", port, backlog=4096)
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        print("ready", flush=True)
        while not stop.is_set():
            Path(count_file).write_text(str(len(held)))
            try:
                await asyncio.wait_for(stop.wait(), 0.5)
            except TimeoutError:
                pass
        server.close()

    uvloop.run(main())


def serve_gateway(port: int, home: str) -> None:
    import django

    raise_nofile()
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
            return (int(key) - FIRST + 1, 1)

        def touch(self, keys):
            pass

    lim = limits.load(status_every_s=0.5)
    gw = gateway.Gateway(
        host="127.0.0.1", port=port, home=home, registry=OpenRegistry(), limits=lim,
        name=f"gw-{port}", publish_live=False,
    )  # fmt: skip
    gateway.serve(gw, ready=lambda g: print("ready", flush=True))


# -- clients ---------------------------------------------------------------------------------


def client(port: int, source: str, first: int, n: int, auth: bool) -> None:
    import uvloop

    from guanjia.telemetry.jt808 import AUTHENTICATE, Authentication, encode_message

    raise_nofile()
    transports = []

    class Terminal(asyncio.Protocol):
        def __init__(self, number):
            self.number, self.done = number, asyncio.get_running_loop().create_future()

        def connection_made(self, transport):
            transports.append(transport)
            if auth:
                transport.write(
                    encode_message(AUTHENTICATE, self.number, 1, Authentication("bench"))
                )
            else:
                self.done.set_result(True)

        def data_received(self, data):
            if not self.done.done():
                self.done.set_result(True)

        def connection_lost(self, exc):
            if not self.done.done():
                self.done.set_exception(ConnectionError("closed"))

    async def main():
        loop = asyncio.get_running_loop()
        gate = asyncio.Semaphore(500)
        failed = 0

        async def one(i):
            nonlocal failed
            async with gate:
                for attempt in range(10):
                    sock = socket.socket()
                    try:
                        # The port is picked at connect(), not by a search at bind().
                        sock.setsockopt(socket.SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1)
                        sock.bind((source, 0))
                        sock.setblocking(False)
                        await loop.sock_connect(sock, ("127.0.0.1", port))
                        _t, proto = await loop.create_connection(
                            lambda: Terminal(f"{FIRST + i:012d}"), sock=sock
                        )
                        await asyncio.wait_for(proto.done, 60)
                        return
                    except (OSError, TimeoutError):
                        sock.close()
                        await asyncio.sleep(0.2 * (attempt + 1))
                failed += 1

        await asyncio.gather(*(one(first + k) for k in range(n)))
        print(json.dumps({"held": len(transports), "failed": failed}), flush=True)
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()

    uvloop.run(main())


# -- the run ---------------------------------------------------------------------------------


def run(kind: str, total: int, per: int, home: str) -> dict:
    procs = math.ceil(total / per)
    counts = [total // procs + (1 if k < total % procs else 0) for k in range(procs)]
    servers, ports = [], []
    for k in range(procs):
        port = 20000 + (os.getpid() % 5000) * 4 + k + (0 if kind == "bare" else 20)
        port = _free(port)
        args = ["--serve", kind, str(port), os.path.join(home, f"{kind}-{k}")]
        env = os.environ | {"GUANJIA_HOME": home}
        p = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True,
                             env=env)  # fmt: skip
        assert p.stdout.readline().strip() == "ready", f"{kind} server {k} did not start"
        servers.append(p)
        ports.append(port)
    time.sleep(1.0)
    before = [rss_kb(p.pid) for p in servers]
    tcp_before = tcp_pages()
    t0 = time.monotonic()
    clients = []
    first = 0
    for k, (port, n) in enumerate(zip(ports, counts, strict=True)):
        args = ["--client", str(port), f"127.0.0.{2 + k}", str(first), str(n),
                "1" if kind == "gateway" else "0"]  # fmt: skip
        clients.append(
            subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)
        )
        first += n
    reports = [json.loads(c.stdout.readline() or '{"held": 0, "failed": -1}') for c in clients]
    connect_s = time.monotonic() - t0
    time.sleep(2.0)  # status files and counts catch up
    after = [rss_kb(p.pid) for p in servers]
    tcp_after = tcp_pages()
    held = []
    for k, port in enumerate(ports):
        if kind == "bare":
            held.append(int(Path(home, f"{kind}-{k}").read_text() or 0))
        else:
            status = json.loads(Path(home, "run", f"gateway-{port}.json").read_text())
            held.append(status["authenticated"])
    for c in clients:
        c.send_signal(signal.SIGTERM)
    for c in clients:
        c.wait(60)
    for p in servers:
        p.send_signal(signal.SIGTERM)
    for p in servers:
        p.wait(120)
    delta_kb = sum(after) - sum(before)
    return {
        "processes": procs,
        "held": sum(held),
        "client_failed": sum(r["failed"] for r in reports),
        "connect_s": round(connect_s, 1),
        "rss_before_mb": round(sum(before) / 1024, 1),
        "rss_after_mb": round(sum(after) / 1024, 1),
        "bytes_per_connection": round(delta_kb * 1024 / max(1, sum(held))),
        "kernel_tcp_mb": round((tcp_after - tcp_before) * 4096 / 2**20, 1),
    }


def _free(port: int) -> int:
    while True:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                port += 97


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", nargs=3)
    parser.add_argument("--client", nargs=5)
    parser.add_argument("--connections", type=int, default=100_000)
    parser.add_argument("--per-process", type=int)
    args = parser.parse_args()
    if args.serve:
        kind, port, path = args.serve
        if kind == "bare":
            serve_bare(int(port), path)
        else:
            serve_gateway(int(port), os.path.dirname(path))
        return
    if args.client:
        port, source, first, n, auth = args.client
        client(int(port), source, int(first), int(n), auth == "1")
        return
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    per = args.per_process or min(args.connections, hard - 500)
    home = tempfile.mkdtemp(prefix="guanjia-bench-")
    bare = run("bare", args.connections, per, home)
    gw = run("gateway", args.connections, per, home)
    print(
        json.dumps(
            {
                "connections": args.connections,
                "nofile_hard_limit": hard,
                "per_process": per,
                "bare": bare,
                "gateway": gw,
                "ratio_bytes": round(gw["bytes_per_connection"] / bare["bytes_per_connection"], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
