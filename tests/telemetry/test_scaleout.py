"""Scale-out with a real redis-server: two `guanjia gateway` processes publish to Redis
Streams, two `guanjia telemetry worker` processes consume in the consumer group (partitioned
by terminal). Terminals report over TCP to both gateways; every acknowledged position must
reach exactly one worker, in GNSS-time order per terminal; a worker that hangs with entries
read and not acknowledged, then is killed, has them handled by the other worker.

The workers run the real rule engine plus a recorder sink (`recorder` below, loaded with
`--sink tests.telemetry.test_scaleout:recorder`) that appends what it is handed to a file per
worker, and hangs (before recording) once a file `<worker>.hang` appears.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from guanjia.telemetry import streams
from guanjia.telemetry.jt808 import LOCATION
from guanjia.vehicles import services as vehicle_services

from ..vehicles.conftest import vehicle_fields
from .test_gateway import ROOT, T0, Terminal808, location
from .test_gateway_crash import database_url

PARTITIONS = 4
TERMINALS = [f"0139{i:08d}" for i in range(1, 13)]


def recorder(name):
    """A pipeline sink for the worker `name` (loaded inside the worker process)."""
    folder = Path(os.environ["GUANJIA_SCALEOUT_DIR"])
    log = open(folder / f"{name}.log", "a", buffering=1)  # lives as long as the worker

    def sink(batch):
        while (folder / f"{name}.hang").exists():  # a hung worker: read, never acknowledged
            time.sleep(0.2)
        log.write("".join(f"{p.terminal} {p.time}\n" for p in batch))
        log.flush()

    return sink


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path):
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server not installed (scripts/test installs it)")
    port = free_port()
    folder = tmp_path / "redis"
    folder.mkdir()
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    import redis

    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(200):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield url
    client.close()
    proc.terminate()
    proc.wait(10)


def env_for(home, redis_url, record_dir):
    return os.environ | {
        "GUANJIA_HOME": str(home),
        "GUANJIA_DATABASE_URL": database_url(),
        "GUANJIA_REDIS_URL": redis_url,
        "GUANJIA_STREAM_PARTITIONS": str(PARTITIONS),
        "GUANJIA_SCALEOUT_DIR": str(record_dir),
    }


def start_gateway(env, port):
    proc = subprocess.Popen(
        [sys.executable, "-m", "guanjia.cli", "gateway", "--host", "127.0.0.1",
         "--port", str(port), "--name", f"gw-{port}"],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the gateway did not start")


def start_worker(env, name):
    return subprocess.Popen(
        [sys.executable, "-m", "guanjia.cli", "telemetry", "worker", "--name", name,
         "--lease-s", "2", "--sink", "tests.telemetry.test_scaleout:recorder", "--json"],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def leases(client) -> dict[int, str]:
    out = {}
    for i in range(PARTITIONS):
        v = client.get(streams.lease_key(i))
        if v is not None:
            out[i] = v.decode()
    return out


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def read_log(path: Path) -> list[tuple[str, int]]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        key, t = line.split()
        rows.append((key, int(t)))
    return rows


def drive(ports, times_of, acked):
    """Each terminal on its gateway (alternating) sends its GNSS times in windows of 20."""

    def one(n, number):
        t = Terminal808(ports[n % len(ports)], number, None if n % 3 else 1)
        t.login()
        times = times_of(n)
        for k in range(0, len(times), 20):
            sent = {t.send(LOCATION, location(tt, speed=50)): tt for tt in times[k : k + 20]}
            for _ in sent:
                ack = t.general()
                assert ack.result == 0
                acked[number.lstrip("0")].append(sent[ack.ack_serial])
        t.close()

    threads = [threading.Thread(target=one, args=(n, num)) for n, num in enumerate(TERMINALS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)


def key(number):
    return number.lstrip("0")


@pytest.mark.django_db(transaction=True)
def test_two_gateways_two_workers_each_position_once_in_order_and_handover(
    tmp_path, world, redis_url, settings
):
    import redis

    from guanjia.vehicles.models import MisuseCase

    settings.HOME = tmp_path
    for n, number in enumerate(TERMINALS):
        agency = world["B"] if n % 2 else world["A1"]
        vehicle_services.create_vehicle(None, **vehicle_fields(agency, terminal_number=number))
    record = tmp_path / "record"
    record.mkdir()
    env = env_for(tmp_path, redis_url, record)
    client = redis.Redis.from_url(redis_url)
    ports = [free_port(), free_port()]
    gateways = [start_gateway(env, p) for p in ports]
    workers = {name: start_worker(env, name) for name in ("w1", "w2")}
    procs = [*gateways, *workers.values()]
    try:
        # Both workers up and the partitions shared two and two.
        wait_for(
            lambda: sorted(leases(client).values()) == ["w1", "w1", "w2", "w2"],
            60,
            "the workers to share the partitions",
        )
        owner = {i: w for i, w in leases(client).items()}
        owner_of = {key(n): owner[streams.partition(key(n), PARTITIONS)] for n in TERMINALS}

        # Phase 1: 100 reports per terminal, GNSS time every 10 s.
        acked: dict[str, list[int]] = {key(n): [] for n in TERMINALS}
        drive(ports, lambda n: [T0 + 10 * i + n for i in range(100)], acked)
        total1 = sum(map(len, acked.values()))
        assert total1 == 100 * len(TERMINALS)

        def handled():
            return {w: read_log(record / f"{w}.log") for w in workers}

        wait_for(lambda: sum(map(len, handled().values())) >= total1, 30, "the workers")
        logs = handled()
        assert all(logs.values()), "both workers got positions"
        for w, rows in logs.items():
            by_terminal: dict[str, list[int]] = {}
            for k, t in rows:
                by_terminal.setdefault(k, []).append(t)
            for k, times in by_terminal.items():
                assert owner_of[k] == w, "a terminal's positions go to its partition's owner"
                assert times == sorted(set(times)), f"{w} got {k} out of order or twice"
        seen = sorted(r for rows in logs.values() for r in rows)
        assert seen == sorted((k, t) for k, ts in acked.items() for t in ts)  # exactly once

        # Phase 2: w1 hangs with entries read and not acknowledged, then is killed.
        (record / "w1.hang").touch()
        before = {w: len(rows) for w, rows in logs.items()}
        drive(ports, lambda n: [T0 + 5000 + 10 * i + n for i in range(60)], acked)

        def w1_pending():
            return sum(
                c["pending"]
                for i, w in owner.items()
                if w == "w1"
                for c in client.xinfo_consumers(streams.stream_key(i), streams.GROUP)
                if c["name"] == b"w1"
            )

        wait_for(lambda: w1_pending() > 0, 20, "w1 to hold pending entries")
        workers["w1"].send_signal(signal.SIGKILL)
        workers["w1"].wait(10)
        total = sum(map(len, acked.values()))
        wait_for(lambda: sum(map(len, handled().values())) >= total, 40, "the handover")
        time.sleep(0.5)  # nothing more may arrive
        logs = handled()
        assert len(logs["w1"]) == before["w1"], "the hung worker recorded nothing more"
        seen = sorted(r for rows in logs.values() for r in rows)
        assert seen == sorted((k, t) for k, ts in acked.items() for t in ts)  # exactly once
        for k in acked:  # in order per terminal: w1's part, then w2's
            times = [t for w in ("w1", "w2") for kk, t in logs[w] if kk == k]
            assert times == sorted(times), f"{k} out of order across the handover"
        assert sorted(leases(client).values()) == ["w2"] * PARTITIONS
        for i in range(PARTITIONS):  # nothing left unacknowledged
            assert client.xpending(streams.stream_key(i), streams.GROUP)["pending"] == 0
        assert client.hlen("guanjia:live") == len(TERMINALS)  # live state for any web process

        workers["w2"].send_signal(signal.SIGTERM)
        out, err = workers["w2"].communicate(timeout=30)
        assert workers["w2"].returncode == 0, err
        result = json.loads(out)
        assert result["claimed"] > 0 and result["acquired"] >= PARTITIONS
        assert result["rules"]["evaluated"] > 0
        # The rule engine ran in the workers: the cars drove without dispatch orders.
        wait_for(
            lambda: MisuseCase.objects.filter(rule="tm_no_order").count() >= len(TERMINALS),
            20,
            "the no-order cases",
        )
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        client.close()


# -- the pieces, in one process against the same real redis-server --------------------------


def pos(key, t, mileage=12.5):
    from guanjia.telemetry.positions import Position

    return Position(key, t, 30.5, 104.1, 50.0, 90, 500, 0, 3, mileage, None, 1.5)


def test_publisher_partitions_by_terminal_and_round_trips(redis_url, monkeypatch):
    import redis

    monkeypatch.setenv("GUANJIA_STREAM_PARTITIONS", "3")
    client = redis.Redis.from_url(redis_url)
    pub = streams.Publisher(client, source="gw-test")
    batch = [pos(str(1000 + k % 10), T0 + k, None if k % 4 == 0 else k / 10) for k in range(50)]
    pub(batch)
    got = []
    for i in range(3):
        for _id, fields in client.xrange(streams.stream_key(i)):
            part = streams.decode(fields[b"p"])
            assert {streams.partition(p.terminal, 3) for p in part} == {i}
            assert fields[b"s"] == b"gw-test" and int(fields[b"n"]) == len(part)
            got += part
    assert sorted(got) == sorted(batch)  # every field, mileage None kept as None
    client.close()


def test_workers_share_partitions_hand_back_and_take_over_pending(redis_url, monkeypatch):
    import redis

    monkeypatch.setenv("GUANJIA_STREAM_PARTITIONS", "4")
    client = redis.Redis.from_url(redis_url)
    handled: dict[str, list] = {"w1": [], "w2": []}
    w1 = streams.Worker(client, name="w1", lease_s=30, deliver=handled["w1"].extend)
    w2 = streams.Worker(client, name="w2", lease_s=30, deliver=handled["w2"].extend)
    w1.balance()
    assert w1.owned == {0, 1, 2, 3}
    w2.balance()  # its share is 2, but all are leased: it waits …
    assert w2.owned == set()
    w1.balance()  # … until w1 hands back what is beyond its share
    w2.balance()
    assert len(w1.owned) == len(w2.owned) == 2 and not w1.owned & w2.owned

    pub = streams.Publisher(client)
    keys = [str(2000 + k) for k in range(40)]
    pub([pos(k, T0) for k in keys])
    pub([pos(k, T0 + 30) for k in keys])
    w1.step()
    w2.step()
    assert {p.terminal for p in handled["w1"]} == {
        k for k in keys if streams.partition(k, 4) in w1.owned
    }
    assert len(handled["w1"]) + len(handled["w2"]) == 80

    # w1 reads the next batch and dies before acknowledging it (its leases run out).
    pub([pos(k, T0 + 60) for k in keys])
    streams_of_w1 = {streams.stream_key(i): ">" for i in w1.owned}
    read = client.xreadgroup(streams.GROUP, "w1", streams_of_w1, count=10)
    lost = sum(len(entries) for _k, entries in read)
    assert lost > 0
    for i in w1.owned:
        client.delete(streams.lease_key(i))
    client.zrem(streams.WORKERS_KEY, "w1")
    before = len(handled["w2"])
    w2.balance()
    assert w2.owned == {0, 1, 2, 3} and w2.stats["claimed"] == lost
    while w2.step():
        pass
    assert len(handled["w2"]) - before == 40  # w1's part (claimed) and w2's own
    assert sorted(p.time for p in handled["w2"] if p.time == T0 + 60) == [T0 + 60] * 40
    for i in range(4):
        assert client.xpending(streams.stream_key(i), streams.GROUP)["pending"] == 0
    w2.release_all()
    assert all(client.get(streams.lease_key(i)) is None for i in range(4))
    client.close()
