"""`guanjia telemetry trips --date 2026-03-04 [--agency ID] [--json]`: segment the day's
positions (archive and write-ahead segments, China-time day) of every registered terminal
into trips, match them to dispatch orders, store them (a re-run updates) and raise the
odometers. Prints {"day", "vehicles", "positions", "trips", "matched", "distance_km"}."""

from datetime import date

SUMMARY = "行程：按日从定位点切分行程并匹配派车单"


def add_arguments(parser):
    parser.add_argument("--date", required=True, help="日期（YYYY-MM-DD，北京时间）")
    parser.add_argument("--agency", type=int, help="只处理该单位及下级单位的车辆（单位 id）")


def run(options) -> dict:
    from guanjia.core.models import Agency

    from .. import trips

    try:
        day = date.fromisoformat(options["date"])
    except ValueError:
        raise ValueError(f"日期格式应为 YYYY-MM-DD：{options['date']}") from None
    agency = None
    if options.get("agency"):
        agency = Agency.objects.filter(pk=options["agency"]).first()
        if agency is None:
            raise LookupError(f"没有 id 为 {options['agency']} 的单位")
    return trips.run_day(day, agency=agency)


def render(result: dict) -> str:
    return (
        f"{result['day']}：{result['vehicles']} 辆车 {result['positions']} 个定位点，"
        f"切分出 {result['trips']} 段行程（{result['matched']} 段匹配到派车单），"
        f"合计 {result['distance_km']} 公里"
    )
