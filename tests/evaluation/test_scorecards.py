"""Scorecards: the shared scoring rules, the templates as data, self-assessment → expert
review → final score, and rankings of agencies, districts and provinces."""

import json
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from guanjia.canteens.reference_evaluation import DATA as CANTEEN_DATA
from guanjia.core.indicator_registry import Period
from guanjia.core.scope import DataScope
from guanjia.evaluation import scorecard_data, scorecards, scoring
from guanjia.evaluation.models import Assessment, ScorecardItem

from ..conftest import make_role, make_user
from .scorecard_fixtures import expert_of, finished, reviewer_marks, template
from .test_requirements import _day

pytestmark = pytest.mark.django_db
D = Decimal


# -- rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "points"), [(50, 0), (60, 0), (72.5, 5), (85, 10), (99, 10)])
def test_linear_rising(value, points):
    assert scoring.linear_score(value, 60, 85, 10) == D(points)


@pytest.mark.parametrize(("value", "points"), [(300, 0), (250, 0), (200, 5), (150, 10), (90, 10)])
def test_linear_falling(value, points):
    assert scoring.linear_score(value, 250, 150, 10) == D(points)


def test_linear_without_data_scores_nothing():
    assert scoring.linear_score(None, 60, 85, 10) == 0


@pytest.mark.parametrize(
    ("value", "op", "points"),
    [(50, ">=", 8), (49.99, ">=", 0), (50, ">", 0), (150, "<=", 8), (150.01, "<=", 0),
     (None, ">=", 0)],
)  # fmt: skip
def test_threshold_both_directions(value, op, points):
    threshold = 50 if ">" in op else 150
    assert scoring.threshold_score(value, op, threshold, 8) == D(points)


def test_reviewer_points_within_weight():
    assert scoring.reviewer_score("7.25", 8) == D("7.3")
    with pytest.raises(ValueError):
        scoring.reviewer_score(9, 8)
    with pytest.raises(ValueError):
        scoring.reviewer_score(-1, 8)


def test_grade_lines_and_shared_ranks():
    grades = [scoring.grade(s, 60, 80, 90) for s in (90, 89.9, 80, 79.9, 60, 59.9)]
    assert grades == ["优秀", "良好", "良好", "合格", "合格", "不合格"]
    assert scoring.midpoint_excellent(80) == 90 and scoring.midpoint_excellent(70) == 85
    assert scoring.ranks([D(95), D(90), D(90), D(80)]) == [1, 2, 2, 4]


# -- templates --------------------------------------------------------------------------------


def test_templates_installed_after_migrate():
    work = template()
    items = list(work.items.all())
    assert sum(i.weight for i in items) == 100
    assert {i.section for i in items} == {
        "标准体系建设", "标准实施", "标准化人员与制度", "标准评价与改进", "创新与示范",
    }  # fmt: skip
    assert {i.rule for i in items} == {"reviewer", "linear", "threshold"}
    assert "平台自定" in work.source


def test_canteen_template_is_the_canteens_data(regions):
    raw = json.loads(CANTEEN_DATA.read_text(encoding="utf-8"))
    source = raw["item_sets"]["db50"]
    t = template("canteen-anti-food-waste-cq")
    items = list(t.items.order_by("order"))
    assert [(i.code, i.weight) for i in items] == [(s["code"], D(s["weight"])) for s in source]
    plate = t.items.get(indicator="canteen.clean_plate_rate")
    assert (plate.rule, plate.zero_at, plate.full_at) == ("linear", 60, 85)
    assert (t.pass_line, t.good_line, t.excellent_line) == (60, 80, 90)
    assert t.region is None  # installed before the regions …
    scorecard_data.load()
    t.refresh_from_db()
    assert t.region.code == "500000"  # … and attached once they exist


# -- the flow ---------------------------------------------------------------------------------


@pytest.fixture
def reviewer_b(world):
    return make_user("reviewer_b", world["B"], make_role("province_all", DataScope.ALL))


