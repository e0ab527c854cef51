"""Forecasting 1,000 canteens, and the backtest across canteens the model has not seen.

1. Time: 1,000 canteens, each with two years of lunch counts in the database, forecast for
   the next 14 days through the same path the nightly run and the page's button take
   (`forecasts.refresh`: read the counts and events, fit, store the forecasts). Target
   ≤ 60 s. Baseline measured in the same run: statsforecast AutoETS (weekly season) fitted
   on the same 1,000 series in memory, no database — the library model of the backtest.
2. Accuracy: the rolling-origin backtest (8 origins 14 days apart, as `guanjia canteen
   backtest`) over `--held-out` synthetic canteens with seeds the model was never tuned on,
   mean and worst MAPE per model, ours as a ratio to each baseline.

    .venv/bin/python bench/bench_forecast.py [--canteens 1000] [--held-out 40]
"""

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
import warnings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--canteens", type=int, default=1000)
    parser.add_argument("--held-out", type=int, default=40)
    args = parser.parse_args()

    warnings.filterwarnings("ignore")
    os.environ["GUANJIA_HOME"] = tempfile.mkdtemp(prefix="guanjia-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanjia.settings")
    import django

    django.setup()
    import numpy as np
    from django.core.management import call_command

    from guanjia.canteens import forecasting, forecasts, synthetic
    from guanjia.canteens.models import Canteen, DinerCount, Forecast
    from guanjia.core import audit, services
    from guanjia.core.models import Region

    call_command("migrate", verbosity=0)
    end = dt.date(2026, 10, 31)
    start = end - dt.timedelta(days=730)
    origin = end + dt.timedelta(days=1)

    with audit.paused():
        services.load_regions([{"code": "500000", "name": "重庆市", "level": "province"}])
        region = Region.objects.get(code="500000")
        agency = services.create_agency(None, name="基准测试单位", kind="centre", region=region)
        series = {}
        for i in range(args.canteens):
            canteen = Canteen.objects.create(agency=agency, code=f"b{i:05d}", name=f"食堂{i}")
            pairs = synthetic.series(90_000 + i, start, end)
            series[canteen.pk] = forecasting.Series.from_pairs(pairs)
            DinerCount.objects.bulk_create(
                [DinerCount(canteen=canteen, date=d, meal="lunch", diners=n) for d, n in pairs],
                batch_size=5000,
            )
    canteens = list(Canteen.objects.all())
    print(f"{len(canteens)} canteens × {len(next(iter(series.values())).values)} days loaded")

    t0 = time.perf_counter()
    for canteen in canteens:
        forecasts.refresh(None, canteen, origin=origin)
    ours_s = time.perf_counter() - t0
    stored = Forecast.objects.count()

    t0 = time.perf_counter()
    for s in series.values():
        forecasting.auto_ets(s, 14)
    ets_s = time.perf_counter() - t0

    print(f"guanjia (read, fit, store): {ours_s:.1f} s for {len(canteens)} canteens "
          f"({stored} forecast days stored); target ≤ 60 s")  # fmt: skip
    print(f"AutoETS baseline (fit only, in memory): {ets_s:.1f} s")
    print(f"ratio guanjia / AutoETS time: {ours_s / ets_s:.2f}×")

    mapes: dict[str, list[float]] = {}
    for k in range(args.held_out):
        held = forecasting.Series.from_pairs(synthetic.series(500_000 + k, start, end))
        for name, m in forecasting.backtest(held).items():
            mapes.setdefault(name, []).append(m["mape"])
    print(f"backtest over {args.held_out} held-out canteens (MAPE %, mean / median / worst):")
    for name, values in mapes.items():
        print(f"  {name:<15} {np.mean(values):6.2f} {statistics.median(values):6.2f} "
              f"{max(values):6.2f}")  # fmt: skip
    ours = np.mean(mapes["guanjia"])
    for name in ("seasonal_naive", "AutoETS"):
        print(f"ratio guanjia / {name} mean MAPE: {ours / np.mean(mapes[name]):.2f}×")


if __name__ == "__main__":
    main()
