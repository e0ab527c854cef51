"""`guanjia telemetry rules --date 2026-03-04 [--json]`: re-run the misuse rules over one
China-time day of positions from the archive (and the write-ahead segments), terminal by
terminal in GNSS-time order — back-filled blind-area points included, which the streaming
engine skips when they arrive late. Cases already opened for an episode are not opened again
(same dedup key); prints what was opened and the engine's counters."""

from datetime import date

SUMMARY = "监控规则：按日重算（含盲区补报的定位点）"


def add_arguments(parser):
    parser.add_argument("--date", required=True, help="日期（YYYY-MM-DD，北京时间）")


def _positions(start: int, end: int):
    from .. import archive
    from ..positions import Position

    con = archive.connect(start, end)
    try:
        cols = ", ".join(archive.COLUMNS)
        cur = con.execute(f"SELECT {cols} FROM positions ORDER BY terminal, time")
        while rows := cur.fetchmany(20000):
            yield from (Position(*r) for r in rows)
    finally:
        con.close()


def run(options) -> dict:
    from .. import rules, trips

    try:
        day = date.fromisoformat(options["date"])
    except ValueError:
        raise ValueError(f"日期格式应为 YYYY-MM-DD：{options['date']}") from None
    start, end = trips.day_bounds(day)
    return rules.run_day(day, _positions(start, end))
