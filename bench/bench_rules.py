"""The misuse-rule engine alone: a day of N vehicles reporting every S seconds.

Positions come from an in-memory generator, one batch per reporting tick (all N vehicles,
as the gateway hands the engine a durably written batch): cars parked at their garage at
night, driving 08:00–18:00 around their town at 30–60 km/h under a dispatch order (some
without one, a few speeding), with ignition on while driving. The engine runs every rule
(areas tested per batch with shapely), keeps its episodes and queues its cases; nothing is
written to a database (the register is built in memory), so the figure is the engine's.

The baseline is a pass over the same generator that only iterates the positions and reads
one field of each: the figure for the engine is its points per second, and its time over
the baseline's (what the rules add to producing the positions at all).

    .venv/bin/python bench/bench_rules.py [--vehicles 10000] [--hours 24] [--interval 30]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time


def setup_django():
    os.environ.setdefault("GUANJIA_HOME", tempfile.mkdtemp(prefix="guanjia-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanjia.settings")
    import django

    django.setup()


def build_directory(n: int, day0: int):
    import numpy as np

    from guanjia.telemetry import geo
    from guanjia.telemetry import rule_defs as R
    from guanjia.telemetry.rules import Directory, Profile, VehicleInfo

    rng = np.random.default_rng(7)
    settings = R.Settings(rows=[])
    profiles = {"cq": Profile(settings, "/1/"), "sc": Profile(settings, "/2/")}
    d = Directory()
    d.jur_geoms = [geo.province_geometry("500000"), geo.province_geometry("510000")]
    d.generation = 1
    d._vehicles_at = d._orders_at = time.monotonic() + 10**9  # never reload
    d.order_range = (day0 - 10 * 86400, day0 + 10 * 86400)  # loaded: no database
    homes = np.empty((n, 2))
    for i in range(n):
        cq = i % 3 == 0
        base = (29.56, 106.55) if cq else (30.66, 104.07)
        lat, lon = base[0] + rng.normal(0, 0.15), base[1] + rng.normal(0, 0.15)
        homes[i] = lat, lon
        has_order = i % 10 != 0  # one car in ten drives without an order
        orders = [(day0 + 8 * 3600 - 1800, day0 + 18 * 3600 + 1800)] if has_order else []
        info = VehicleInfo(
            id=i + 1,
            plate=f"渝B{i:05d}",
            agency_id=1 if cq else 2,
            agency_path="/1/" if cq else "/2/",
            profile=profiles["cq" if cq else "sc"],
            garage=(lat, lon, 150),
            jur=0 if cq else 1,
            fences=frozenset(),
            orders=orders,
            order_starts=[s for s, _e in orders],
        )
        d.by_terminal[str(13800000000 + i)] = info
        d.by_id[i + 1] = info
    return d, homes


def batches(n: int, hours: float, interval: int, day0: int, homes):
    """One list of Position per tick: N cars, parked at night, driving by day."""
    import numpy as np

    from guanjia.telemetry.positions import Position

    rng = np.random.default_rng(11)
    keys = [str(13800000000 + i) for i in range(n)]
    heading = rng.uniform(0, 2 * np.pi, n)
    cruise = rng.uniform(30, 60, n)
    cruise[::97] = 130  # a few speeders
    lat, lon = homes[:, 0].copy(), homes[:, 1].copy()
    mileage = rng.uniform(1000, 90000, n)
    ticks = int(hours * 3600 // interval)
    zeros = [0] * n
    for k in range(ticks):
        t = day0 + k * interval
        sod = k * interval % 86400
        driving = 8 * 3600 <= sod < 18 * 3600
        if driving:
            speed = cruise + rng.normal(0, 3, n)
            heading += rng.normal(0, 0.2, n)
            km = speed * interval / 3600
            lat += km * np.cos(heading) / 111.32
            lon += km * np.sin(heading) / (111.32 * np.cos(np.radians(lat)))
            mileage += km
            status = 3
        else:
            speed = np.zeros(n)
            lat[:], lon[:] = homes[:, 0], homes[:, 1]
            status = 2
        yield list(
            map(
                Position._make,
                zip(
                    keys,
                    [t] * n,
                    lat.tolist(),
                    lon.tolist(),
                    speed.tolist(),
                    zeros,
                    zeros,
                    zeros,
                    [status] * n,
                    mileage.round(1).tolist(),
                    [None] * n,
                    [0.0] * n,
                    strict=True,
                ),
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vehicles", type=int, default=10000)
    parser.add_argument("--hours", type=float, default=24)
    parser.add_argument("--interval", type=int, default=30)
    args = parser.parse_args()
    setup_django()
    from datetime import datetime

    from guanjia.telemetry.positions import CHINA
    from guanjia.telemetry.rules import Engine

    day0 = int(datetime(2026, 3, 4, tzinfo=CHINA).timestamp())  # a Wednesday
    d, homes = build_directory(args.vehicles, day0)

    t0 = time.perf_counter()
    seen = 0
    for batch in batches(args.vehicles, args.hours, args.interval, day0, homes):
        for p in batch:
            seen += p.time > 0
    base_s = time.perf_counter() - t0

    engine = Engine(d, now=lambda: day0)
    t0 = time.perf_counter()
    for batch in batches(args.vehicles, args.hours, args.interval, day0, homes):
        engine.handle(batch)
    engine.finish()
    run_s = time.perf_counter() - t0

    opened = sum(v for k, v in engine.stats.items() if k.startswith("open:"))
    print(
        f"positions: {seen:,} ({args.vehicles:,} vehicles × {args.hours:g} h at {args.interval} s)"
    )
    print(f"baseline (generate + iterate): {base_s:.1f} s = {seen / base_s:,.0f} points/s")
    print(f"rule engine (generate + rules): {run_s:.1f} s = {seen / run_s:,.0f} points/s")
    extra = run_s - base_s
    print(
        f"rules alone: {extra:.1f} s = {seen / extra:,.0f} points/s; engine/baseline time "
        f"{run_s / base_s:.2f}×"
    )
    print(f"cases proposed: {opened:,} ({dict(sorted(engine.stats.items()))})")


if __name__ == "__main__":
    main()
