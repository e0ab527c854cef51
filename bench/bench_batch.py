"""Trips + rules over a day of the archive: N vehicles reporting every S seconds.

The day is written first (not timed) in the archive's own layout — zstd Parquet under
`GUANJIA_HOME/telemetry/archive/date=…/region=…/`, one file per hour — from the same kind
of synthetic fleet as bench_rules.py (parked at night at their garage, driving 08:00–18:00,
one car in ten without a dispatch order, one in 97 speeding). Then, timed:

1. read: `batch.day_columns` — the day's Parquet files (pyarrow, terminal kept
   dictionary-encoded) and the write-ahead segments (empty here), to columns sorted by
   terminal and time with duplicates on (terminal, time) dropped;
2. rules: `batch.evaluate` — every rule, episodes folded, case items built;
3. trips: `batch.segment` — the trip cuts with distance, odometer and top speed.

The figure is points per second over the three steps together (the issue's target for a
day of 10,000 vehicles is ≥ 2,000,000 points/s), and for rules + trips alone.

    .venv/bin/python bench/bench_batch.py [--vehicles 10000] [--hours 24] [--interval 30]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def write_day(home: Path, n: int, hours: float, interval: int, day0: int, homes) -> int:
    import numpy as np
    import pyarrow.parquet as pq

    from guanjia.telemetry import archive, wal

    rng = np.random.default_rng(11)
    keys = np.array([str(13800000000 + i).encode() for i in range(n)], dtype="S20")
    heading = rng.uniform(0, 2 * np.pi, n)
    cruise = rng.uniform(30, 60, n)
    cruise[::97] = 130
    lat, lon = homes[:, 0].copy(), homes[:, 1].copy()
    mileage = rng.uniform(1000, 90000, n)
    ticks = int(hours * 3600 // interval)
    per_file = max(1, 3600 // interval)
    total = 0
    chunk = []
    for k in range(ticks):
        t = day0 + k * interval
        sod = k * interval % 86400
        rec = np.zeros(n, dtype=wal.DTYPE)
        rec["terminal"] = keys
        rec["time"] = t
        if 8 * 3600 <= sod < 18 * 3600:
            speed = np.maximum(0, cruise + rng.normal(0, 3, n))
            heading += rng.normal(0, 0.2, n)
            km = speed * interval / 3600
            lat += km * np.cos(heading) / 111.32
            lon += km * np.sin(heading) / (111.32 * np.cos(np.radians(lat)))
            mileage += km
            rec["status"] = 3
        else:
            speed = np.zeros(n)
            lat[:], lon[:] = homes[:, 0], homes[:, 1]
            rec["status"] = 2
        rec["lat"], rec["lon"], rec["speed_kmh"] = lat, lon, speed
        rec["mileage_km"] = mileage.round(1)
        rec["fuel_l"] = np.nan
        chunk.append(rec)
        if len(chunk) == per_file or k == ticks - 1:
            arr = np.concatenate(chunk)
            chunk = []
            day = archive.day_name(int(archive.china_days(np.int64(arr["time"][0]))))
            folder = archive.archive_root(home) / f"date={day}" / "region=510000"
            folder.mkdir(parents=True, exist_ok=True)
            pq.write_table(
                archive.to_table(arr), folder / f"bench-{k:05d}.parquet", compression="zstd"
            )
            total += len(arr)
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vehicles", type=int, default=10000)
    parser.add_argument("--hours", type=float, default=24)
    parser.add_argument("--interval", type=int, default=30)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="guanjia-bench-batch-"))
    os.environ["GUANJIA_HOME"] = str(home)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanjia.settings")
    import django

    django.setup()
    import sys
    from datetime import datetime

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_rules import build_directory

    from guanjia.telemetry import batch
    from guanjia.telemetry.positions import CHINA

    day0 = int(datetime(2026, 3, 4, tzinfo=CHINA).timestamp())
    d, homes = build_directory(args.vehicles, day0)
    t0 = time.perf_counter()
    written = write_day(home, args.vehicles, args.hours, args.interval, day0, homes)
    print(f"archive: {written:,} positions written in {time.perf_counter() - t0:.1f} s (untimed)")

    t0 = time.perf_counter()
    cols = batch.day_columns(day0, day0 + int(args.hours * 3600), home=home)
    t_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    items = batch.evaluate(cols, d)
    t_rules = time.perf_counter() - t0
    t0 = time.perf_counter()
    trips = batch.segment(cols)
    t_trips = time.perf_counter() - t0
    n = len(cols)
    total = t_read + t_rules + t_trips
    by_rule: dict[str, int] = {}
    for i in items:
        by_rule[i["rule"]] = by_rule.get(i["rule"], 0) + 1
    fleet = f"{args.vehicles:,} vehicles × {args.hours:g} h at {args.interval} s"
    print(f"positions read: {n:,} ({fleet})")
    print(f"read (Parquet + WAL, dedupe, sort): {t_read:.1f} s = {n / t_read:,.0f} points/s")
    print(f"rules: {t_rules:.1f} s = {n / t_rules:,.0f} points/s; episodes {by_rule}")
    print(f"trips: {t_trips:.1f} s = {n / t_trips:,.0f} points/s; {len(trips):,} trips")
    print(f"rules + trips: {n / (t_rules + t_trips):,.0f} points/s")
    print(f"read + rules + trips: {total:.1f} s = {n / total:,.0f} points/s")


if __name__ == "__main__":
    main()
