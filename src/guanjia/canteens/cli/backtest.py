"""`guanjia canteen backtest --csv FILE [--json]`: how well each model would have
forecast a diner series.

FILE has the columns `date,diners` (0 = closed; a day missing inside the range counts as
closed). Rolling origin: 8 origins 14 days apart, the last window ending on the last date;
each model is fitted on the days before its origin and forecasts the next 14; MAPE (%) and
MAE over the served days (diners > 0; a 0 forecast on a served day is a 100 % error).
Output: {"models": {name: {"mape", "mae", "days"}}, "origins": [...], "series": {...}}.
A bad file: {"errors": [{"row", "column", "message"}]} and exit status 1.
"""

from .. import forecasting
from ..diners_io import FileRowsError, read_series_file

SUMMARY = "就餐人数预测回测：季节朴素、AutoETS 与本平台模型的 MAPE/MAE"


def add_arguments(parser):
    parser.add_argument("--csv", required=True, help="date,diners 两列的 CSV（或 .xlsx）文件")
    parser.add_argument("--origins", type=int, default=8, help="预测起点个数（默认 8）")
    parser.add_argument("--step", type=int, default=14, help="起点间隔天数（默认 14）")
    parser.add_argument("--horizon", type=int, default=14, help="预测天数（默认 14）")


def run(options) -> dict:
    try:
        pairs = read_series_file(options["csv"])
    except FileRowsError as exc:
        return {"failed": True, "message": "文件有误，未回测", "errors": exc.errors}
    except OSError as exc:
        return {"failed": True, "errors": [{"row": 0, "column": "", "message": str(exc)}]}
    series = forecasting.Series.from_pairs(pairs)
    try:
        found = forecasting.origins(series, options["origins"], options["step"], options["horizon"])
        models = forecasting.backtest(
            series, count=options["origins"], step=options["step"], horizon=options["horizon"]
        )
    except ValueError as exc:
        return {"failed": True, "errors": [{"row": 0, "column": "", "message": str(exc)}]}
    return {
        "models": models,
        "origins": [d.isoformat() for d in found],
        "series": {
            "start": series.start.isoformat(),
            "end": series.end.isoformat(),
            "days": len(series.values),
            "served_days": int((series.values > 0).sum()),
        },
    }


def render(result: dict) -> str:
    if result.get("errors"):
        return "\n".join(
            f"第 {e['row']} 行 {e['column']}：{e['message']}" for e in result["errors"]
        )
    lines = [f"{'模型':<16}{'MAPE(%)':>10}{'MAE':>10}"]
    for name, m in result["models"].items():
        lines.append(f"{name:<16}{m['mape']:>10.2f}{m['mae']:>10.1f}")
    s = result["series"]
    lines.append(f"序列 {s['start']} 至 {s['end']}，{s['served_days']} 个供餐日")
    lines.append(f"预测起点 {', '.join(result['origins'])}")
    return "\n".join(lines)
