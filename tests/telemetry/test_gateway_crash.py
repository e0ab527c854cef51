"""kill -9 of a `guanjia gateway` process under load: after a restart every acknowledged
position is in the archive, and the restarted gateway serves again."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from django.db import connection

from guanjia.telemetry import archive
from guanjia.telemetry.jt808 import LOCATION, LOCATION_BATCH, LocationBatch

from .test_gateway import CQ, ROOT, SC, T0, Terminal808, cars, location  # noqa: F401


def database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgresql://{s['USER']}:{s['PASSWORD']}@{s['HOST']}:{s['PORT'] or 5432}/{s['NAME']}"


def start_gateway(home, port):
    env = os.environ | {"GUANJIA_HOME": str(home), "GUANJIA_DATABASE_URL": database_url()}
    proc = subprocess.Popen(
        [sys.executable, "-m", "guanjia.cli", "gateway", "--host", "127.0.0.1",
         "--port", str(port)],
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


@pytest.mark.django_db(transaction=True)
def test_kill_9_under_load_loses_no_acknowledged_position(tmp_path, cars, settings):  # noqa: F811
    settings.HOME = tmp_path
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = start_gateway(tmp_path, port)
    acked: dict[str, set[int]] = {SC: set(), CQ: set()}
    stop = threading.Event()

    def drive(number, version, offset):
        t = Terminal808(port, number, version)
        t.login()
        i = 0
        try:
            while not stop.is_set():
                times = [T0 + offset + 10 * (i + k) for k in range(5)]
                sent = {}
                sent[t.send(LOCATION_BATCH, LocationBatch(0, tuple(map(location, times))))] = times
                for k in range(20):  # a window of 20 reports in flight
                    tt = T0 + offset + 10 * (i + 5 + k)
                    sent[t.send(LOCATION, location(tt))] = [tt]
                for _ in sent:
                    ack = t.general()
                    assert ack.result == 0
                    acked[number].update(sent[ack.ack_serial])
                i += 25
        except (ConnectionError, OSError):
            pass  # the gateway died under us: what was acked must be there

    threads = [
        threading.Thread(target=drive, args=(SC, None, 0)),
        threading.Thread(target=drive, args=(CQ, 1, 5)),
    ]
    for th in threads:
        th.start()
    time.sleep(2.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    stop.set()
    for th in threads:
        th.join(10)
    assert sum(map(len, acked.values())) > 200, acked
    proc = start_gateway(tmp_path, port)  # recovers its segment on start
    try:
        for number, times in acked.items():
            stored = {p.time for p in archive.track(number, home=tmp_path)}
            assert times <= stored, f"{len(times - stored)} acknowledged positions lost"
        t = Terminal808(port, SC)
        t.login()
        serial = t.send(LOCATION, location(T0 - 1))
        assert t.general() == (serial, LOCATION, 0)
    finally:
        proc.terminate()
        proc.wait(20)
    archive.compact(home=tmp_path, retention_days=0)
    for number, times in acked.items():
        assert times <= {p.time for p in archive.track(number, home=tmp_path)}
