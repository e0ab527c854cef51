"""Dashboards as data (no HTTP): which home each role gets, and each panel's figures checked
by hand on small worlds, within the user's data scope."""

import datetime as dt

import pytest
from django.utils import timezone

from guanjia.core import services as core
from guanjia.core.scope import DataScope
from guanjia.evaluation import dashboard_trades as trades
from guanjia.evaluation import dashboards
from guanjia.standards import drafting, frameworks
from guanjia.standards import services as standard_services
from guanjia.standards.parsing import parse_text

from ..conftest import make_role, make_user
from .dashboard_fixtures import TODAY, plate_day, role_user, store_verdicts

pytestmark = pytest.mark.django_db


def panel(board, key):
    return next(p for p in board.panels if p.key == key)


def test_home_kind_follows_the_roles_permissions(world, users):
    a = world["A"]
    for kind in ("leader", "fleet", "canteen", "standards"):
        assert dashboards.dashboard_for(role_user(kind, a)) == kind
    # "*" is the platform administrator's, not a trade: the system overview stays.
    assert dashboards.dashboard_for(users["all"]) is None
    assert dashboards.dashboard_for(users["norole"]) is None
    auditor = make_user("aud", a, make_role("aud", DataScope.AGENCY, ["audit.view", "org.view"]))
    assert dashboards.dashboard_for(auditor) is None
    # A disabled role does not count.
    leader = role_user("leader", a, "off")
    leader.roles.update(enabled=False)
    assert dashboards.dashboard_for(leader) is None


def test_leader_compliance_within_scope(world, standards):
    store_verdicts(world)
    dazu = role_user("leader", world["A"])
    board = dashboards.leader_dashboard(dazu, TODAY)
    assert board.period == "2026-09"
    ranking = panel(board, "chart-ranking").rows
    # A1: 1 passed of 1 measured (the no-data verdict makes no share); A: 2 of 3. B is out.
    assert [(r[1], r[2], r[3], r[4], r[5]) for r in ranking] == [
        ("大足区财政局", 1, 0, 1, 100.0),
        ("大足区机关事务管理中心", 2, 1, 0, 66.7),
    ]
    area = panel(board, "chart-compliance-map")
    assert area.rows == [["500111", "大足区", 2, 3, 1, 75.0]]
    assert area.chart_data["areas"] == [{"name": "大足区", "value": 75.0}]
    trend = {r[0]: r[1:] for r in panel(board, "chart-compliance-trend").rows}
    assert len(trend) == 12 and trend["2026-08"] == [1, 1, 0, 50.0]
    assert trend["2026-09"] == [3, 1, 1, 75.0] and trend["2026-07"] == [0, 0, 0, None]
    assert [c.value for c in board.cards] == [75.0, 2, 3, 1]


def test_province_leader_sees_both_provinces(world, standards, users):
    store_verdicts(world)
    coordinator = role_user("leader", world["A"], "all_scope")
    coordinator.roles.update(data_scope=DataScope.ALL)
    board = dashboards.leader_dashboard(coordinator, TODAY)
    ranking = panel(board, "chart-ranking").rows
    assert [r[1] for r in ranking][-1] == "成都市机关事务管理局"  # 0 of 2: last
    assert ranking[-1][5] == 0.0
    areas = {r[0]: r[5] for r in panel(board, "chart-compliance-map").rows}
    assert areas == {"500111": 75.0, "510100": 0.0}
    assert board.cards[0].value == round(100 * 3 / 6, 1)


