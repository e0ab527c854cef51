"""The home page of each role and the coordination office's 大屏, as data.

Which dashboard a user lands on is decided by the permissions their roles grant
(`dashboard_for`): evaluation → the leaders' compliance view; vehicles → the fleet view;
canteens → the canteen view; standards → the standards officer's view. The platform-wide
permission "*" is not a role's trade: a platform administrator keeps the system overview.

The leaders' page and the 大屏 are built here, the trades' pages in `dashboard_trades`.
Every figure is read through the user's data scope: stored verdicts through
`RequirementResult.objects.restrict(user)`, live positions of the vehicles
`Vehicle.objects.restrict(user)` and telemetry.view allow (as `live.visible`), misuse
cases, forecasts, waste and drafts through their model's `restrict(user)`, the
coverage indicator through the registry with `IndicatorScope(user=...)`. A leader of 大足
therefore sees 大足 and below only, on every panel.

Compliance share = passed ÷ (passed + failed) stored verdicts of the period, as in
`services.summary`; `no-data` verdicts are counted but never make a share (None, not 0).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.core.indicator_registry import Period
from guanjia.core.models import Agency, Region
from guanjia.core.scope import permission_matches

from .dashboard_panels import (
    Card,
    Dashboard,
    Panel,
    bar_data,
    last_month,
    months_up_to,
    scope_label,
)
from .dashboard_trades import (
    CANTEEN,
    FLEET,
    STANDARDS,
    canteen_dashboard,
    fleet_dashboard,
    live_counts,
    live_panel,
    standards_dashboard,
    waste_months,
    waste_panel,
)
from .models import RequirementResult, Verdict

LEADER = "leader"
# (kind, the permission a role must grant by name or domain wildcard), first match wins.
ROLE_DASHBOARDS = (
    (LEADER, "evaluation.view"),
    (FLEET, "vehicles.view"),
    (CANTEEN, "canteens.view"),
    (STANDARDS, "standards.view"),
)
PERMISSION_OF = dict(ROLE_DASHBOARDS)
TREND_MONTHS = 12
RANKING_SIZE = 20
# The outline of Chongqing dates from before 梁平 and 武隆 became districts: the map's areas
# keep their county names.
GEO_NAMES = {"500155": "梁平县", "500156": "武隆县"}


def dashboard_for(user) -> str | None:
    """The kind of home page `user`'s roles call for, or None (keep the system overview)."""
    if not user.is_authenticated:
        return None
    granted = [p for role in user.roles.filter(enabled=True) for p in role.permissions if p != "*"]
    for kind, wanted in ROLE_DASHBOARDS:
        if any(permission_matches(p, wanted) for p in granted):
            return kind
    return None


def share(passed: int, failed: int) -> float | None:
    measured = passed + failed
    return round(100.0 * passed / measured, 1) if measured else None


# -- leaders: compliance -----------------------------------------------------------------


def _verdict_counts(results, *group):
    return (
        results.order_by()
        .values(*group)
        .annotate(
            passed=Count("pk", filter=Q(status=Verdict.PASS)),
            failed=Count("pk", filter=Q(status=Verdict.FAIL)),
            no_data=Count("pk", filter=Q(status=Verdict.NO_DATA)),
        )
    )


def agency_ranking(user, period: str) -> list[dict]:
    """Agencies with stored verdicts of `period` in scope, by compliance share (highest
    first; agencies with nothing measured last)."""
    counts = list(
        _verdict_counts(RequirementResult.objects.restrict(user).filter(period=period), "agency")
    )
    names = Agency.objects.in_bulk([c["agency"] for c in counts])
    rows = [
        {
            "agency": names[c["agency"]],
            "passed": c["passed"],
            "failed": c["failed"],
            "no_data": c["no_data"],
            "share": share(c["passed"], c["failed"]),
        }
        for c in counts
    ]
    rows.sort(
        key=lambda r: (r["share"] is None, -(r["share"] or 0), -r["passed"], r["agency"].path)
    )
    return rows


def district_compliance(ranking: list[dict]) -> list[dict]:
    """The ranking's verdicts summed per district (Chongqing) or city (Sichuan): the region
    at the second level above each agency's region; provincial bureaus have none."""
    steplen = Region.steplen
    agencies = Agency.objects.filter(pk__in=[r["agency"].pk for r in ranking]).values_list(
        "pk", "region__path"
    )
    district_of = {pk: path[: 2 * steplen] for pk, path in agencies if len(path) >= 2 * steplen}
    regions = {
        r.path: r for r in Region.objects.filter(path__in=set(district_of.values()), depth=2)
    }
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in ranking:
        path = district_of.get(r["agency"].pk)
        if path in regions:
            s = sums[path]
            s[0], s[1], s[2] = s[0] + r["passed"], s[1] + r["failed"], s[2] + 1
    return [
        {
            "code": regions[path].code,
            "name": regions[path].name,
            "map_name": GEO_NAMES.get(regions[path].code, regions[path].name),
            "passed": p,
            "failed": f,
            "agencies": n,
            "share": share(p, f),
        }
        for path, (p, f, n) in sorted(sums.items())
    ]


