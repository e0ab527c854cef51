"""The shell scripts of scripts/: behaviour that unattended runs and terminals rely on."""

import os
import pty
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_pg_test_server_stop_with_nothing_running_succeeds(tmp_path):
    r = subprocess.run(
        [str(ROOT / "scripts/pg-test-server"), "stop", str(tmp_path / "never-started")],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr


def _as_root(tmp_path, stdin) -> str:
    """Run bootstrap's as_root as an ordinary user, with a `sudo` that tells how it was
    called; `stdin` is a terminal or not."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "id").write_text("#!/bin/sh\necho 1000\n")
    (bin_dir / "sudo").write_text('#!/bin/sh\necho "sudo $*"\n')
    for tool in ("id", "sudo"):
        (bin_dir / tool).chmod(0o755)
    script = (
        f"eval \"$(sed -n '/^as_root()/,/^}}/p' {ROOT / 'scripts/bootstrap'})\"\n"
        "as_root apt-get update\n"
    )
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    r = subprocess.run(["bash", "-c", script], stdin=stdin, capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_bootstrap_asks_for_a_password_only_at_a_terminal(tmp_path):
    assert _as_root(tmp_path, subprocess.DEVNULL) == "sudo -n apt-get update"
    master, slave = pty.openpty()
    try:
        assert _as_root(tmp_path, slave) == "sudo apt-get update"
    finally:
        os.close(master)
        os.close(slave)


def test_scripts_test_requires_the_browser():
    assert "export GUANJIA_REQUIRE_BROWSER=1" in (ROOT / "scripts/test").read_text()