def test_fleet_live_counts_and_open_cases(world, settings, tmp_path):
    from guanjia.telemetry import live
    from guanjia.telemetry.live import LiveState
    from guanjia.vehicles import cases
    from guanjia.vehicles import services as vehicle_services
    from guanjia.vehicles.models import MisuseCase

    from ..telemetry.test_wal import T0, pos
    from ..vehicles.conftest import vehicle_fields

    def car(agency, terminal):
        return vehicle_services.create_vehicle(
            None, **vehicle_fields(agency, terminal_number=terminal)
        )

    a_moving, a_parked, _a_unseen = (
        car(world["A"], "11"),
        car(world["A1"], "12"),
        car(world["A"], "13"),
    )
    b_car = car(world["B"], "21")
    state = LiveState(
        lookup={
            "11": (a_moving.pk, a_moving.agency_id),
            "12": (a_parked.pk, a_parked.agency_id),
            "21": (b_car.pk, b_car.agency_id),
        }.get
    )
    state.update([pos("11", T0), pos("12", T0, speed_kmh=0.0), pos("21", T0)])
    settings.HOME = tmp_path
    state.publish(live.live_root(tmp_path) / "gw.bin")
    fleet = role_user("fleet", world["A"])
    assert trades.live_counts(fleet, now=T0 + 60) == {
        "moving": 1,
        "parked": 1,
        "offline": 0,
        "fitted": 3,
        "unseen": 1,
    }
    assert trades.live_counts(fleet, now=T0 + 3600)["offline"] == 2

    from guanjia.vehicles.signals_private_use import TANK as rule

    def proposal(agency, key):
        return cases.Proposal(
            rule=rule,
            agency_id=agency.pk,
            dedup_key=key,
            title=key,
            episode_start=timezone.now(),
            evidence={},
        )

    cases.open_cases(
        None,
        [
            proposal(world["A"], "old"),
            proposal(world["A1"], "new"),
            proposal(world["B"], "other"),
            proposal(world["A"], "done"),
        ],
    )
    now = timezone.now()
    MisuseCase.objects.filter(dedup_key="old").update(opened_at=now - dt.timedelta(hours=30))
    MisuseCase.objects.filter(dedup_key="done").update(status="verified")
    c = trades.open_cases(fleet, now)
    assert (c["total"], c["overdue"]) == (2, 1)
    assert c["by_rule"] == [{"rule": "单次加油量超过油箱容积", "open": 2, "overdue": 1}]
    assert [(x["title"], x["overdue"]) for x in c["oldest"]] == [("old", True), ("new", False)]
    board = trades.fleet_dashboard(fleet, now)
    assert panel(board, "chart-cases").rows == [["单次加油量超过油箱容积", 2, 1]]
    assert panel(board, "chart-cases").chart_data["series"][1]["values"] == [1]


def test_canteen_forecast_today_and_waste_trend(world, canteen):
    from guanjia.canteens.models import Forecast

    Forecast.objects.create(
        canteen=canteen,
        date=TODAY,
        meal="lunch",
        made_on=TODAY,
        p10=380,
        p50=420,
        p90=465,
        tags="节前",
    )
    Forecast.objects.create(
        canteen=canteen,
        date=TODAY - dt.timedelta(days=1),
        meal="lunch",
        made_on=TODAY,
        p10=1,
        p50=2,
        p90=3,
    )
    plate_day(canteen, dt.date(2026, 9, 1), 1000, "120")
    plate_day(canteen, dt.date(2026, 9, 2), 500, "40")
    plate_day(canteen, dt.date(2026, 9, 8), 800, "80")
    manager = role_user("canteen", world["A1"])  # the canteen is at 大足区财政局
    board = trades.canteen_dashboard(manager, TODAY)
    assert panel(board, "chart-forecast").rows == [
        ["大足区财政局食堂", "午餐", 380, 420, 465, "节前"]
    ]
    waste = panel(board, "chart-waste").rows
    # week of 31 Aug: (120 + 40) kg over 1,500 diners = 106.7 g; week of 7 Sep: 100 g.
    assert waste == [["2026-08-31", 160.0, 1500, 106.7], ["2026-09-07", 80.0, 800, 100.0]]
    assert board.cards[0].value == 420
    # A canteen manager of 大足 centre itself (scope: own agency) sees no canteen of A1.
    other = trades.canteen_dashboard(role_user("canteen", world["A"]), TODAY)
    assert panel(other, "chart-forecast").rows == [] and panel(other, "chart-waste").rows == []
    assert other.cards[0].value is None


DRAFT = (
    "DB50\n重庆市地方标准\nDB50/T 9970—2026\n川渝机关会议服务规范（征求意见稿）\n"
    "1 范围\n本文件规定了会议服务要求。\n4 要求\n4.1 会场应提前2小时准备。\n"
)


