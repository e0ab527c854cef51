"""Determinism, the command, the registry and the fake-data helpers (each loads afresh)."""

import io
import json
import random
from contextlib import suppress

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from guanjia.core.models import Agency, User
from guanjia.core.validators import validate_uscc
from guanjia.demo import fake
from guanjia.demo.management.commands.demo import parse_size
from guanjia.demo.registry import DemoContext, demo_part, discover, registered_parts
from guanjia.demo.services import TqdmProgress, load_demo_world

from .conftest import snapshot

pytestmark = pytest.mark.django_db

LIGHT = {"served_agencies": 1, "bureau_users": 0, "canteens": 2, "evaluated_bureaus": 2}
# finance only, demo logins only, two canteens and two bureaus evaluated
LIGHT_FLAGS = [flag for key, value in LIGHT.items() for flag in ("--size", f"{key}={value}")]


class _Rollback(Exception):
    pass


def load_and_roll_back(**kwargs) -> dict:
    """Load, take the snapshot, and undo the load (the test database stays empty)."""
    taken = {}
    with suppress(_Rollback), transaction.atomic():
        load_demo_world(**kwargs)
        taken.update(snapshot())
        raise _Rollback
    assert not Agency.objects.exists()
    return taken


def test_same_seed_same_world_and_command_json(capsys):
    first = load_and_roll_back(scale="small", seed=11, sizes=LIGHT)
    call_command("demo", "--seed", "11", "--json", "--no-progress", *LIGHT_FLAGS)
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"scale", "seed", "counts", "seconds"}
    assert doc["scale"] == "small" and doc["seed"] == 11
    assert doc["counts"]["bureaus"] == 68 and doc["counts"]["groups"] == 5
    assert doc["counts"]["agencies"] == Agency.objects.count()
    assert snapshot() == first
    with pytest.raises(CommandError, match="已有"):
        call_command("demo", "--json", "--no-progress")


def test_other_seed_keeps_the_68_but_varies_the_rest():
    a = load_and_roll_back(scale="small", seed=1, sizes=LIGHT)
    b = load_and_roll_back(scale="small", seed=2, sizes=LIGHT)
    names = {row[1] for row in a["agencies"]}
    assert names == {row[1] for row in b["agencies"]}  # finance only: same names
    assert a["groups"] == b["groups"]
    assert [r[4] for r in a["agencies"]] != [r[4] for r in b["agencies"]]  # credit codes


def test_sizes_override_gives_a_lighter_province_world():
    result = load_demo_world(
        "province",
        seed=3,
        sizes={
            "served_agencies": 2,
            "bureau_users": 1,
            "agency_users": 1,
            # the other parts' province sizes (96,000 cars …) are not what this test is about
            "sample_standards": 12,
            "vehicles_cq": 60,
            "vehicles_sc": 120,
            "trips": 40,
            "canteens": 3,
            "evaluated_bureaus": 3,
        },
    )
    counts = result["counts"]
    # 68 bureaus + 3 other units of the Chongqing bureau + 2 served by each of 67 bureaus
    assert counts["agencies"] == 68 + 3 + 67 * 2
    assert counts["users"] == 10 + 68 + 67 * 2
    assert User.objects.filter(roles__key="agency_staff").count() == 67 * 2 + 1


def test_unknown_scale_is_refused():
    with pytest.raises(ValueError, match="规模"):
        load_demo_world("country")


def test_parse_size():
    assert parse_size("served_agencies=5") == ("served_agencies", 5)
    assert parse_size("served_agencies=3-5") == ("served_agencies", (3, 5))
    with pytest.raises(CommandError):
        parse_size("served_agencies")


def test_registry_discovers_core_first_and_refuses_duplicates():
    parts = discover()
    assert parts[0].name == "core" and parts[0].order == 10
    assert "68" in parts[0].description

    def other(ctx):
        return {}

    with pytest.raises(ValueError, match="registered twice"):
        demo_part("core", order=10)(other)
    assert registered_parts() == parts


def test_context_sizes_and_streams():
    ctx = DemoContext(scale="province", seed=5, sizes={"b": 4})
    ctx.begin_part("x")
    assert ctx.size("a", small=1, province=(2, 3)) == (2, 3)
    assert 2 <= ctx.amount("a", small=1, province=(2, 3)) <= 3
    assert ctx.amount("b", small=1, province=9) == 4
    same = DemoContext("small", 5, part="x")
    assert ctx.derive("s").random() == same.derive("s").random()
    seen = []
    ctx.progress = lambda label, done, total: seen.append((label, done, total))
    ctx.stage("单位", 2)
    ctx.tick()
    ctx.tick()
    assert seen == [("单位", 0, 2), ("单位", 1, 2), ("单位", 2, 2)]


def test_fake_codes_names_phones():
    rng = random.Random(1)
    used = set()
    for _ in range(300):
        code = fake.credit_code(rng, "510104", used=used)
        validate_uscc(code)
        assert code.startswith("11510104")
    assert len(used) == 300
    org = fake.organization_code(rng)
    assert len(org) == 9
    assert fake.landline(rng, "500111").startswith("023-")
    assert fake.landline(rng, "513400").startswith("0834-")
    phone = fake.mobile(rng)
    assert len(phone) == 11 and phone.isdigit() and phone[0] == "1"
    assert 2 <= len(fake.person_name(rng)) <= 3


def test_tqdm_progress_draws_one_bar_per_stage():
    out = io.StringIO()
    progress = TqdmProgress(file=out)
    for label, total in (("单位", 3), ("用户", 2)):
        for done in range(total + 1):
            progress(label, done, total)
    progress.close()
    text = out.getvalue()
    assert "单位: 100%" in text and "3/3" in text and "用户: 100%" in text and "2/2" in text


def test_command_draws_no_bar_when_stderr_is_not_a_terminal():
    err = io.StringIO()
    call_command(
        "demo",
        "--size",
        "served_agencies=1",
        "--size",
        "bureau_users=0",
        "--size",
        "canteens=2",
        "--size",
        "evaluated_bureaus=2",
        stdout=io.StringIO(),
        stderr=err,
    )
    assert err.getvalue() == ""
    assert Agency.objects.count() == 68 + 3 + 67


def test_a_failing_part_leaves_nothing_half_written():
    from guanjia.demo import registry

    @demo_part("zz_broken", order=999)
    def broken(ctx):
        assert ctx.agencies_by_name  # core ran first
        raise RuntimeError("boom")

    try:
        with pytest.raises(RuntimeError, match="boom"):
            load_demo_world("small", seed=1, sizes=LIGHT)
    finally:
        registry._parts.pop("zz_broken")
    assert not Agency.objects.exists() and not User.objects.exists()
