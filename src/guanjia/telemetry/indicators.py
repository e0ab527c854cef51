"""Indicators of the telemetry rules (registered when the app is ready). Each reads through
`scope.restrict(...)`: nobody learns through an indicator what they may not list.

* `vehicles.misuse_cases` — cases the telemetry rules opened for episodes that began in the
  period (by episode start, so a re-run of an old day counts in that day's period).
* `vehicles.case_handled_24h_rate` — of all misuse cases (telemetry and 私车公养 alike)
  opened in the period whose 24 hours have run out, the share verified or dismissed within
  24 hours of opening (`vehicles.cases.handled_in_time`). A case opened less than 24 hours
  ago and still open is not yet late and is left out.
* `telemetry.report_interval_p95_s` — the 95th percentile of the seconds between
  consecutive reports of a terminal with ignition on, over the period's days, from the
  per-agency, per-day histograms the rule engine keeps (ReportIntervalDay; intervals of an
  hour or more count as 3,600 s). Not from the archive: the engine sees every position once
  as it arrives, so the figure costs nothing to keep and reads in one query.
"""

from __future__ import annotations

from django.utils import timezone

from guanjia.core.indicator_registry import IndicatorScope, Period, indicator
from guanjia.vehicles import cases
from guanjia.vehicles.models import MisuseCase

from . import rule_defs as R
from .models import ReportIntervalDay
from .rules import percentile_from_histogram


@indicator(
    "vehicles.misuse_cases",
    unit="起",
    label="违规用车线索数（实时监控）",
    higher_is_better=False,
    description="统计期内发生（按起始时间）、由实时监控规则（无派车单行驶、夜间节假日用车、"
    "驶出管辖范围、进入禁入区域、超速、未按规定停放、终端失联、汇报间隔超标）立案的线索起数，"
    "含已核实、已排除的。",
)
def misuse_cases(scope: IndicatorScope, period: Period) -> float | None:
    start, end = period.bounds()
    return float(
        scope.restrict(MisuseCase)
        .filter(
            agency__in=scope.agencies(),
            rule__in=list(R.RULES),
            episode_start__gte=start,
            episode_start__lt=end,
        )
        .count()
    )


@indicator(
    "vehicles.case_handled_24h_rate",
    unit="%",
    label="违规线索24小时处理率",
    higher_is_better=True,
    description="统计期内立案、且已满24小时的违规线索中，立案后24小时内核实或排除的百分比"
    "（含实时监控与私车公养线索）。没有到期线索时无数据。",
)
def case_handled_24h_rate(scope: IndicatorScope, period: Period) -> float | None:
    start, end = period.bounds()
    now = timezone.now()
    due = 0
    in_time = 0
    rows = (
        scope.restrict(MisuseCase)
        .filter(agency__in=scope.agencies(), opened_at__gte=start, opened_at__lt=end)
        .values_list("opened_at", "handled_at", "status")
    )
    for opened, handled, status in rows.iterator(chunk_size=5000):
        if cases.handled_in_time(opened, handled, status):
            due += 1
            in_time += 1
        elif cases.time_is_up(opened, now):
            due += 1
    if not due:
        return None
    return round(100.0 * in_time / due, 2)


@indicator(
    "telemetry.report_interval_p95_s",
    unit="秒",
    label="定位汇报间隔P95",
    higher_is_better=False,
    description="统计期内点火状态下终端相邻两次定位汇报间隔的第95百分位数（标准间隔30秒，"
    "JT/T 808-2013 参数0x0029）；由规则引擎按单位、按日累计的间隔分布计算。没有汇报时无数据。",
)
def report_interval_p95_s(scope: IndicatorScope, period: Period) -> float | None:
    hist: dict[str, int] = {}
    rows = scope.restrict(ReportIntervalDay).filter(
        agency__in=scope.agencies(), day__gte=period.start, day__lt=period.end
    )
    for h in rows.values_list("histogram", flat=True):
        for sec, n in (h or {}).items():
            hist[sec] = hist.get(sec, 0) + n
    return percentile_from_histogram(hist, 0.95)
