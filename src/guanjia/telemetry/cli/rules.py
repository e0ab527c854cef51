"""`guanjia telemetry rules --date 2026-03-04 [--json]`: re-run the misuse rules over one
China-time day of positions from the archive (and the write-ahead segments) with the
columnar evaluator (batch.py) — back-filled blind-area points included, which the streaming
engine skips when they arrive late. The same episodes get the same dedup keys as the
streaming engine's, so nothing is opened twice; prints
{"day", "positions", "episodes", "opened", "by_rule"}."""

from datetime import date

SUMMARY = "监控规则：按日重算（含盲区补报的定位点）"


def add_arguments(parser):
    parser.add_argument("--date", required=True, help="日期（YYYY-MM-DD，北京时间）")


def run(options) -> dict:
    from .. import batch, trips

    try:
        day = date.fromisoformat(options["date"])
    except ValueError:
        raise ValueError(f"日期格式应为 YYYY-MM-DD：{options['date']}") from None
    start, end = trips.day_bounds(day)
    return {"day": day.isoformat(), **batch.run_rules(batch.day_columns(start, end))}


def render(result: dict) -> str:
    rules = "，".join(f"{k} {v}" for k, v in sorted(result["by_rule"].items())) or "无"
    return (
        f"{result['day']}：{result['positions']} 个定位点，{result['episodes']} 段违规"
        f"（{rules}），新立案 {result['opened']} 条"
    )
