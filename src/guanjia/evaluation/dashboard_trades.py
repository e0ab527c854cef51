"""The trades' home pages as data: fleet managers (live vehicles, open misuse cases),
canteen managers (today's forecast, the waste trend) and standards officers (function
coverage, drafts in comment). Every figure is read through the user's data scope (see
`dashboards`, which chooses the page and builds the leaders' one and the 大屏)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.core.indicator_registry import IndicatorScope, Period, get_indicator

from .dashboard_panels import (
    Card,
    Dashboard,
    Panel,
    bar_data,
    last_month,
    months_up_to,
    scope_label,
)

FLEET, CANTEEN, STANDARDS = "fleet", "canteen", "standards"
WASTE_WEEKS = 12
SCREEN_WASTE_MONTHS = 6


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
