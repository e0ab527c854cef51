"""Issue 5 "done means": the simulator's planted misuse episodes are detected.

A small register (cars with terminals and garages at agencies in Chongqing and Sichuan), the
real `guanjia gateway` in a subprocess (same database and GUANJIA_HOME; it runs the rule
engine in-process), the simulator's fleet from that register over TCP for a day of GNSS time
with planted episodes, then the telemetry MisuseCase rows against the simulator's ground
truth (`score`): per rule, recall = planted episodes matched by a case / planted episodes,
precision = cases matching a planted episode / cases.

Matching: a case matches a truth episode of the same rule and terminal when the case's
[episode_start, episode_end] overlaps the episode's [start, end] widened by TOLERANCE_S on
each side (two report intervals: the engine and the truth mark an episode from the same
delivered positions, but the garage rule's case starts at its check instant, the silent
rule's at the last report before the gap, and a case's end is where the episode stood when
the writer last updated it).

tm_no_order is left out of the overall figures: simulated cars have no dispatch orders, so
every trip is (rightly) a no-order episode, which the truth lists as not planted. It is
still measured, against those unplanted truth entries, and printed. Cases matching an
unplanted truth episode of another rule (e.g. a car back from a long jurisdiction trip
after 22:00 really drives at night) are counted as "consequences": they are what the
platform should see, but not what was planted; precision counts them as wrong.

GNSS time starts at 07:00 of the next workday (China time), in the future: the engine's
writer thread ticks with the wall clock (silences, stale episodes), and a past GNSS time
would make every moving car look silent to it; time runs ahead of the wall clock here.
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from guanjia.telemetry import simulator as sim
from guanjia.telemetry.calendar import WORKDAY, day_kind
from guanjia.telemetry.gateway import status_path

ROOT = Path(__file__).resolve().parents[2]
TOLERANCE_S = 60
RULES = (*sim.MISUSE_KINDS, sim.NO_ORDER)
EXCLUDED = {sim.NO_ORDER}  # not planted: every simulated trip lacks an order


# -- setting up ---------------------------------------------------------------------------


def next_workday_morning(now: float | None = None, hour: int = 7) -> float:
    """07:00 China time of the first workday whose morning is still ahead."""
    now = time.time() if now is None else now
    day = datetime.fromtimestamp(now, sim.CHINA).date()
    for k in range(30):
        d = day + timedelta(days=k)
        t = datetime(d.year, d.month, d.day, hour, tzinfo=sim.CHINA).timestamp()
        if t > now + 60 and day_kind(d) == WORKDAY:
            return t
    raise AssertionError("no workday within 30 days")


def build_register(agencies: dict, n: int, seed: int = 5) -> None:
    """`n` cars with terminals 1380xxxxxxx and a garage each near a city of their agency's
    province (`agencies`: province code → Agency); every third in Chongqing."""
    from guanjia.vehicles import services as vs
    from tests.vehicles.conftest import vehicle_fields

    rnd = random.Random(seed)
    for i in range(n):
        province = "500000" if i % 3 == 0 else "510000"
        agency = agencies[province]
        lat, lon = rnd.choice(sim.CITIES[province])
        garage = vs.create_garage(
            None,
            agency=agency,
            name=f"仿真停车场{i:05d}",
            lat=lat + rnd.uniform(-0.03, 0.03),
            lon=lon + rnd.uniform(-0.03, 0.03),
            radius_m=150,
        )
        vs.create_vehicle(
            None, **vehicle_fields(agency, terminal_number=f"1380{i:07d}", garage=garage)
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gateway(home: Path, port: int, database_url: str) -> subprocess.Popen:
    """`guanjia gateway` (rules in-process: no GUANJIA_REDIS_URL) until it accepts.

    The per-terminal frame limiter is opened up (rate and burst): time compression makes
    every terminal send `speedup / interval` frames a second, and a terminal whose task fell
    behind the wall clock writes its backlog in one burst; frames the limiter dropped would
    be gaps in the track that the ground truth does not know about (false silences)."""
    env = {k: v for k, v in os.environ.items() if k != "GUANJIA_REDIS_URL"}
    env |= {
        "GUANJIA_HOME": str(home),
        "GUANJIA_DATABASE_URL": database_url,
        "GUANJIA_GW_FRAMES_PER_SECOND": "1000000",
        "GUANJIA_GW_BURST_FRAMES": "1000000",
    }
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
    proc.kill()
    raise AssertionError("the gateway did not start")


def telemetry_cases() -> list[dict]:
    from guanjia.vehicles.models import MisuseCase

    out = []
    rows = MisuseCase.objects.filter(rule__startswith="tm_").values_list(
        "rule", "dedup_key", "episode_start", "episode_end"
    )
    for rule, key, start, end in rows:
        s = start.timestamp()
        out.append(
            {
                "rule": rule,
                "terminal": key.split(":")[1],
                "start": s,
                "end": end.timestamp() if end else s,
            }
        )
    return out


def wait_flushed(home: Path, port: int, timeout_s: float = 120, quiet_s: float = 3) -> float:
    """Until the gateway's sink backlog is empty and no case row has appeared or changed for
    `quiet_s` (the writer flushes every 0.2 s); returns the seconds waited."""
    from django.db.models import Count, Max

    from guanjia.vehicles.models import MisuseCase

    t0 = time.monotonic()
    last, since = None, time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        try:
            status = json.loads(status_path(home, port).read_text())
            backlog = status.get("sink_backlog", 0)
        except (OSError, ValueError):
            backlog = 0
        now = MisuseCase.objects.filter(rule__startswith="tm_").aggregate(
            n=Count("id"), end=Max("episode_end")
        )
        if now != last or backlog:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return time.monotonic() - t0
        time.sleep(0.25)
    raise AssertionError(f"cases still changing after {timeout_s} s")


def stop(proc: subprocess.Popen) -> str:
    proc.terminate()
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out or ""


# -- scoring ------------------------------------------------------------------------------


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def _overlaps(case: dict, ep: dict, tol: float) -> bool:
    return (
        case["terminal"] == ep["terminal"]
        and case["start"] <= ep["end"] + tol
        and case["end"] >= ep["start"] - tol
    )


def score(truth: list[dict], cases: list[dict], tolerance_s: float = TOLERANCE_S) -> dict:
    """Recall and precision per rule (see the module docstring); "overall" over the rules
    not in EXCLUDED; tm_no_order measured against its unplanted truth entries."""
    episodes = [e | {"start": _epoch(e["start"]), "end": _epoch(e["end"])} for e in truth]
    rules = sorted({*RULES, *(c["rule"] for c in cases)})
    per_rule = {}
    tot = {"planted": 0, "detected": 0, "cases": 0, "correct": 0, "consequences": 0}
    for rule in rules:
        mine = [c for c in cases if c["rule"] == rule]
        if rule in EXCLUDED:
            planted = [e for e in episodes if e["rule"] == rule]  # all unplanted here
        else:
            planted = [e for e in episodes if e["rule"] == rule and e["planted"]]
        other = [e for e in episodes if e["rule"] == rule and not e["planted"]]
        detected = sum(any(_overlaps(c, e, tolerance_s) for c in mine) for e in planted)
        correct = [c for c in mine if any(_overlaps(c, e, tolerance_s) for e in planted)]
        consequences = sum(
            1 for c in mine if c not in correct and any(_overlaps(c, e, tolerance_s) for e in other)
        )
        row = {
            "planted": len(planted),
            "detected": detected,
            "cases": len(mine),
            "correct": len(correct),
            "consequences": consequences,
            "recall": round(detected / len(planted), 3) if planted else None,
            "precision": round(len(correct) / len(mine), 3) if mine else None,
        }
        per_rule[rule] = row
        if rule not in EXCLUDED:
            for k in tot:
                tot[k] += row[k]
    tot["recall"] = round(tot["detected"] / tot["planted"], 3) if tot["planted"] else None
    tot["precision"] = round(tot["correct"] / tot["cases"], 3) if tot["cases"] else None
    return {"rules": per_rule, "overall": tot, "tolerance_s": tolerance_s}


def format_score(result: dict) -> str:
    lines = [f"{'rule':20} planted detected  recall  cases correct conseq precision"]
    for rule, r in [*result["rules"].items(), ("overall", result["overall"])]:
        note = "  (unplanted: every trip)" if rule in EXCLUDED else ""
        lines.append(
            f"{rule:20} {r['planted']:7} {r['detected']:8} {r['recall']!s:>7} "
            f"{r['cases']:6} {r['correct']:7} {r['consequences']:6} {r['precision']!s:>9}{note}"
        )
    return "\n".join(lines)


def run_detection(
    home: Path,
    database_url: str,
    *,
    terminals: int,
    duration_s: float,
    speedup: float,
    seed: int,
    share: float,
    interval: float = 30,
) -> dict:
    """The whole loop on the register in the database: gateway subprocess, simulator,
    flush, stop; returns the simulator's report, the cases and timings."""
    from guanjia.telemetry.management.commands.simulate import register_specs

    specs = register_specs(terminals, share)
    port = free_port()
    proc = start_gateway(home, port, database_url)
    try:
        cfg = sim.Config(
            "127.0.0.1",
            port,
            len(specs),
            interval=interval,
            duration=duration_s,
            speedup=speedup,
            seed=seed,
            start=next_workday_morning(),
            ramp_s=1.0,
        )
        report = sim.simulate(specs, cfg)
        waited = wait_flushed(home, port)
    finally:
        log = stop(proc)
    try:
        counters = json.loads(status_path(home, port).read_text())["counters"]
    except (OSError, ValueError, KeyError):
        counters = {}
    return {
        "report": report,
        "cases": telemetry_cases(),
        "flush_wait_s": waited,
        "gateway": counters,
        "log": log,
    }


# -- the test -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_planted_misuse_is_detected_by_the_gateway_rules(tmp_path, world, settings):
    from .test_gateway_crash import database_url

    settings.HOME = tmp_path
    build_register({"500000": world["A"], "510000": world["B"]}, 30)
    run = run_detection(
        tmp_path, database_url(), terminals=30, duration_s=86400, speedup=2400, seed=5, share=0.5
    )
    report = run["report"]
    assert report["authenticated"] == 30, report["errors"]
    assert report["acknowledged"] == report["sent"], (report["errors"], run["gateway"])
    truth = report["ground_truth"]
    assert {e["rule"] for e in truth if e["planted"]} == set(sim.MISUSE_KINDS), truth
    result = score(truth, run["cases"])
    print()
    print(format_score(result))
    overall = result["overall"]
    assert overall["recall"] >= 0.9, result
    assert overall["precision"] >= 0.8, result
    for rule in sim.MISUSE_KINDS:  # every kind is found at least once
        assert result["rules"][rule]["detected"] >= 1, (rule, result)
