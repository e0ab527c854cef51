"""The home page of each role and the coordination office's 大屏, as data.

Which dashboard a user lands on is decided by the permissions their roles grant
(`dashboard_for`): evaluation → the leaders' compliance view; vehicles → the fleet view;
canteens → the canteen view; standards → the standards officer's view. The platform-wide
permission "*" is not a role's trade: a platform administrator keeps the system overview.

Every figure is read through the user's data scope: stored verdicts through
`RequirementResult.objects.restrict(user)`, live positions through `live.visible(user)`,
misuse cases, forecasts, waste and drafts through their model's `restrict(user)`, the
coverage indicator through the registry with `IndicatorScope(user=...)`. A leader of 大足
therefore sees 大足 and below only, on every panel.

Compliance share = passed ÷ (passed + failed) stored verdicts of the period, as in
`services.summary`; `no-data` verdicts are counted but never make a share (None, not 0).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.core.indicator_registry import IndicatorScope, Period, get_indicator
from guanjia.core.models import Agency, Region
from guanjia.core.scope import permission_matches

from .dashboard_panels import Card, Dashboard, Panel, bar_data
from .models import RequirementResult, Verdict

LEADER, FLEET, CANTEEN, STANDARDS = "leader", "fleet", "canteen", "standards"
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
WASTE_WEEKS = 12
SCREEN_WASTE_MONTHS = 6
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


def scope_label(user) -> str:
    if user.agency_id is None:
        return _("数据范围内")
    return _("%(agency)s 数据范围内") % {"agency": user.agency.name}


def last_month(today: dt.date) -> Period:
    first = today.replace(day=1)
    return Period.parse(f"{first - dt.timedelta(days=1):%Y-%m}")


def months_up_to(period: Period, n: int) -> list[str]:
    labels = [period]
    while len(labels) < n:
        labels.append(labels[-1].previous())
    return [p.label for p in reversed(labels)]


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


# -- fleet managers: live vehicles and open cases ----------------------------------------

STATES = (("moving", "行驶"), ("parked", "停放"), ("offline", "离线"))


def live_counts(user, now: float | None = None) -> dict:
    """Vehicles with a terminal in scope, and how many the live state shows moving, parked,
    offline (no report for 10 minutes) or never seen.

    The same vehicles as `live.visible(user)` (the register's scope and telemetry.view),
    counted per agency in the database: a vehicle's visibility is its agency's (Vehicle
    has no owner field or wider reading), so the live state is filtered by those agencies
    instead of by a list of every vehicle id — 96,000 ids cost a province view 200 ms."""
    import time

    from guanjia.core.scope import scope_q
    from guanjia.telemetry import live
    from guanjia.telemetry.api_live import state_of
    from guanjia.vehicles.models import Vehicle

    now = time.time() if now is None else now
    vehicles = Vehicle.objects.restrict(user).exclude(terminal_key="")
    q = scope_q(Vehicle, user, "view", wanted="telemetry.view")
    if q is not None:
        vehicles = vehicles.filter(q)
    fitted = dict(vehicles.order_by().values_list("agency").annotate(n=Count("pk")))
    entries = live.snapshot(agency_ids=list(fitted)) if fitted else []
    counts = Counter(state_of(x.position, now) for x in entries)
    out = {key: counts.get(key, 0) for key, _label in STATES}
    out["fitted"] = sum(fitted.values())
    out["unseen"] = max(out["fitted"] - sum(counts.values()), 0)
    return out


def live_panel(counts: dict) -> Panel:
    labels = [_(label) for _key, label in STATES] + [_("未上线")]
    values = [counts[key] for key, _label in STATES] + [counts["unseen"]]
    return Panel(
        "chart-live",
        _("车辆实时状态"),
        "pie",
        [_("状态"), _("车辆数")],
        [[label, n] for label, n in zip(labels, values, strict=True)],
        bar_data(labels, {_("车辆数"): values}),
    )


def open_cases(user, now=None) -> dict:
    from guanjia.vehicles import cases
    from guanjia.vehicles.models import MisuseCase

    now = timezone.now() if now is None else now
    open_ = MisuseCase.objects.restrict(user).filter(status=MisuseCase.Status.OPEN)
    by_rule = list(
        open_.order_by()
        .values("rule")
        .annotate(n=Count("pk"), overdue=Count("pk", filter=cases.overdue_q(now)))
        .order_by("-n", "rule")
    )
    latest = [
        {
            "opened_at": c.opened_at,
            "agency": c.agency.name,
            "plate": c.vehicle.plate if c.vehicle_id else "",
            "rule": cases.rule_label(c.rule),
            "title": c.title,
            "overdue": cases.is_overdue(c, now),
        }
        for c in open_.select_related("agency", "vehicle").order_by("opened_at")[:20]
    ]
    return {
        "by_rule": [
            {"rule": cases.rule_label(r["rule"]), "open": r["n"], "overdue": r["overdue"]}
            for r in by_rule
        ],
        "total": sum(r["n"] for r in by_rule),
        "overdue": sum(r["overdue"] for r in by_rule),
        "oldest": latest,
    }


def cases_panel(c: dict) -> Panel:
    rules = c["by_rule"]
    return Panel(
        "chart-cases",
        _("待核查违规线索（按规则）"),
        "hbar",
        [_("规则"), _("待核查"), _("其中超过24小时")],
        [[r["rule"], r["open"], r["overdue"]] for r in rules],
        bar_data(
            [r["rule"] for r in rules],
            {
                _("24小时内"): [r["open"] - r["overdue"] for r in rules],
                _("超过24小时"): [r["overdue"] for r in rules],
            },
        ),
        note=_("超过24小时未处理的线索按 DB51/T 9002—2021 8.2 标出"),
    )


def fleet_dashboard(user, now=None) -> Dashboard:
    counts = live_counts(user)
    c = open_cases(user, now)
    oldest = Panel(
        "table-oldest-cases",
        _("最早的待核查线索"),
        "",
        [_("立案时间"), _("单位"), _("车牌号"), _("规则"), _("摘要"), _("超过24小时")],
        [
            [
                timezone.localtime(x["opened_at"]).strftime("%Y-%m-%d %H:%M"),
                x["agency"],
                x["plate"],
                x["rule"],
                x["title"],
                _("是") if x["overdue"] else "",
            ]
            for x in c["oldest"]
        ],
    )
    return Dashboard(
        FLEET,
        _("车辆监控与违规处置"),
        scope_label(user),
        [
            Card(_("装终端车辆"), counts["fitted"]),
            Card(_("行驶中"), counts["moving"]),
            Card(_("待核查线索"), c["total"]),
            Card(_("超过24小时未处理"), c["overdue"]),
        ],
        [live_panel(counts), cases_panel(c), oldest],
    )


# -- canteen managers: today's forecast and the waste trend ------------------------------


def todays_forecast(user, today: dt.date) -> list[dict]:
    from guanjia.canteens.models import Forecast, Meal

    meals = dict(Meal.choices)
    rows = (
        Forecast.objects.restrict(user)
        .filter(date=today)
        .select_related("canteen")
        .order_by("canteen__name", "meal")
    )
    return [
        {
            "canteen": f.canteen.name,
            "meal": str(meals.get(f.meal, f.meal)),
            "p10": f.p10,
            "p50": f.p50,
            "p90": f.p90,
            "tags": f.tags,
        }
        for f in rows
    ]


def waste_weeks(user, today: dt.date, weeks: int = WASTE_WEEKS) -> list[dict]:
    """g of kitchen waste per diner per week over the canteens in scope, with the canteens'
    own `waste.waste_trend` (paired meals: weighed and counted)."""
    from guanjia.canteens import waste
    from guanjia.canteens.models import Canteen

    start = waste.bucket_of(today, "week") - dt.timedelta(weeks=weeks - 1)
    src = waste.Source(Canteen.objects.restrict(user), user)
    return waste.waste_trend(src, start, today + dt.timedelta(days=1), "week")


def waste_months(user, today: dt.date, months: int = SCREEN_WASTE_MONTHS) -> list[dict]:
    """`waste.waste_trend(..., by="month")` over every canteen in scope, summed in the
    database: the same definition (all streams of the meals that also have a diner count
    above 0, ÷ those diners), but a province's months of meals are one join of two grouped,
    scoped queries instead of 60,000 rows brought into Python (a test pins both to the
    same figures)."""
    from django.db import connection
    from django.db.models import Sum
    from django.db.models.functions import TruncMonth

    from guanjia.canteens.models import Canteen, DinerCount, WasteRecord

    start = Period.parse(months_up_to(last_month(today), months)[0]).start
    window = {
        "canteen__in": Canteen.objects.restrict(user),
        "date__gte": start,
        "date__lte": today,
    }
    waste = (
        WasteRecord.objects.restrict(user)
        .filter(**window)
        .order_by()
        .values("canteen_id", "date", "meal")
        .annotate(kg=Sum("weight_kg"))
    )
    diners = (
        DinerCount.objects.restrict(user)
        .filter(diners__gt=0, **window)
        .order_by()
        .values("canteen_id", "date", "meal", "diners")
        .annotate(month=TruncMonth("date"))
    )
    diner_sql, diner_params = diners.query.sql_with_params()
    waste_sql, waste_params = waste.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT d.month, SUM(w.kg), SUM(d.diners) FROM ({diner_sql}) d "
            f"JOIN ({waste_sql}) w ON w.canteen_id = d.canteen_id AND w.date = d.date "
            "AND w.meal = d.meal GROUP BY d.month ORDER BY d.month",
            [*diner_params, *waste_params],
        )
        rows = cursor.fetchall()
    return [
        {
            "bucket": dt.date.fromisoformat(str(month)[:10]),
            "kg": round(float(kg), 3),
            "diners": int(n),
            "g_per_diner": round(float(kg) * 1000 / int(n), 1),
        }
        for month, kg, n in rows
    ]


def forecast_panel(rows: list[dict]) -> Panel:
    labels = [f"{r['canteen']} {r['meal']}" for r in rows]
    return Panel(
        "chart-forecast",
        _("今日就餐人数预测"),
        "bar",
        [_("食堂"), _("餐次"), _("P10"), _("预测人数（P50）"), _("P90"), _("特殊日")],
        [[r["canteen"], r["meal"], r["p10"], r["p50"], r["p90"], r["tags"]] for r in rows],
        bar_data(
            labels,
            {
                "P10": [r["p10"] for r in rows],
                "P50": [r["p50"] for r in rows],
                "P90": [r["p90"] for r in rows],
            },
        ),
    )


def waste_panel(trend: list[dict], by: str = "week") -> Panel:
    first = _("周（起始日）") if by == "week" else _("月份")
    labels = [t["bucket"].isoformat() if by == "week" else f"{t['bucket']:%Y-%m}" for t in trend]
    return Panel(
        "chart-waste",
        _("人均餐厨垃圾量趋势"),
        "line",
        [first, _("餐厨垃圾（千克）"), _("就餐人次"), _("人均（克）")],
        [
            [label, round(t["kg"], 2), t["diners"], t["g_per_diner"]]
            for label, t in zip(labels, trend, strict=True)
        ],
        bar_data(labels, {_("人均（克）"): [t["g_per_diner"] for t in trend]}),
        unit=_("克"),
    )


def canteen_dashboard(user, today: dt.date | None = None) -> Dashboard:
    today = today or timezone.localdate()
    forecast = todays_forecast(user, today)
    trend = waste_weeks(user, today)
    latest = trend[-1]["g_per_diner"] if trend else None
    return Dashboard(
        CANTEEN,
        _("食堂就餐预测与反浪费"),
        scope_label(user),
        [
            Card(_("今日预测就餐人次"), sum(r["p50"] for r in forecast) if forecast else None),
            Card(_("有预测的食堂"), len({r["canteen"] for r in forecast})),
            Card(_("本周人均餐厨垃圾"), latest, _("克")),
        ],
        [forecast_panel(forecast), waste_panel(trend)],
        today.isoformat(),
    )


# -- standards officers: coverage and drafts in comment ----------------------------------


def coverage_by_agency(user, today: dt.date) -> list[dict]:
    from guanjia.standards.frameworks import agency_coverage

    if user.agency_id is None:
        return []
    rows: dict[int, dict] = {}
    for r in agency_coverage(user, user.agency, today).rows:
        a = r.function.agency
        row = rows.setdefault(
            a.pk, {"agency": a.name, "path": a.path, "functions": 0, "covered": 0}
        )
        row["functions"] += 1
        row["covered"] += r.covered
    out = sorted(rows.values(), key=lambda r: r["path"])
    for r in out:
        r["rate"] = round(100.0 * r["covered"] / r["functions"], 1)
    return out


def coverage_indicator(user, period: Period) -> float | None:
    """standards.function_coverage_rate over the user's agency and below, in their scope."""
    if user.agency_id is None:
        return None
    scope = IndicatorScope(agency=user.agency, include_below=True, user=user)
    return get_indicator("standards.function_coverage_rate").compute(scope, period)


def drafts_in_comment(user, today: dt.date) -> list[dict]:
    from guanjia.standards.models import Comment, CommentPeriod

    periods = list(
        CommentPeriod.objects.restrict(user)
        .filter(opens__lte=today, closes__gte=today)
        .select_related("standard", "version", "group")
        .order_by("closes", "pk")
        .distinct()  # the scope's group-membership join repeats a period per member
    )
    comments = dict(
        Comment.objects.restrict(user)
        .filter(period__in=[p.pk for p in periods])
        .order_by()
        .values("period")
        .annotate(n=Count("pk", distinct=True))
        .values_list("period", "n")
    )
    return [
        {
            "code": p.standard.code,
            "title": p.standard.title,
            "version": p.version.number,
            "group": p.group.name,
            "closes": p.closes,
            "days_left": (p.closes - today).days,
            "comments": comments.get(p.pk, 0),
        }
        for p in periods
    ]


def standards_dashboard(user, today: dt.date | None = None) -> Dashboard:
    today = today or timezone.localdate()
    month = Period.parse(f"{today:%Y-%m}")
    by_agency = coverage_by_agency(user, today)
    drafts = drafts_in_comment(user, today)
    coverage = Panel(
        "chart-coverage",
        _("各单位职能标准覆盖率"),
        "hbar",
        [_("单位"), _("职能数"), _("已覆盖"), _("覆盖率（%）")],
        [[r["agency"], r["functions"], r["covered"], r["rate"]] for r in by_agency],
        bar_data(
            [r["agency"] for r in by_agency], {_("覆盖率（%）"): [r["rate"] for r in by_agency]}
        ),
        unit="%",
    )
    comment = Panel(
        "chart-drafts",
        _("征求意见中的标准草案"),
        "hbar",
        [
            _("标准编号"),
            _("标准名称"),
            _("版本"),
            _("征求意见范围"),
            _("截止日期"),
            _("剩余天数"),
            _("意见数"),
        ],
        [
            [
                d["code"],
                d["title"],
                d["version"],
                d["group"],
                d["closes"].isoformat(),
                d["days_left"],
                d["comments"],
            ]
            for d in drafts
        ],
        bar_data([d["code"] for d in drafts], {_("意见数"): [d["comments"] for d in drafts]}),
    )
    return Dashboard(
        STANDARDS,
        _("标准化工作概览"),
        scope_label(user),
        [
            Card(_("职能标准覆盖率"), coverage_indicator(user, month), "%"),
            Card(_("登记职能"), sum(r["functions"] for r in by_agency)),
            Card(_("征求意见中的草案"), len(drafts)),
        ],
        [coverage, comment],
        today.isoformat(),
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
