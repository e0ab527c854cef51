"""Issue 5 figure (d) with its baseline in the same run: trips + rules over a day of the
archive (10,000 vehicles × 24 h at 30 s = 28.8 M points; target ≥ 2 M points/s), columnar
(telemetry/batch.py) against the plain Python path (the streaming `rules.Engine`, a
per-position loop, and `trips.segment` per terminal) over the same points.

    .venv/bin/python bench/bench_trips_rules.py [--vehicles 10000] [--baseline-vehicles 500]

The day is written untimed in the archive's layout by bench_batch.write_day (zstd Parquet,
the same synthetic fleet as bench_rules.py / bench_batch.py, one file per hour). With
`--layout compacted` (the default) each file is then rewritten as archive.compact writes
it: sorted by terminal then time, 65,536-row groups; `--layout time-major` keeps
write_day's files in time then terminal order (every file must then be re-sorted). Timed:

- columnar: `day_chunks.day_chunks` (read Parquet, sort, dedupe; terminal ranges of ~2 M
  points), `batch.evaluate` (every rule) and `batch.segment` (trips) over each chunk in turn,
  the first read of the day in the process; `--whole-day` times the earlier path instead:
  `batch.day_columns` of the whole day, then evaluate and segment over it;
- baseline: the first `--baseline-vehicles` vehicles' points of the same columns turned into
  `Position` tuples (untimed), then `Engine.evaluate` + `finish` and `trips.segment` per
  terminal (timed) — measured on that subset and scaled per point, because the Python loop
  over all 28.8 M points would take ~10 minutes on this machine. The subset's episodes
  from both paths are compared (counts by rule) and printed.

The ratio is columnar points/s over baseline points/s for rules + trips (the read is the
same for both and is printed separately); `ratio_with_read` is the end-to-end columnar
figure (read + rules + trips) over the same baseline. Prints one line of JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vehicles", type=int, default=10000)
    parser.add_argument("--hours", type=float, default=24)
    parser.add_argument("--interval", type=int, default=30)
    parser.add_argument("--baseline-vehicles", type=int, default=500)
    parser.add_argument("--layout", choices=["compacted", "time-major"], default="compacted")
    parser.add_argument("--whole-day", action="store_true", help="time day_columns + whole day")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="guanjia-bench-"))
    os.environ["GUANJIA_HOME"] = str(home)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanjia.settings")
    import django

    django.setup()
    from datetime import datetime

    import numpy as np

    from bench.bench_batch import write_day
    from bench.bench_rules import build_directory
    from guanjia.telemetry import batch, trips
    from guanjia.telemetry.day_chunks import day_chunks
    from guanjia.telemetry.positions import CHINA, Position
    from guanjia.telemetry.rules import Engine

    day0 = int(datetime(2026, 3, 4, tzinfo=CHINA).timestamp())
    end = day0 + int(args.hours * 3600)
    d, homes = build_directory(args.vehicles, day0)
    write_day(home, args.vehicles, args.hours, args.interval, day0, homes)
    if args.layout == "compacted":
        import pyarrow.parquet as pq

        from guanjia.telemetry import archive

        for f in archive.parquet_files(archive.archive_root(home)):
            table = pq.read_table(f).sort_by([("terminal", "ascending"), ("time", "ascending")])
            pq.write_table(table, f, row_group_size=65536, compression="zstd")

    m = min(args.baseline_vehicles, args.vehicles)
    wanted = {str(13800000000 + i) for i in range(m)}
    positions: list[Position] = []  # the baseline's points, taken from the columns untimed

    def take_baseline_points(cols) -> None:
        codes = np.array([i for i, k in enumerate(cols.keys) if k in wanted], dtype=np.int64)
        mask = np.isin(cols.code, codes)
        rows = zip(
            cols.code[mask].tolist(),
            cols.t[mask].tolist(),
            cols.lat[mask].tolist(),
            cols.lon[mask].tolist(),
            cols.speed[mask].tolist(),
            cols.status[mask].tolist(),
            cols.mileage[mask].tolist(),
            strict=True,
        )
        positions.extend(
            Position(cols.keys[c], t, la, lo, s, 0, 0, 0, st, None if mi != mi else mi)
            for c, t, la, lo, s, st, mi in rows
        )

    t0 = time.perf_counter()
    if args.whole_day:
        chunks = iter([batch.day_columns(day0, end, home=home)])
    else:
        chunks = day_chunks(day0, end, home=home)
    t_read = t_rules = t_trips = 0.0
    items, cuts, n, n_chunks = [], [], 0, 0
    for cols in chunks:
        t1 = time.perf_counter()
        t_read += t1 - t0
        items += batch.evaluate(cols, d)
        t2 = time.perf_counter()
        t_rules += t2 - t1
        cuts += batch.segment(cols)
        t_trips += time.perf_counter() - t2
        n += len(cols)
        n_chunks += 1
        take_baseline_points(cols)
        del cols
        t0 = time.perf_counter()

    # Baseline: the same points of the first m vehicles, through the Python loop.
    by_terminal: dict[str, list[Position]] = {}
    for p in positions:
        by_terminal.setdefault(p.terminal, []).append(p)
    d_base, _h = build_directory(args.vehicles, day0)
    t0 = time.perf_counter()
    engine = Engine(d_base, now=lambda: end)
    engine.evaluate(positions)
    engine.finish()
    t_base_rules = time.perf_counter() - t0
    t0 = time.perf_counter()
    base_trips = sum(len(trips.segment(ps)) for ps in by_terminal.values())
    t_base_trips = time.perf_counter() - t0
    nb = len(positions)

    base_by_rule: dict[str, int] = {}
    for item in engine.pending:
        if item["what"] == "open":
            base_by_rule[item["rule"]] = base_by_rule.get(item["rule"], 0) + 1
    sub = [i for i in items if i["terminal"] in wanted]
    col_by_rule: dict[str, int] = {}
    for i in sub:
        col_by_rule[i["rule"]] = col_by_rule.get(i["rule"], 0) + 1
    col_trips_subset = sum(1 for c in cuts if c["terminal"] in wanted)

    columnar = n / (t_rules + t_trips)
    baseline = nb / (t_base_rules + t_base_trips)
    print(
        json.dumps(
            {
                "points": n,
                "fleet": f"{args.vehicles} vehicles x {args.hours:g} h at {args.interval} s",
                "layout": args.layout,
                "read": "day_columns (whole day)" if args.whole_day else "day_chunks",
                "chunks": n_chunks,
                "read_s": round(t_read, 1),
                "read_points_per_s": round(n / t_read),
                "rules_s": round(t_rules, 1),
                "trips_s": round(t_trips, 1),
                "columnar_points_per_s": round(columnar),
                "columnar_with_read_points_per_s": round(n / (t_read + t_rules + t_trips)),
                "baseline_points": nb,
                "baseline_rules_s": round(t_base_rules, 1),
                "baseline_trips_s": round(t_base_trips, 1),
                "baseline_points_per_s": round(baseline),
                "baseline_scaled_full_day_s": round(n / baseline),
                "ratio": round(columnar / baseline, 1),
                "ratio_with_read": round(n / (t_read + t_rules + t_trips) / baseline, 1),
                "subset_episodes_columnar": dict(sorted(col_by_rule.items())),
                "subset_episodes_python": dict(sorted(base_by_rule.items())),
                "subset_trips_columnar": col_trips_subset,
                "subset_trips_python": base_trips,
            }
        )
    )


if __name__ == "__main__":
    main()
