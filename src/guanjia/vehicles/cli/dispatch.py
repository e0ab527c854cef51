"""`guanjia vehicles dispatch [--agency X] [--status S] [--from DATE] [--to DATE]
[--period P] [--limit N] [--json]`: dispatch orders (派车单) and the dispatch indicators.

`--agency` takes an exact name, short name, credit code or id and includes the agencies
below it. With --json: {"count", "items": [{"number", "status", "agency", "requester",
"purpose", "origin", "destination", "start_at", "end_at", "passengers", "plate", "driver",
"pooled", "distance_km", "rating"}], "indicators": {key: value}} — the indicators
(vehicles.utilization_rate, dispatch.approval_hours, dispatch.pooling_rate) only with
--agency and --period (2026-03, 2026Q1 or 2026); count is every matching order, items at most
--limit (default 50).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from guanjia.core.indicator_registry import IndicatorScope, Period, get_indicator

from ..models import TripRequest
from ..services import find_agency

SUMMARY = "列出派车单（--agency 含下级单位），可附派车指标"
INDICATORS = ("vehicles.utilization_rate", "dispatch.approval_hours", "dispatch.pooling_rate")


def add_arguments(parser):
    parser.add_argument("--agency", help="单位名称或统一社会信用代码（含下级单位）")
    parser.add_argument("--status", help="requested / approved / assigned / in_progress / …")
    parser.add_argument("--from", dest="date_from", help="用车开始日期不早于（YYYY-MM-DD）")
    parser.add_argument("--to", dest="date_to", help="用车开始日期不晚于（YYYY-MM-DD）")
    parser.add_argument("--period", help="统计期，如 2026-03、2026Q1、2026（需 --agency）")
    parser.add_argument("--limit", type=int, default=50, help="最多列出多少单（默认 50）")


def _day(text: str) -> datetime:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"无法识别的日期：{text!r}（应为 YYYY-MM-DD）") from None
    return datetime.combine(day, time.min, timezone.get_current_timezone())


def item(t: TripRequest) -> dict:
    distance = None
    if t.start_odometer_km is not None and t.end_odometer_km is not None:
        distance = float(t.end_odometer_km - t.start_odometer_km)
    return {
        "number": t.number,
        "status": t.status,
        "status_label": t.get_status_display(),
        "agency": t.agency.name,
        "requester": t.requester.real_name or t.requester.username,
        "purpose": t.purpose,
        "origin": t.origin,
        "destination": t.destination,
        "start_at": timezone.localtime(t.start_at).isoformat(),
        "end_at": timezone.localtime(t.end_at).isoformat(),
        "passengers": t.passengers,
        "plate": t.vehicle.plate if t.vehicle_id else None,
        "driver": t.driver.name if t.driver_id else None,
        "pooled": t.pool_lead_id is not None,
        "distance_km": distance,
        "rating": t.rating,
    }


def run(options) -> dict:
    qs = TripRequest.objects.select_related("agency", "requester", "vehicle", "driver")
    agency = find_agency(options["agency"]) if options.get("agency") else None
    if agency is not None:
        qs = qs.filter(agency__path__startswith=agency.path)
    if options.get("status"):
        if options["status"] not in TripRequest.Status.values:
            raise ValueError(f"未知状态：{options['status']}")
        qs = qs.filter(status=options["status"])
    if options.get("date_from"):
        qs = qs.filter(start_at__gte=_day(options["date_from"]))
    if options.get("date_to"):
        qs = qs.filter(start_at__lt=_day(options["date_to"]) + timedelta(days=1))
    qs = qs.order_by("-start_at", "-pk")
    result = {"count": qs.count(), "items": [item(t) for t in qs[: max(options["limit"], 0)]]}
    if options.get("period"):
        if agency is None:
            raise ValueError("计算指标需要 --agency")
        period = Period.parse(options["period"])
        scope = IndicatorScope(agency, True, None)
        result["indicators"] = {k: get_indicator(k).compute(scope, period) for k in INDICATORS}
    return result


def render(result: dict) -> str:
    lines = [f"共 {result['count']} 单"]
    for t in result["items"]:
        car = f"{t['plate']} / {t['driver']}" if t["plate"] else "—"
        lines.append(
            f"{t['number']}  {t['status_label']:<4} {t['start_at'][:16]}  {t['agency']}  "
            f"{t['origin']} → {t['destination']}  {car}"
        )
    for key, value in result.get("indicators", {}).items():
        lines.append(f"{key}: {'无数据' if value is None else value}")
    return "\n".join(lines)