def monthly_compliance(user, months: list[str]) -> list[dict]:
    counts = {
        c["period"]: c
        for c in _verdict_counts(
            RequirementResult.objects.restrict(user).filter(period__in=months), "period"
        )
    }
    out = []
    for label in months:
        c = counts.get(label, {"passed": 0, "failed": 0, "no_data": 0})
        out.append(
            {
                "period": label,
                "passed": c["passed"],
                "failed": c["failed"],
                "no_data": c["no_data"],
                "share": share(c["passed"], c["failed"]),
            }
        )
    return out


def map_panel(districts: list[dict]) -> Panel:
    return Panel(
        "chart-compliance-map",
        _("各区县（市州）达标率"),
        "map",
        [_("地区代码"), _("地区"), _("单位数"), _("达标"), _("未达标"), _("达标率（%）")],
        [
            [d["code"], d["name"], d["agencies"], d["passed"], d["failed"], d["share"]]
            for d in districts
        ],
        {"areas": [{"name": d["map_name"], "value": d["share"]} for d in districts]},
        unit="%",
    )


def ranking_panel(ranking: list[dict], size: int = RANKING_SIZE) -> Panel:
    top = ranking[:size]
    return Panel(
        "chart-ranking",
        _("单位达标率排名"),
        "hbar",
        [_("名次"), _("单位"), _("达标"), _("未达标"), _("无数据"), _("达标率（%）")],
        [
            [i, r["agency"].name, r["passed"], r["failed"], r["no_data"], r["share"]]
            for i, r in enumerate(ranking, 1)
        ],
        bar_data(
            [r["agency"].short_name or r["agency"].name for r in top],
            {_("达标率（%）"): [r["share"] for r in top]},
        ),
        unit="%",
        note=_("图中为前 %(n)s 名，表中为全部") % {"n": size} if len(ranking) > size else "",
    )


def trend_panel(monthly: list[dict]) -> Panel:
    return Panel(
        "chart-compliance-trend",
        _("达标率月度趋势"),
        "line",
        [_("统计期"), _("达标"), _("未达标"), _("无数据"), _("达标率（%）")],
        [[m["period"], m["passed"], m["failed"], m["no_data"], m["share"]] for m in monthly],
        bar_data([m["period"] for m in monthly], {_("达标率（%）"): [m["share"] for m in monthly]}),
        unit="%",
    )


def compliance(user, period: Period) -> dict:
    ranking = agency_ranking(user, period.label)
    passed = sum(r["passed"] for r in ranking)
    failed = sum(r["failed"] for r in ranking)
    return {
        "ranking": ranking,
        "districts": district_compliance(ranking),
        "monthly": monthly_compliance(user, months_up_to(period, TREND_MONTHS)),
        "passed": passed,
        "failed": failed,
        "share": share(passed, failed),
    }


def leader_dashboard(user, today: dt.date | None = None, period: Period | None = None) -> Dashboard:
    period = period or last_month(today or timezone.localdate())
    c = compliance(user, period)
    return Dashboard(
        LEADER,
        _("标准化达标总览"),
        scope_label(user),
        [
            Card(_("达标率"), c["share"], "%"),
            Card(_("参评单位"), len(c["ranking"])),
            Card(_("达标要求"), c["passed"]),
            Card(_("未达标要求"), c["failed"]),
        ],
        [map_panel(c["districts"]), ranking_panel(c["ranking"]), trend_panel(c["monthly"])],
        period.label,
    )


# -- the coordination office's 大屏 ------------------------------------------------------


@dataclass
class ScreenParts:
    """What the 大屏 shows besides compliance, each only when the user holds its domain."""

    vehicles: bool
    canteens: bool


def screen_dashboard(user, today: dt.date | None = None, period: Period | None = None) -> Dashboard:
    today = today or timezone.localdate()
    period = period or last_month(today)
    c = compliance(user, period)
    parts = ScreenParts(user.can("telemetry.view"), user.can("canteens.view"))
    cards = [Card(_("达标率"), c["share"], "%"), Card(_("参评单位"), len(c["ranking"]))]
    panels = [map_panel(c["districts"]), ranking_panel(c["ranking"], 10), trend_panel(c["monthly"])]
    if parts.vehicles:
        counts = live_counts(user)
        cards += [
            Card(_("在线车辆"), counts["moving"] + counts["parked"]),
            Card(_("行驶中"), counts["moving"]),
        ]
        panels.append(live_panel(counts))
    if parts.canteens:
        trend = waste_months(user, today)
        cards.append(Card(_("上月人均餐厨垃圾"), _month_value(trend, period), _("克")))
        panels.append(waste_panel(trend, by="month"))
    return Dashboard(
        "screen",
        _("川渝机关事务标准化协同 · 数据大屏"),
        scope_label(user),
        cards,
        panels,
        period.label,
    )


def _month_value(trend: list[dict], period: Period):
    for t in trend:
        if t["bucket"] == period.start:
            return t["g_per_diner"]
    return None


BUILDERS = {
    LEADER: leader_dashboard,
    FLEET: fleet_dashboard,
    CANTEEN: canteen_dashboard,
    STANDARDS: standards_dashboard,
}
