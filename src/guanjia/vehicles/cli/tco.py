"""`guanjia vehicles tco --start DATE --end DATE [--agency X] [--by agency|vehicle] [--json]`:
total cost of ownership for a period (end exclusive): purchase depreciated straight-line
over the disposal age, fuel, maintenance, insurance, inspection, minus disposal proceeds;
per km from refuelling odometer readings.

With --json: {"start", "end", "by", "total": {...}, "items": [{...}]}.
"""

import datetime as dt

from .. import lifecycle
from ..services import find_agency

SUMMARY = "全生命周期成本（按单位或按车辆）"


def add_arguments(parser):
    parser.add_argument("--start", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--end", type=dt.date.fromisoformat, required=True, help="不含该日")
    parser.add_argument("--agency", help="单位名称或统一社会信用代码（含下级单位）")
    parser.add_argument("--by", choices=("agency", "vehicle"), default="agency")


def _plain(row: dict) -> dict:
    return {k: (float(v) if hasattr(v, "as_tuple") else v) for k, v in row.items()}


def run(options) -> dict:
    agency = find_agency(options["agency"]) if options.get("agency") else None
    start, end = options["start"], options["end"]
    if options["by"] == "agency":
        items = lifecycle.agency_costs(None, start=start, end=end, agency=agency)
    else:
        costs = lifecycle.vehicle_costs(None, start=start, end=end, agency=agency)
        items = sorted(
            ({"vehicle_id": k} | c.as_dict() for k, c in costs.items()),
            key=lambda r: r["total"],
            reverse=True,
        )
    total = lifecycle.total_cost(None, start=start, end=end, agency=agency).as_dict()
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "by": options["by"],
        "total": _plain(total),
        "items": [_plain(i) for i in items],
    }


def render(result: dict) -> str:
    t = result["total"]
    lines = [
        f"{result['start']} 至 {result['end']}：{t['vehicles']} 辆，总成本 {t['total']:,.2f} 元，"
        f"里程 {t['km']:,.1f} 公里，每公里 {t['per_km'] or '—'} 元"
    ]
    for i in result["items"][:50]:
        name = i.get("plate") or i.get("agency_name")
        lines.append(f"{name:<24}{i['total']:>14,.2f}  {i['per_km'] or '—'}")
    return "\n".join(lines)
