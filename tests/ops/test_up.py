"""`guanjia up` as a user runs it: a real process tree, real HTTP, a clean stop."""

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str):
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=5) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


@pytest.fixture
def database_url():
    """A fresh database for the server under test: SQLite in its home, or a new PostgreSQL
    database on the suite's server when the suite runs on PostgreSQL."""
    url = os.environ.get("GUANJIA_DATABASE_URL")
    if not url:
        yield None
        return
    import psycopg

    name = f"guanjia_up_{uuid.uuid4().hex[:8]}"
    base, _slash, _db = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{base}/{name}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_up_serves_health_login_and_api_then_stops_cleanly(tmp_path: Path, database_url):
    port, gateway_port = _free_port(), _free_port()
    env = {**os.environ, "GUANJIA_HOME": str(tmp_path / "home")}
    env.pop("GUANJIA_DATABASE_URL", None)
    if database_url:
        env["GUANJIA_DATABASE_URL"] = database_url
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "guanjia.cli",
            "up",
            "--no-demo",
            "--port",
            str(port),
            "--gateway-port",
            str(gateway_port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        health = None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                status, _h, body = _get(base + "/healthz")
                health = json.loads(body)
                states = {k: v["state"] for k, v in health["components"].items()}
                if status == 200 and states["worker"] == "ok" and states["gateway"] == "running":
                    break
            except OSError:
                pass
            assert proc.poll() is None, proc.stdout.read()
            time.sleep(0.5)
        assert health and health["status"] == "ok", health
        assert health["components"]["database"]["state"] == "ok"
        # The worker state comes from a heartbeat task that really went through the queue.
        assert health["components"]["worker"]["state"] == "ok"
        assert health["components"]["gateway"]["port"] == gateway_port
        assert health["components"]["gateway"]["state"] == "running"
        assert health["components"]["gateway"]["connections"] == 0

        status, headers, _ = _get(base + "/")
        assert status == 302 and "/login/" in headers["Location"]
        status, _h, body = _get(base + "/login/")
        assert status == 200 and "登录" in body.decode()
        status, _h, _b = _get(base + "/api/v1/agencies")
        assert status == 401

        password_file = tmp_path / "home" / "admin-password.txt"
        assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
        password = password_file.read_text().strip()
        assert len(password) >= 12
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, output
    assert password in output  # printed once, at first start
    # Every process of the tree is gone: nothing left in the session.
    leftover = subprocess.run(["pgrep", "-s", str(proc.pid)], capture_output=True, text=True)
    assert leftover.stdout.strip() == ""


# -- the supervisor, without processes ------------------------------------------------------


class FakeChild:
    def __init__(self):
        self.returncode = None

    def poll(self):
        return self.returncode

    def terminate(self):
        self.returncode = -15

    def wait(self, timeout=None):
        return self.returncode

    def kill(self):
        self.returncode = -9


@pytest.fixture
def supervisor(monkeypatch, settings, tmp_path):
    """A Supervisor whose children are fakes and whose loop stops after three rounds."""
    import io

    from guanjia.core.management.commands import up

    children = []

    def popen(*args, **kwargs):
        children.append(FakeChild())
        return children[-1]

    monkeypatch.setattr(up.subprocess, "Popen", popen)
    monkeypatch.setattr(up.signal, "signal", lambda *a: None)
    command = up.Command(stdout=io.StringIO(), stderr=io.StringIO())
    sup = up.Supervisor(
        command, {"host": "127.0.0.1", "port": 1, "gateway_port": 2, "web_workers": 1}
    )
    rounds = iter(range(3))

    def sleep(seconds):
        if next(rounds, None) is None:
            sup._on_signal(signal.SIGTERM, None)

    monkeypatch.setattr(up.time, "sleep", sleep)
    settings.WORKER_HEARTBEAT_SECONDS = 0  # a heartbeat every round
    sup.children_made = children
    sup.closed = []  # calls of close_old_connections (the real one needs a database)
    monkeypatch.setattr(up, "close_old_connections", lambda: sup.closed.append(1))
    settings.HOME = tmp_path  # the worker's log goes to HOME/run
    (tmp_path / "run").mkdir()
    return sup


def test_children_are_stopped_whatever_goes_wrong(supervisor, monkeypatch):
    def broken_watch():
        raise RuntimeError("the watch loop broke")

    monkeypatch.setattr(supervisor, "_watch", broken_watch)
    with pytest.raises(RuntimeError):
        supervisor.run()
    assert len(supervisor.children_made) == 3  # web, task worker, JT/T 808 gateway
    assert all(child.returncode is not None for child in supervisor.children_made)


def test_a_failing_heartbeat_is_logged_not_fatal(supervisor, monkeypatch, caplog):
    from guanjia.core import tasks
    from guanjia.core.management.commands import up

    calls = []

    class BrokenQueue:
        @staticmethod
        def enqueue():
            calls.append(len(supervisor.closed))
            raise RuntimeError("database went away")

    monkeypatch.setattr(tasks, "heartbeat", BrokenQueue)
    monkeypatch.setattr(up, "call_command", lambda *a, **k: None)
    supervisor.run()  # returns: no exception, exit code 0
    assert len(calls) >= 3
    assert all(closed > 0 for closed in calls)  # stale connections dropped before each
    assert "heartbeat could not be enqueued" in caplog.text


def test_old_task_results_are_pruned_about_hourly(supervisor, monkeypatch):
    from guanjia.core.management.commands import up

    commands = []
    monkeypatch.setattr(up, "call_command", lambda name, **kw: commands.append((name, kw)))
    monkeypatch.setattr(up.Supervisor, "_heartbeat", lambda self: None)
    supervisor.run()
    # Once at start; the next one is an hour away (the loop ran three rounds).
    assert commands == [("prune_db_task_results", {"min_age_days": 7, "verbosity": 0})]
    assert up.PRUNE_EVERY_SECONDS == 3600


def test_prune_really_removes_old_results(db, caplog, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from guanjia.core.management.commands import up
    from guanjia.core.tasks import heartbeat

    old, new = heartbeat.enqueue(), heartbeat.enqueue()
    DBTaskResult.objects.filter(id__in=[old.id, new.id]).update(
        status="SUCCESSFUL", finished_at=timezone.now()
    )
    DBTaskResult.objects.filter(id=old.id).update(finished_at=timezone.now() - timedelta(days=8))
    # (close_old_connections would close the test's transaction: here it has nothing to do)
    monkeypatch.setattr(up, "close_old_connections", lambda: None)
    up.Supervisor(None, {})._prune_task_results()
    assert "could not be pruned" not in caplog.text
    assert [str(i) for i in DBTaskResult.objects.values_list("id", flat=True)] == [str(new.id)]
