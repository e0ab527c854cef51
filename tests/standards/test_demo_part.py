"""The standards library's part of the demo world: the three sample standards and ~50
generated samples, plainly marked, public, owned by the provincial bureaus; fast."""

from collections import Counter

import pytest

from guanjia.demo.registry import DemoContext
from guanjia.demo.services import load_demo_world
from guanjia.standards.demo import _plan
from guanjia.standards.models import PRE_PUBLICATION, Comment, CommentPeriod, Reference, Standard

pytestmark = pytest.mark.django_db

# The other parts at their lightest: this file is about the standards.
LIGHT = {"vehicles_cq": 20, "vehicles_sc": 40, "trips": 10, "canteens": 2, "evaluated_bureaus": 2}


def test_demo_world_has_a_standards_library():
    result = load_demo_world("small", seed=7, sizes=LIGHT)
    counts = result["counts"]
    # 大足's internal ones come with the frameworks, the joint drafts with drafting.
    library = Standard.objects.exclude(code_prefix="Q/DZJG").exclude(stage__in=PRE_PUBLICATION)
    assert counts["standards"] == library.count() == 53
    assert counts["standard_clauses"] > 900
    samples = {"DB50/T 9001—2022", "DB50/T 9003—2023", "DB51/T 9002—2021"}
    assert samples <= set(Standard.objects.values_list("code", flat=True))
    generated = library.exclude(code__in=samples)
    assert all(s.title.startswith("（示例）") for s in generated)
    assert all(9100 <= int(s.code_number) <= 9999 for s in generated)
    assert set(library.values_list("is_public", flat=True)) == {True}
    owners = set(library.values_list("agency__name", flat=True))
    assert owners == {"重庆市机关事务管理局", "四川省机关事务管理局"}
    assert set(
        Standard.objects.filter(code_prefix="DB51/T").values_list("agency__name", flat=True)
    ) == {"四川省机关事务管理局"}
    statuses = Counter(s.status for s in library.with_status())
    assert statuses["in_force"] > 30 and statuses["superseded"] >= 3
    assert statuses["withdrawn"] == counts["standards_withdrawn"]
    superseded = Standard.objects.with_status().filter(status="superseded").first()
    assert superseded.replaced_by.exists()
    # Generated standards cite the sample framework standard, linked in the library.
    assert Reference.objects.filter(code_key="DB50/T9003-2023", target__isnull=False).count() > 40
    assert Standard.objects.get(code="DB50/T 9001—2022").source_file


def test_size_and_seed_decide_the_library():
    load_demo_world("small", seed=3, sizes=LIGHT | {"sample_standards": 12})
    library = Standard.objects.exclude(code_prefix="Q/DZJG").exclude(stage__in=PRE_PUBLICATION)
    assert library.count() == 15

    def plan(seed):
        ctx = DemoContext(scale="small", seed=seed)
        ctx.begin_part("standards")
        return [item["text"] for item in _plan(ctx, 12)]

    assert plan(3) == plan(3) and plan(3) != plan(4)


def test_demo_world_has_frameworks_and_coverage():
    from guanjia.core.indicator_registry import IndicatorScope, Period, get_indicator
    from guanjia.core.models import Agency
    from guanjia.standards.frameworks import agency_coverage
    from guanjia.standards.models import AgencyFunction, FrameworkNode

    counts = load_demo_world("small", seed=7, sizes=LIGHT)["counts"]
    roots = {r.code: r for r in FrameworkNode.objects.filter(depth=1)}
    assert set(roots) == {"3+7N", "8+N", "DZ"} and counts["frameworks"] == 3
    cq = FrameworkNode.objects.filter(path__startswith=roots["3+7N"].path, depth=2)
    assert cq.count() == 10 and cq.first().name == "通用基础标准子体系"
    sc = FrameworkNode.objects.filter(path__startswith=roots["8+N"].path, depth=2)
    assert sc.count() == 8 and "示例" in roots["8+N"].description
    dz = FrameworkNode.objects.filter(path__startswith=roots["DZ"].path, depth=2)
    assert list(dz.values_list("name", flat=True)) == [
        "通用基础标准体系",
        "运行保障标准体系",
        "监督评价标准体系",
    ]
    internal = Standard.objects.filter(framework_nodes__path__startswith=roots["DZ"].path)
    assert internal.distinct().count() == 34 == counts["internal_standards"]
    assert set(internal.values_list("level", flat=True)) == {"internal"}
    assert all(s.title.startswith("（示例）") for s in internal)
    dazu = Agency.objects.get(name="大足区机关事务管理中心")
    own = AgencyFunction.objects.filter(agency=dazu)
    assert own.count() >= 10
    assert agency_coverage(None, dazu).rate == 100.0
    rate = get_indicator("standards.function_coverage_rate").compute(
        IndicatorScope(dazu, include_below=False), Period.parse("2026-03")
    )
    assert rate == 100.0
    partial = [
        agency_coverage(None, a).rate
        for a in Agency.objects.filter(functions__isnull=False).exclude(pk=dazu.pk).distinct()
    ]
    assert len(partial) >= 3 and all(r is not None and r < 100 for r in partial)


def test_demo_world_has_joint_drafts():
    counts = load_demo_world("small", seed=7, sizes=LIGHT)["counts"]
    drafts = Standard.objects.filter(stage="soliciting").order_by("code")
    assert [d.title for d in drafts] == [
        "川渝区域一体化公务用车社会化保障管理规范",
        "川渝地区机关食堂反食品浪费评价规范",
    ]
    assert all(not d.is_public for d in drafts)
    for period in CommentPeriod.objects.filter(standard__in=drafts):
        assert period.group.name.startswith("第") and period.version.number == 1
        assert all("（示例）" in c[2] for c in period.version.clauses if c[0].count(".") == 1)
        members = set(period.group.members.values_list("pk", flat=True))
        assert {c.agency_id for c in period.comments.all()} <= members
    comments = Comment.objects.filter(period__standard__in=drafts)
    assert counts["draft_comments"] == comments.count() == 7
    assert counts["draft_comments_disposed"] == comments.exclude(disposition="pending").count() == 4
