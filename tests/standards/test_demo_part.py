"""The standards library's part of the demo world: the three sample standards and ~50
generated samples, plainly marked, public, owned by the provincial bureaus; fast."""

import time
from collections import Counter

import pytest

from guanjia.demo.registry import DemoContext
from guanjia.demo.services import load_demo_world
from guanjia.standards.demo import _plan
from guanjia.standards.models import Reference, Standard

pytestmark = pytest.mark.django_db


def test_demo_world_has_a_standards_library():
    started = time.perf_counter()
    result = load_demo_world("small", seed=7)
    assert time.perf_counter() - started < 10
    counts = result["counts"]
    assert counts["standards"] == Standard.objects.count() == 53
    assert counts["standard_clauses"] > 900
    samples = {"DB50/T 9001—2022", "DB50/T 9003—2023", "DB51/T 9002—2021"}
    assert samples <= set(Standard.objects.values_list("code", flat=True))
    generated = Standard.objects.exclude(code__in=samples)
    assert all(s.title.startswith("（示例）") for s in generated)
    assert all(9100 <= int(s.code_number) <= 9999 for s in generated)
    assert set(Standard.objects.values_list("is_public", flat=True)) == {True}
    owners = set(Standard.objects.values_list("agency__name", flat=True))
    assert owners == {"重庆市机关事务管理局", "四川省机关事务管理局"}
    assert set(
        Standard.objects.filter(code_prefix="DB51/T").values_list("agency__name", flat=True)
    ) == {"四川省机关事务管理局"}
    statuses = Counter(s.status for s in Standard.objects.with_status())
    assert statuses["in_force"] > 30 and statuses["superseded"] >= 3
    assert statuses["withdrawn"] == counts["standards_withdrawn"]
    superseded = Standard.objects.with_status().filter(status="superseded").first()
    assert superseded.replaced_by.exists()
    # Generated standards cite the sample framework standard, linked in the library.
    assert Reference.objects.filter(code_key="DB50/T9003-2023", target__isnull=False).count() > 40
    assert Standard.objects.get(code="DB50/T 9001—2022").source_file


def test_size_and_seed_decide_the_library():
    load_demo_world("small", seed=3, sizes={"sample_standards": 12})
    assert Standard.objects.count() == 15

    def plan(seed):
        ctx = DemoContext(scale="small", seed=seed)
        ctx.begin_part("standards")
        return [item["text"] for item in _plan(ctx, 12)]

    assert plan(3) == plan(3) and plan(3) != plan(4)
