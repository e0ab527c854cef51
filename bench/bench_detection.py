"""Issue 5 "done means": planted misuse detected, at size (recall and precision per rule).

    .venv/bin/python bench/bench_detection.py [--terminals 200] [--days 2] [--interval 30]
        [--speedup 2400] [--share 0.25] [--seed 5]

The loop of tests/telemetry/test_detection.py on a fresh GUANJIA_HOME (SQLite, migrated):
a register of `terminals` cars with garages at an agency in Chongqing and one in Sichuan,
the real `guanjia gateway` subprocess (rule engine in-process), the simulator's fleet for
`days` of GNSS time from 07:00 of the next workday, compressed `speedup` times; once the
engine's writer has flushed, the MisuseCase rows are scored against the planted episodes of
the simulator's ground truth (same matching and tolerance as the test; tm_no_order excluded
from the overall figures, see there).

Baseline, same run: the batch evaluator (telemetry/batch.py) over the same positions read
back from the gateway's write-ahead segments (batch.day_columns), scored the same way, and
its episodes compared with the streaming cases by dedup key (agreement). Throughput:
streaming = positions acknowledged by the gateway (decode, durable ack, live state, rules,
case writes) per wall second of the simulation — paced by `speedup`, so a floor, not a
ceiling (the simulator's own process keeps pace up to about 2400 × 200 terminals here;
`sim_wall_s` against `paced_wall_s` shows whether it did); the gateway's frame limiter is
opened up as in the test; batch = points per second of batch.evaluate; plus the streaming
Engine alone over the same positions in this process (its capacity, without the network).
Prints the tables and one line of JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def setup(home: Path) -> None:
    os.environ["GUANJIA_HOME"] = str(home)
    os.environ.pop("GUANJIA_DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanjia.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_agencies() -> dict:
    from guanjia.core import services
    from tests.conftest import REGIONS

    rows = json.loads(REGIONS.read_text())["regions"]
    wanted = {"500000", "500111", "510000", "510100"}
    services.load_regions([r for r in rows if r["code"] in wanted])
    from guanjia.core.models import Region

    regions = {r.code: r for r in Region.objects.all()}
    a = services.create_agency(
        None, name="大足区机关事务管理中心", kind="centre", region=regions["500111"]
    )
    b = services.create_agency(
        None, name="成都市机关事务管理局", kind="bureau", region=regions["510100"]
    )
    return {"500000": a, "510000": b}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--terminals", type=int, default=200)
    parser.add_argument("--days", type=float, default=2)
    parser.add_argument("--interval", type=float, default=30)
    parser.add_argument("--speedup", type=float, default=2400)
    parser.add_argument("--share", type=float, default=0.25)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the temporary GUANJIA_HOME")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="guanjia-bench-detect-"))
    setup(home)
    from django.conf import settings

    from guanjia.telemetry import batch
    from guanjia.telemetry.positions import Position
    from guanjia.telemetry.rules import Directory, Engine
    from tests.telemetry.test_detection import build_register, format_score, run_detection, score

    t0 = time.perf_counter()
    build_register(make_agencies(), args.terminals, seed=args.seed)
    t_register = time.perf_counter() - t0
    db_url = f"sqlite:///{settings.DATABASES['default']['NAME']}"
    run = run_detection(
        home, db_url, terminals=args.terminals, duration_s=args.days * 86400,
        speedup=args.speedup, seed=args.seed, share=args.share, interval=args.interval,
    )  # fmt: skip
    report = run["report"]
    truth = report["ground_truth"]
    streaming = score(truth, run["cases"])
    stream_pps = report["acknowledged"] / report["wall_s"]

    # Baseline: the batch evaluator over the same positions, read back from the segments.
    start = int(datetime_of(report["gnss_start"]))
    end = int(datetime_of(report["gnss_end"])) + 1
    t0 = time.perf_counter()
    cols = batch.day_columns(start, end, home=home)
    t_read = time.perf_counter() - t0
    d = Directory()
    d.refresh(int(cols.t.min()), int(cols.t.max()), force=True)
    t0 = time.perf_counter()
    items = batch.evaluate(cols, d)
    t_batch = time.perf_counter() - t0
    batch_cases = [
        {"rule": i["rule"], "terminal": i["terminal"], "start": i["start"], "end": i["end"]}
        for i in items
    ]
    batched = score(truth, batch_cases)
    stream_keys = {(c["terminal"], c["rule"], int(c["start"])) for c in run["cases"]}
    batch_keys = {(c["terminal"], c["rule"], int(c["start"])) for c in batch_cases}

    # The streaming engine alone over the same positions (no network, no writes).
    keys = cols.keys
    positions = [
        Position(keys[c], t, la, lo, s, 0, 0, 0, st, None if mi != mi else mi)
        for c, t, la, lo, s, st, mi in zip(
            cols.code.tolist(), cols.t.tolist(), cols.lat.tolist(), cols.lon.tolist(),
            cols.speed.tolist(), cols.status.tolist(), cols.mileage.tolist(), strict=True,
        )
    ]  # fmt: skip
    positions.sort(key=lambda p: p.time)
    engine = Engine(Directory(), now=lambda: end)
    t0 = time.perf_counter()
    engine.evaluate(positions)
    engine.finish()
    t_engine = time.perf_counter() - t0

    n = len(cols)
    print(f"streaming (gateway subprocess, rules in-process) — {len(run['cases'])} cases")
    print(format_score(streaming))
    print(f"\nbaseline: batch.evaluate over the same {n} positions — {len(items)} episodes")
    print(format_score(batched))
    out = {
        "fleet": f"{args.terminals} terminals x {args.days:g} d at {args.interval:g} s",
        "speedup": args.speedup,
        "gnss": [report["gnss_start"], report["gnss_end"]],
        "register_s": round(t_register, 1),
        "sent": report["sent"],
        "acknowledged": report["acknowledged"],
        "sim_errors": report["error_count"],
        "gateway_rate_limited": run["gateway"].get("rate_limited"),
        "sim_wall_s": report["wall_s"],
        "paced_wall_s": round(args.days * 86400 / args.speedup, 1),
        "flush_wait_s": round(run["flush_wait_s"], 1),
        "planted": report["planted"],
        "streaming": {
            "overall": streaming["overall"],
            "by_rule": {r: [v["recall"], v["precision"]] for r, v in streaming["rules"].items()},
            "positions_per_s": round(stream_pps),
        },
        "batch": {
            "overall": batched["overall"],
            "by_rule": {r: [v["recall"], v["precision"]] for r, v in batched["rules"].items()},
            "read_s": round(t_read, 2),
            "evaluate_s": round(t_batch, 2),
            "points_per_s": round(n / t_batch),
        },
        "engine_alone_points_per_s": round(n / t_engine),
        "streaming_vs_batch_pps_ratio": round(stream_pps / (n / t_batch), 4),
        "engine_vs_batch_pps_ratio": round((n / t_engine) / (n / t_batch), 3),
        "agreement": {
            "both": len(stream_keys & batch_keys),
            "streaming_only": len(stream_keys - batch_keys),
            "batch_only": len(batch_keys - stream_keys),
            "jaccard": round(
                len(stream_keys & batch_keys) / max(1, len(stream_keys | batch_keys)), 4
            ),
        },
        "tolerance_s": streaming["tolerance_s"],
    }
    print(json.dumps(out, ensure_ascii=False))
    if not args.keep:
        shutil.rmtree(home, ignore_errors=True)


def datetime_of(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text).timestamp()


if __name__ == "__main__":
    main()
