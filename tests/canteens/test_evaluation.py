"""The evaluation services without HTTP: templates from data, the linear rule, grades, the
self-evaluation → spot-check flow, and the spot-check sampler."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from guanjia.canteens import evaluation, reference_evaluation
from guanjia.canteens.models import Evaluation, EvaluationItem, EvaluationTemplate
from guanjia.core import services as core_services
from guanjia.core.indicator_registry import Period

from .conftest import make_canteen
from .test_evaluation_helpers import mark_all, regional_reviewer, reviewer_only_template

# -- templates ------------------------------------------------------------------------------


def test_every_data_template_loads_with_weights_summing_to_100(regions):
    reference_evaluation.load(overwrite=True)
    rows = reference_evaluation.template_rows()
    assert {r["region"] for r in rows} == {"500000", "510000", None}
    for row in rows:
        t = EvaluationTemplate.objects.get(name=row["name"])
        assert (t.region.code if t.region else None) == row["region"]
        assert sum(i.weight for i in t.items.all()) == 100, t.name
        assert {i.section for i in t.items.all()} == {
            "制度建设", "措施落实", "监督管理", "宣传教育", "食品浪费情况监测统计",
        }  # fmt: skip


def test_chongqing_template_cites_db50_clauses_and_scores_its_thresholds(regions):
    reference_evaluation.load()
    t = EvaluationTemplate.objects.get(region__code="500000")
    assert "DB50/T 9001—2022" in t.source
    plate = t.items.get(indicator="canteen.clean_plate_rate")
    assert (plate.zero_at, plate.full_at) == (60, 85) and "8.2" in plate.guidance
    waste = t.items.get(indicator="canteen.per_capita_kitchen_waste_g")
    assert (waste.full_at, waste.zero_at) == (150, 250) and "7.2" in waste.guidance
    guidance = " ".join(t.items.values_list("guidance", flat=True))
    for clause in ("4.1", "9.1", "4.2", "4.3", "5.1", "6.1", "6.2", "7.1", "7.3", "8.1", "5.2",
                   "6.3", "9.2"):  # fmt: skip
        assert clause in guidance, clause


def test_load_keeps_an_edited_template_unless_overwriting(regions):
    reference_evaluation.load()
    item = EvaluationItem.objects.get(template__region__code="500000", code="4.1")
    item.title = "本局修改"
    item.save()
    assert reference_evaluation.load()["evaluation_items"] == 0
    item.refresh_from_db()
    assert item.title == "本局修改"
    reference_evaluation.load(overwrite=True)
    item.refresh_from_db()
    assert item.title != "本局修改"


def test_template_of_the_nearest_region_else_the_general_one(world, regions, canteens):
    assert evaluation.applicable_template(canteens["A"]).region.code == "500000"  # 大足 → 重庆
    assert evaluation.applicable_template(canteens["B"]).region.code == "510000"  # 成都 → 四川
    chengdu = EvaluationTemplate.objects.create(
        name="成都市模板", region=regions["510100"], source="x"
    )
    assert evaluation.applicable_template(canteens["B"]) == chengdu
    EvaluationTemplate.objects.filter(region__isnull=False).update(is_active=False)
    assert evaluation.applicable_template(canteens["A"]).region is None


# -- pure rules -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [(None, 0), (50, 0), (60, 0), (72.5, 5), (85, 10), (95, 10), (66, 2.4)],
)
def test_linear_score_rising(value, expected):
    # clean-plate rate: 0 points at 60 %, full (10) at 85 %
    assert evaluation.linear_score(value, 60, 85, 10) == Decimal(str(expected))


@pytest.mark.parametrize(
    "value, expected", [(120, 10), (150, 10), (200, 5), (230, 2), (250, 0), (400, 0)]
)
def test_linear_score_falling(value, expected):
    # per-capita kitchen waste: full at ≤ 150 g, 0 at 250 g
    assert evaluation.linear_score(value, 250, 150, 10) == Decimal(str(expected))


def test_grades_follow_the_template_thresholds():
    t = EvaluationTemplate(pass_score=60, good_score=80)
    assert evaluation.excellent_score(t) == 90
    grades = [evaluation.grade_for(t, s) for s in (95, 90, 89.9, 80, 79.9, 60, 59.9, 0)]
    assert grades == ["优秀", "优秀", "良好", "良好", "合格", "合格", "不合格", "不合格"]
    t.good_score = 70
    assert evaluation.excellent_score(t) == 85 and evaluation.grade_for(t, 86) == "优秀"


def test_weights_must_sum_to_100():
    evaluation.check_weights([60, 40])
    with pytest.raises(ValidationError, match="合计应为100"):
        evaluation.check_weights([60, 30])


# -- the flow -------------------------------------------------------------------------------


def test_self_evaluation_scores_reviewer_items_and_grades(users, canteens):
    clerk = users["agency"]
    ev = evaluation.start_evaluation(clerk, canteens["A"], "2026q3")
    assert ev.period == "2026Q3" and ev.kind == "self" and ev.status == "draft"
    assert ev.scores.count() == ev.template.items.count()
    with pytest.raises(ValidationError, match="尚未评分"):
        evaluation.submit(clerk, ev)
    mark_all(clerk, ev)
    # no canteen.* indicator has data here: 0 points, noted 无数据
    indicator_rows = ev.scores.filter(item__method="indicator")
    assert indicator_rows.exists() and all(r.note == "无数据" for r in indicator_rows)
    reviewer_total = sum(i.weight for i in ev.template.items.filter(method="reviewer"))
    evaluation.submit(clerk, ev)
    ev.refresh_from_db()
    assert ev.status == "submitted" and ev.score == reviewer_total
    assert ev.grade == evaluation.grade_for(ev.template, reviewer_total)
    with pytest.raises(ValidationError, match="已提交"):
        evaluation.mark_item(clerk, ev.scores.filter(item__method="reviewer").first(), 0)


def test_reviewer_points_are_bounded_by_the_weight(users, canteens):
    ev = evaluation.start_evaluation(users["agency"], canteens["A"], "2026Q3")
    row = ev.scores.filter(item__method="reviewer").select_related("item").first()
    with pytest.raises(ValidationError, match="之间"):
        evaluation.mark_item(users["agency"], row, row.item.weight + 1)
    with pytest.raises(ValidationError):
        evaluation.mark_item(users["agency"], row, -1)
    auto = ev.scores.filter(item__method="indicator").first()
    with pytest.raises(ValidationError, match="系统计算"):
        evaluation.mark_item(users["agency"], auto, 1)


def test_period_must_be_a_quarter(users, canteens):
    for bad in ("2026-07", "2026", "2026Q5", "soon"):
        with pytest.raises(ValidationError):
            evaluation.start_evaluation(users["agency"], canteens["A"], bad)


def test_nobody_spot_checks_their_own_agencys_canteen(users, regions, canteens):
    with pytest.raises(PermissionDenied, match="本单位"):
        evaluation.start_evaluation(users["all"], canteens["A"], "2026Q3", "spot_check")
    reviewer = regional_reviewer(regions)
    ev = evaluation.start_evaluation(reviewer, canteens["A"], "2026Q3", "spot_check")
    assert ev.reviewer == reviewer
    row = ev.scores.filter(item__method="reviewer").first()
    with pytest.raises(PermissionDenied, match="本单位"):  # A's own staff cannot mark it
        evaluation.mark_item(users["agency"], row, 1)
    mark_all(reviewer, ev, Decimal("0.5"))
    evaluation.submit(reviewer, ev)
    ev.refresh_from_db()
    assert ev.status == "final" and ev.grade == "不合格"  # half of the reviewer items only


def test_failed_canteens_are_listed_for_rectification(users, regions, canteens):
    reviewer_only_template(regions["500111"])  # no indicators: the reviewer items decide
    clerk, reviewer = users["agency"], regional_reviewer(regions)
    own = mark_all(clerk, evaluation.start_evaluation(clerk, canteens["A"], "2026Q3"))
    evaluation.submit(clerk, own)
    assert evaluation.rectification(reviewer, "2026Q3") == []  # self-rated passable
    spot = evaluation.start_evaluation(reviewer, canteens["A"], "2026Q3", "spot_check")
    evaluation.submit(reviewer, mark_all(reviewer, spot, Decimal("0.2")))
    failed = evaluation.rectification(reviewer, "2026Q3")
    assert [e.pk for e in failed] == [spot.pk]  # the spot check's grade decides
    assert evaluation.rectification(users["b_admin"], "2026Q3") == []  # B sees none of A


def test_indicator_items_are_computed_for_the_canteens_agency(world, users, canteens):
    """Through an indicator registered today (org.user_count): the item takes its value for
    the canteen's agency alone and scores it on the linear rule."""
    t = EvaluationTemplate.objects.create(name="指标测试", region=world["A"].region, source="x")
    EvaluationItem.objects.create(
        template=t, code="1", section="监测", title="人数", weight=100, method="indicator",
        indicator="org.user_count", zero_at=0, full_at=10,
    )  # fmt: skip
    ev = evaluation.start_evaluation(None, canteens["A"], "2026Q1")
    row = ev.scores.get()
    a_users = world["A"].users.count()
    assert row.value == a_users and a_users > 0  # A1's and B's users not counted
    assert ev.score == evaluation.linear_score(a_users, 0, 10, 100)
    core_services.create_user(None, username="newcomer", password="Testing-Pass-2026",
                              agency=world["A"])  # fmt: skip
    evaluation.compute_indicators(None, ev)
    ev.refresh_from_db()
    assert ev.scores.get().value == a_users + 1
    assert ev.score == evaluation.linear_score(a_users + 1, 0, 10, 100)


