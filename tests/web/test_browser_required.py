"""Where the browser tests must run (CI, scripts/test), a missing chromium fails the suite
instead of skipping the tests quietly."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run_browser_test(tmp_path, **overrides):
    """One browser test in a fresh pytest, with chromium "missing"."""
    unset = ("CI", "GUANJIA_REQUIRE_BROWSER", "GUANJIA_DATABASE_URL")  # a private SQLite
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(overrides, GUANJIA_HOME=str(tmp_path), GUANJIA_CHROMIUM="/nonexistent")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "tests/web/test_browser.py::test_home_chart_renders",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_missing_chromium_fails_when_the_browser_is_required(tmp_path):
    r = _run_browser_test(tmp_path, GUANJIA_REQUIRE_BROWSER="1")
    assert r.returncode != 0, r.stdout
    assert "chromium is not installed" in r.stdout


def test_missing_chromium_fails_in_ci(tmp_path):
    r = _run_browser_test(tmp_path, CI="true")
    assert r.returncode != 0, r.stdout


def test_missing_chromium_skips_elsewhere(tmp_path):
    r = _run_browser_test(tmp_path)
    assert r.returncode == 0, r.stdout
    assert "1 skipped" in r.stdout
