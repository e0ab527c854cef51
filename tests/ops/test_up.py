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
                if status == 200 and health["components"]["worker"]["state"] == "ok":
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
        assert health["components"]["gateway"]["state"] == "not_implemented"

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