def test_self_then_expert_then_final(world, users, canteen, reviewer_b):
    _day(canteen, 1000, "200", clean=70, day=Period.parse("2026Q3").start)
    t = template("canteen-anti-food-waste-cq")
    own = users["agency_and_below"]
    a = scorecards.start_assessment(own, world["A"], t, "2026q3")
    assert a.period == "2026Q3" and a.status == "self"
    rows = {r["code"]: r for r in scorecards.item_rows(a)}
    # Computed over A and below (the canteen is A1's): 200 g → halfway, 70 % → 4 of 10.
    assert (rows["5.4"]["value"], rows["5.4"]["self_score"]) == (200.0, 5.0)
    assert (rows["5.5"]["value"], rows["5.5"]["self_score"]) == (70.0, 4.0)
    with pytest.raises(ValidationError, match="不能手工评分"):
        scorecards.score_item(own, a, "5.5", 10)
    with pytest.raises(ValidationError, match="尚未自评"):
        scorecards.submit(own, a)
    with pytest.raises(ValidationError):
        scorecards.score_item(own, a, "1.1", 7)  # weight 6
    marks = reviewer_marks(t, "1")
    for code, (score, _n) in marks.items():
        scorecards.score_item(own, a, code, score, notes="自评")
    scorecards.submit(own, a)
    assert a.self_score == 55 + 5 + 4  # reviewer items full, 5.4 and 5.5 as computed
    with pytest.raises(ValidationError):
        scorecards.score_item(own, a, "1.1", 6)  # submitted: no more self-scoring
    # Nobody reviews their own agency: not the user of A, not an expert of A.
    with pytest.raises(PermissionDenied):
        scorecards.review(users["all"], a, expert_of(world["B"]), marks)
    with pytest.raises(ValidationError, match="本单位"):
        scorecards.review(reviewer_b, a, expert_of(world["A"], "李专家"), marks)
    assert Assessment.objects.get(pk=a.pk).status == "submitted"
    expert = expert_of(world["B"])
    halved = reviewer_marks(t, "0.5") | {"1.1": (D(6), "制度齐全")}
    scorecards.review(reviewer_b, a, expert, halved)
    with pytest.raises(PermissionDenied):
        scorecards.finalize(own, a)
    scorecards.finalize(reviewer_b, a)
    a.refresh_from_db()
    assert (a.status, a.reviewer, a.final_score) == ("final", expert, D("27.5") + 3 + 5 + 4)
    assert a.grade == "不合格" and a.self_score == 64


def test_a_user_outside_the_scope_cannot_start_or_review(world, users):
    with pytest.raises(PermissionDenied):
        scorecards.start_assessment(users["agency_and_below"], world["B"], template(), "2026")
    assert not Assessment.objects.exists()


def test_review_needs_every_reviewer_item(world, reviewer_b):
    t = template()
    a = scorecards.start_assessment(None, world["A"], t, "2026")
    for code, (score, _n) in reviewer_marks(t, "1").items():
        scorecards.score_item(None, a, code, score)
    scorecards.submit(None, a)
    marks = reviewer_marks(t, "1")
    marks.pop("1.1")
    with pytest.raises(ValidationError, match=r"1\.1"):
        scorecards.review(reviewer_b, a, expert_of(world["B"]), marks)
    assert not a.scores.exclude(expert_score=None).filter(item__rule="reviewer").exists()


# -- rankings ---------------------------------------------------------------------------------


def test_rankings_of_agencies_districts_and_provinces(world):
    a_expert, b_expert = expert_of(world["A"]), expert_of(world["B"], "王专家")
    finished(world["A"], b_expert, "1")  # 82 (the indicator items have no data here)
    finished(world["A1"], b_expert, "0.5")  # 41
    finished(world["B"], a_expert, "0.5")
    finished(world["B1"], a_expert, "1")
    reviewer = ScorecardItem.Rule.REVIEWER
    assert sum(i.weight for i in template().items.filter(rule=reviewer)) == 82
    t = template()
    agencies = scorecards.rankings(None, t, "2026", "agency")
    assert {(r.rank, r.name, r.score) for r in agencies} == {
        (1, "大足区机关事务管理中心", D("82.0")), (1, "成都市锦江区财政局", D("82.0")),
        (3, "大足区财政局", D("41.0")), (3, "成都市机关事务管理局", D("41.0")),
    }  # fmt: skip
    assert [r.rank for r in agencies] == [1, 1, 3, 3]
    districts = scorecards.rankings(None, t, "2026", "district")
    assert [(r.rank, r.key, r.score, r.count) for r in districts] == [
        (1, "510104", D("82.0"), 1), (2, "500111", D("61.5"), 2), (3, "510100", D("41.0"), 1),
    ]  # fmt: skip
    provinces = scorecards.rankings(None, t, "2026", "province")
    assert {(r.rank, r.key, r.score, r.count, r.grade) for r in provinces} == {
        (1, "500000", D("61.5"), 2, "合格"), (1, "510000", D("61.5"), 2, "合格"),
    }  # fmt: skip


def test_rankings_read_through_the_scope(world, users):
    b_expert, a_expert = expert_of(world["B"]), expert_of(world["A"], "王专家")
    finished(world["A"], b_expert, "1")
    finished(world["B"], a_expert, "0.5")
    own = scorecards.rankings(users["agency_and_below"], template(), "2026", "province")
    assert [r.key for r in own] == ["500000"]
    with pytest.raises(ValidationError):
        scorecards.rankings(None, template(), "2026", "city")
