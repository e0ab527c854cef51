"""Case handling: verify with an optional note, dismiss only with a reason, once."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from guanjia.core.scope import DataScope
from guanjia.vehicles import cases
from guanjia.vehicles.cases import Proposal
from guanjia.vehicles.models import MisuseCase

from ..conftest import make_role, make_user
from .lifecycle_fixtures import at


def _open(agency, key="t:1"):
    [case] = cases.open_cases(
        None,
        [
            Proposal(
                rule="fuel_tank_overfill",
                agency_id=agency.pk,
                dedup_key=key,
                title="测试线索",
                episode_start=at("2026-03-01"),
                evidence={"refuelling_ids": [1]},
            )
        ],
    )
    return case


def test_open_cases_skips_known_keys_and_takes_the_rules_source(world):
    case = _open(world["A"])
    assert "第二十六条" in case.source and case.status == "open"
    again = cases.open_cases(
        None,
        [Proposal("fuel_tank_overfill", world["A"].pk, "t:1", "x", at("2026-03-01"), {})],
    )
    assert again == [] and MisuseCase.objects.count() == 1


def test_dismissal_needs_a_reason_and_a_handled_case_is_final(world, users):
    case = _open(world["A"])
    user = users["agency"]
    with pytest.raises(ValidationError, match="理由"):
        cases.dismiss_case(user, case, "   ")
    cases.dismiss_case(user, case, "加油站录错车牌，已更正")
    case.refresh_from_db()
    assert (case.status, case.resolution, case.handled_by) == (
        "dismissed",
        "加油站录错车牌，已更正",
        user,
    )
    assert case.handled_at is not None
    with pytest.raises(ValidationError, match="已处理"):
        cases.verify_case(user, case, "")


def test_verify_with_optional_note(world, users):
    case = cases.verify_case(users["agency"], _open(world["A"]))
    assert case.status == "verified" and case.resolution == ""


def test_handling_needs_change_permission_and_scope(world, users):
    b_case = _open(world["B"], "t:b")
    with pytest.raises(PermissionDenied):
        cases.verify_case(users["agency"], b_case, "越权")
    viewer = make_user(
        "viewer", world["A"], make_role("viewer", DataScope.AGENCY, ["vehicles.view"])
    )
    a_case = _open(world["A"], "t:a")
    with pytest.raises(PermissionDenied):
        cases.dismiss_case(viewer, a_case, "无权")
    assert set(MisuseCase.objects.values_list("status", flat=True)) == {"open"}


def test_a_case_opened_meanwhile_counts_as_already_open(world, monkeypatch):
    """F6: another run opened the same key after this one looked: no IntegrityError."""
    _open(world["A"], "t:race")
    real = MisuseCase.objects.filter

    def stale(*args, **kwargs):  # the look-up happened before the other run's insert
        return MisuseCase.objects.none() if "dedup_key__in" in kwargs else real(*args, **kwargs)

    monkeypatch.setattr(MisuseCase.objects, "filter", stale)
    again = [
        Proposal("fuel_tank_overfill", world["A"].pk, key, "x", at("2026-03-01"), {})
        for key in ("t:race", "t:new")
    ]
    opened = cases.open_cases(None, again)
    assert [c.dedup_key for c in opened] == ["t:new"]
    assert MisuseCase.objects.count() == 2


def test_a_stale_copy_cannot_handle_a_case_again(world, users):
    """F5: two people open the same case; the second decision sees the first."""
    case = _open(world["A"])
    stale = MisuseCase.objects.get(pk=case.pk)
    cases.verify_case(users["agency"], case, "属实")
    with pytest.raises(ValidationError, match="已处理"):
        cases.dismiss_case(users["agency_and_below"], stale, "误报")
    case.refresh_from_db()
    assert (case.status, case.resolution) == ("verified", "属实")