def test_standards_coverage_and_drafts_in_comment(world, standards):
    a, a1, b = world["A"], world["A1"], world["B"]
    in_force = standards["9001"]
    frameworks.save_function(None, agency=a, name="公务接待", standards=[in_force])
    frameworks.save_function(None, agency=a, name="会议服务")
    frameworks.save_function(None, agency=a1, name="食堂管理", standards=[in_force])
    frameworks.save_function(None, agency=b, name="公务用车", standards=[in_force])
    doc = parse_text(DRAFT)
    doc.stage = "drafting"
    draft, _ = standard_services.import_document(None, doc, a)
    group = core.save_group(None, name="会议服务起草组", agency=a, members=[a, b])
    period = drafting.open_comment_period(
        None, draft, group, TODAY - dt.timedelta(days=5), TODAY + dt.timedelta(days=10)
    )
    officer = role_user("standards", a)
    drafting.add_comment(officer, period, "4.1", "建议提前1小时。", today=TODAY)
    closed = drafting.open_comment_period(
        None, draft, group, TODAY - dt.timedelta(days=40), TODAY - dt.timedelta(days=20)
    )
    assert closed.pk != period.pk
    board = trades.standards_dashboard(officer, TODAY)
    assert panel(board, "chart-coverage").rows == [
        ["大足区机关事务管理中心", 2, 1, 50.0],
        ["大足区财政局", 1, 1, 100.0],
    ]
    assert board.cards[0].value == pytest.approx(66.67)  # 2 of 3 functions, via the registry
    drafts = panel(board, "chart-drafts").rows
    assert drafts == [["DB50/T 9970—2026", draft.title, 1, "会议服务起草组", "2026-10-25", 10, 1]]
    # 成都's officer sees only 成都's function, and no draft of 大足's (B reads the draft
    # as a member, and its own comments: none).
    b_board = trades.standards_dashboard(role_user("standards", b), TODAY)
    assert panel(b_board, "chart-coverage").rows == [["成都市机关事务管理局", 1, 1, 100.0]]
    assert [r[6] for r in panel(b_board, "chart-drafts").rows] in ([], [0])


def test_screen_parts_follow_permissions(world, standards):
    store_verdicts(world)
    leader = role_user("leader", world["A"])
    board = dashboards.screen_dashboard(leader, TODAY)
    keys = [p.key for p in board.panels]
    assert keys == [
        "chart-compliance-map",
        "chart-ranking",
        "chart-compliance-trend",
        "chart-live",
        "chart-waste",
    ]
    evaluator = make_user(
        "ev", world["A"], make_role("ev", DataScope.AGENCY_AND_BELOW, ["evaluation.view"])
    )
    only = dashboards.screen_dashboard(evaluator, TODAY)
    assert [p.key for p in only.panels] == keys[:3]
    assert only.cards[0].value == 75.0


def test_screen_waste_months_match_the_canteens_definition(world, canteen):
    from guanjia.canteens import waste
    from guanjia.canteens.models import Canteen

    plate_day(canteen, dt.date(2026, 8, 20), 300, "33")
    plate_day(canteen, dt.date(2026, 9, 1), 1000, "120")
    plate_day(canteen, dt.date(2026, 9, 2), 500, "40")
    # A weighing without a diner count is no paired meal: left out by both.
    waste.record_weighings(
        None,
        canteen,
        date=dt.date(2026, 9, 3),
        meal="lunch",
        entries=[{"stream": "plate", "edible": True, "weight_kg": 99}],
    )
    manager = role_user("canteen", world["A1"])
    months = trades.waste_months(manager, TODAY)
    src = waste.Source(Canteen.objects.restrict(manager), manager)
    by_python = waste.waste_trend(src, dt.date(2026, 4, 1), TODAY, "month")
    assert [(m["bucket"], m["diners"], m["g_per_diner"]) for m in months] == [
        (t["bucket"], t["diners"], t["g_per_diner"]) for t in by_python
    ]
    assert [m["kg"] for m in months] == pytest.approx([t["kg"] for t in by_python])
    assert [(m["bucket"], m["g_per_diner"]) for m in months] == [
        (dt.date(2026, 8, 1), 110.0),
        (dt.date(2026, 9, 1), 106.7),
    ]
    assert trades.waste_months(role_user("canteen", world["A"]), TODAY) == []