def test_unregistered_indicator_scores_zero_with_no_data(world, canteens):
    t = EvaluationTemplate.objects.create(name="未注册", region=world["A"].region, source="x")
    EvaluationItem.objects.create(
        template=t, code="1", section="监测", title="未来指标", weight=100, method="indicator",
        indicator="canteen.not_yet_built", zero_at=0, full_at=1,
    )  # fmt: skip
    ev = evaluation.start_evaluation(None, canteens["A"], "2026Q1")
    row = ev.scores.get()
    assert (row.value, row.score, row.note) == (None, 0, "无数据")


def test_year_on_year_key_compares_with_the_same_quarter_a_year_before(users, canteens):
    q = Period.parse("2026Q3")
    assert evaluation.same_period_last_year(q).label == "2025Q3"
    # org.user_count does not depend on the period: no change → 0 %
    value = evaluation.indicator_value("org.user_count:yoy", canteens["A"], q)
    assert value == 0.0


# -- the sampler -----------------------------------------------------------------------------


def _many_canteens(world, n=20):
    agencies = [world["A"], world["A1"]]
    return [make_canteen(agencies[i % 2], f"cq-{i:02d}", f"重庆测试食堂{i:02d}") for i in range(n)]


def _spot_check(canteens, year):
    """Record a finished spot check of each canteen in `year`."""
    for c in canteens:
        Evaluation.objects.create(
            canteen=c, period=f"{year}Q2", kind="spot_check", status="final",
            template=evaluation.applicable_template(c), score=90, grade="优秀",
        )  # fmt: skip


