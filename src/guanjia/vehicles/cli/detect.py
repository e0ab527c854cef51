"""`guanjia vehicles detect [--agency X] [--since DATE] [--until DATE] [--rule R …] [--json]`:
run the 私车公养 detectors over the fuel and maintenance records (as the system) and open
the new cases. Re-running opens nothing already known, handled cases included.

With --json: {"found": {rule: n}, "opened": {rule: n}, "case_ids": [...], "seconds": s};
found counts every episode seen, opened only the new ones.
"""

import datetime as dt
import time

from ..services import find_agency
from ..signals_private_use import DETECTORS, detect

SUMMARY = "运行私车公养检测（超油箱加油、一卡多车、油耗超定额、登记外车辆加油或维修）"


def add_arguments(parser):
    parser.add_argument("--agency", help="单位名称或统一社会信用代码（含下级单位）")
    parser.add_argument("--since", type=dt.date.fromisoformat, help="起始日期 YYYY-MM-DD")
    parser.add_argument("--until", type=dt.date.fromisoformat, help="截止日期（不含）")
    parser.add_argument("--rule", action="append", choices=sorted(DETECTORS), help="只运行该规则")


def run(options) -> dict:
    agency = find_agency(options["agency"]) if options.get("agency") else None
    started = time.perf_counter()
    result = detect(
        None,
        agency=agency,
        since=options.get("since"),
        until=options.get("until"),
        rules=options.get("rule"),
    )
    return result | {"seconds": round(time.perf_counter() - started, 2)}


def render(result: dict) -> str:
    lines = [f"{'规则':<28}{'发现':>6}{'新立案':>8}"]
    for rule, n in result["found"].items():
        lines.append(f"{rule:<30}{n:>6}{result['opened'][rule]:>8}")
    lines.append(f"用时 {result['seconds']} 秒")
    return "\n".join(lines)