def test_sampler_draws_at_least_35_percent_reproducibly(world, regions, users):
    pool = _many_canteens(world)
    cq = regions["500000"]
    first = evaluation.sample_spot_checks(None, cq, 2026)
    assert len(first) == 7  # ceil(0.35 × 20)
    again = evaluation.sample_spot_checks(None, cq, 2026)
    assert [d.canteen.pk for d in first] == [d.canteen.pk for d in again]
    other = evaluation.sample_spot_checks(None, cq, 2026, seed="另一个种子")
    assert {d.canteen.pk for d in other} != {d.canteen.pk for d in first}
    assert evaluation.sample_spot_checks(None, regions["510000"], 2026) == []
    assert len(pool) == 20


def test_sampler_covers_every_canteen_within_three_years(world, regions):
    pool = _many_canteens(world)
    cq = regions["500000"]
    seen = set()
    for year in (2026, 2027, 2028):
        drawn = [d.canteen for d in evaluation.sample_spot_checks(None, cq, year)]
        assert len(drawn) >= 0.35 * len(pool)
        ids = {c.pk for c in drawn}
        if ids & seen:  # someone drawn again only when every unchecked one is drawn too
            assert {c.pk for c in pool} - seen <= ids
        seen |= ids
        _spot_check(drawn, year)
    assert seen == {c.pk for c in pool}
    # the fourth year starts the cycle again with the longest unchecked
    latest = {}
    for e in Evaluation.objects.filter(kind="spot_check"):
        latest[e.canteen_id] = max(latest.get(e.canteen_id, 0), int(e.period[:4]))
    fourth = {d.canteen.pk for d in evaluation.sample_spot_checks(None, cq, 2029)}
    assert {pk for pk, y in latest.items() if y == 2026} <= fourth


def test_sampler_sees_only_the_users_canteens(world, regions, users, canteens):
    drawn = evaluation.sample_spot_checks(users["b_admin"], None, 2026)
    assert {d.canteen.agency_id for d in drawn} == {world["B"].pk}


def test_template_items_in_use_cannot_be_removed(users, regions, canteens):
    reviewer = regional_reviewer(regions)
    ev = evaluation.start_evaluation(users["agency"], canteens["A"], "2026Q3")
    t = ev.template
    rows = [
        {f: getattr(i, f) for f in evaluation.ITEM_EDIT_FIELDS}
        for i in t.items.order_by("order", "code")
    ]
    rows[1]["weight"] += rows[0]["weight"]
    with pytest.raises(ValidationError, match="已有评分记录"):
        evaluation.save_template_items(reviewer, t, rows[1:])
    rows[1]["weight"] -= rows[0]["weight"]
    rows[1]["indicator"], rows[1]["method"] = "", "indicator"
    with pytest.raises(ValidationError, match="须填写指标"):
        evaluation.save_template_items(reviewer, t, rows)
    assert sum(i.weight for i in t.items.all()) == 100  # nothing written
