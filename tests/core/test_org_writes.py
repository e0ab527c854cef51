"""Writes to agencies, users and roles that an earlier review found too permissive: where an
agency may go, who may change whom, what an edit of a role or user checks, and what a
refusal may reveal."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanjia.core import services
from guanjia.core.models import Agency, ApiToken, ObjectChange, Region, Role, User
from guanjia.core.scope import DataScope

from ..conftest import PASSWORD, api_client, make_role, make_user
from .conftest import call, snapshot

V1 = "/api/v1"


def fresh(user):
    return User.objects.select_related("agency__region").get(pk=user.pk)


def agency(world, key):
    return Agency.objects.get(pk=world[key].pk)


def assert_refused(fn, *args, **kwargs):
    before = snapshot()
    with pytest.raises(PermissionDenied):
        fn(*args, **kwargs)
    assert snapshot() == before, "a refused write left something behind"


# -- 1. where an agency may go --------------------------------------------------------------


@pytest.fixture
def a1_admin(world):
    """Changes its own agency A1 only, but may read the whole organisation."""
    return fresh(
        make_user(
            "a1_admin",
            world["A1"],
            make_role("a1_own", DataScope.AGENCY, ["org.*"]),
            make_role("read_all", DataScope.ALL, ["org.view"]),
        )
    )


def test_move_needs_change_rights_on_the_new_parent(a1_admin, world):
    assert_refused(services.move_agency, a1_admin, agency(world, "A1"), agency(world, "B"))
    assert Agency.objects.get_parent(agency(world, "A1")) == world["A"]


def test_only_an_unrestricted_actor_makes_a_root(a1_admin, world, users, regions):
    assert_refused(services.move_agency, a1_admin, agency(world, "A1"), None)
    assert_refused(
        services.create_agency, a1_admin, name="新根单位", region=regions["500111"], parent=None
    )
    everyone = fresh(users["all"])  # scope "all": may make roots
    moved = services.move_agency(everyone, agency(world, "A1"), None)
    assert moved.depth == 1


def test_create_needs_add_rights_on_the_parent(world, regions):
    reader = fresh(
        make_user(
            "adder",
            world["A"],
            make_role("adds_below_a", DataScope.AGENCY_AND_BELOW, ["org.add", "org.view"]),
            make_role("sees_all", DataScope.ALL, ["org.view"]),
        )
    )
    assert_refused(
        services.create_agency,
        reader,
        parent=agency(world, "B"),
        name="成都下级",
        region=regions["510104"],
    )
    child = services.create_agency(
        reader, parent=agency(world, "A1"), name="大足下级", region=regions["500111"]
    )
    assert child.path.startswith(world["A1"].path)


def test_a_move_takes_nothing_outside_the_actors_scope_with_it(world, regions):
    """A region-scoped user may change A (Chongqing) but not a Sichuan agency below it."""
    sichuan_child = services.create_agency(
        None, parent=world["A1"], name="驻成都办事处", region=regions["510104"]
    )
    actor = fresh(make_user("a_region", world["A"], make_role("reg", DataScope.REGION, ["org.*"])))
    a2 = services.create_agency(
        actor, parent=agency(world, "A"), name="大足新单位", region=regions["500111"]
    )
    assert_refused(services.move_agency, actor, agency(world, "A1"), a2)
    assert Agency.objects.get(pk=sichuan_child.pk).path.startswith(world["A1"].path)


def test_api_looks_the_new_parent_up_for_change(a1_admin, world):
    client = api_client(a1_admin)
    r = call(client, "POST", f"{V1}/agencies/{world['A1'].pk}/move", {"parent_id": world["B"].pk})
    assert r.status_code == 404
    r = call(client, "POST", f"{V1}/agencies/{world['A1'].pk}/move", {"parent_id": None})
    assert r.status_code == 403
    assert Agency.objects.get_parent(agency(world, "A1")) == world["A"]


# -- 2. nobody changes a user stronger than themselves --------------------------------------


@pytest.fixture
def weak(world):
    """Administers A's accounts ("system.*" on own agency)."""
    return fresh(
        make_user("weak", world["A"], make_role("sys_own", DataScope.AGENCY, ["system.*"]))
    )


@pytest.fixture
def strong(world):
    return make_user("strong", world["A"], make_role("everything", DataScope.ALL, ["*"]))


def test_no_password_reset_or_deactivation_of_a_stronger_user(weak, strong):
    assert_refused(services.update_user, weak, fresh(strong), password="Another-Pass-2026x")
    assert_refused(services.update_user, weak, fresh(strong), is_active=False)
    assert User.objects.get(pk=strong.pk).check_password(PASSWORD)


def test_no_token_for_a_stronger_user(weak, strong):
    assert_refused(services.create_token, weak, fresh(strong), "take-over")
    assert not ApiToken.objects.filter(user=strong).exists()


def test_no_change_of_a_superuser(weak, world):
    root = User.objects.create_superuser("root9", "", PASSWORD, agency=world["A"])
    assert_refused(services.update_user, weak, fresh(root), phone="110")


def test_weaker_colleagues_and_oneself_can_still_be_changed(weak, world):
    clerk = make_user("clerk", world["A"], make_role("clerk", DataScope.AGENCY, ["system.view"]))
    services.update_user(weak, fresh(clerk), password="Clerk-New-Pass-2026")
    assert User.objects.get(pk=clerk.pk).check_password("Clerk-New-Pass-2026")
    services.update_user(weak, weak, phone="13900000000")
    assert User.objects.get(pk=weak.pk).phone == "13900000000"


def test_an_agency_change_rechecks_the_roles_kept(world):
    """A role's data scope follows its holder: moving a user to A1 would make an "own
    agency" role reach A1, which the actor cannot reach with that permission."""
    actor = fresh(
        make_user(
            "actor",
            world["A"],
            make_role("sys_below", DataScope.AGENCY_AND_BELOW, ["system.*", "org.view"]),
            make_role("org_own", DataScope.AGENCY, ["org.*"]),
        )
    )
    helper = services.create_user(
        actor,
        username="helper",
        password=None,
        agency=agency(world, "A"),
        roles=[make_role("grant", DataScope.AGENCY, ["org.*"])],
    )
    assert_refused(services.update_user, actor, fresh(helper), agency=agency(world, "A1"))
    assert User.objects.get(pk=helper.pk).agency_id == world["A"].pk


def test_moving_oneself_does_not_carry_ones_roles_elsewhere(world):
    me = make_user(
        "selfie",
        world["A"],
        make_role("self_sys", DataScope.SELF, ["system.change", "system.view"]),
        make_role("own_org", DataScope.AGENCY, ["org.*"]),
    )
    assert_refused(services.update_user, fresh(me), fresh(me), agency=agency(world, "B"))
    same = fresh(me)
    assert_refused(services.update_user, same, same, agency=agency(world, "B"))
    assert User.objects.get(pk=me.pk).agency_id == world["A"].pk


# -- 8. edits check what they add, and keep what the editor cannot see ----------------------


@pytest.fixture
def editor(world):
    """Manages roles and accounts of A and below; sees A's tree only."""
    return fresh(
        make_user(
            "editor",
            world["A"],
            make_role("editor", DataScope.AGENCY_AND_BELOW, ["system.*", "org.view"]),
        )
    )


def test_role_edit_keeps_custom_agencies_the_editor_cannot_reach(editor, world):
    role = services.save_role(
        None,
        key="a_custom",
        name="自定",
        permissions=["org.view"],
        data_scope=DataScope.CUSTOM,
        agency=world["A"],
        custom_agencies=[world["A1"], world["B1"]],
    )
    make_user("holder", world["A"], role)
    kept = [agency(world, "A1"), agency(world, "B1")]
    services.save_role(editor, Role.objects.get(pk=role.pk), name="改名", custom_agencies=kept)
    assert Role.objects.get(pk=role.pk).name == "改名"
    # Adding an agency beyond the editor's reach is still refused.
    assert_refused(
        services.save_role,
        editor,
        Role.objects.get(pk=role.pk),
        custom_agencies=[*kept, agency(world, "B")],
    )
    # So is widening the data scope.
    assert_refused(
        services.save_role, editor, Role.objects.get(pk=role.pk), data_scope=DataScope.ALL
    )


def test_user_edit_keeps_roles_the_editor_cannot_see(editor, world):
    hidden = services.save_role(
        None,
        key="b_reader",
        name="成都只读",
        permissions=["org.view"],
        data_scope=DataScope.AGENCY,
        agency=world["B"],
    )
    assert not Role.objects.restrict(editor).filter(pk=hidden.pk).exists()
    target = make_user("target", world["A"], hidden)
    shown = make_role("a_reader", DataScope.AGENCY, ["org.view"])
    saved = services.update_user(editor, fresh(target), phone="123", roles=[shown, hidden])
    assert set(saved.roles.all()) == {shown, hidden}
    # A hidden role is still not the editor's to give to someone else.
    other = make_user("other", world["A"])
    assert_refused(services.update_user, editor, fresh(other), roles=[hidden])


# -- 11. the parent of a tree node -----------------------------------------------------------


def test_with_parent_annotates_the_parent_among_a_queryset(world, regions):
    rows = dict(
        Agency.objects.all().with_parent("name", "parent_name").values_list("name", "parent_name")
    )
    assert rows[world["A1"].name] == world["A"].name and rows[world["A"].name] is None
    codes = dict(Region.objects.all().with_parent("code", "up").values_list("code", "up"))
    assert codes["510104"] == "510100" and codes["510000"] is None
    only_a1 = Agency.objects.filter(pk=world["A1"].pk)
    among = Agency.objects.all().with_parent("pk", "seen", among=only_a1).get(pk=world["A1"].pk)
    assert among.seen is None  # A1's parent is not in `among`


# -- 13. the data-scope check of a role edit does not grow with its holders -------------------


def test_role_edit_checks_holders_per_agency_not_per_holder(editor, world):
    role = services.save_role(
        None,
        key="clerks",
        name="办事员",
        permissions=["org.view", "system.view"],
        data_scope=DataScope.AGENCY,
        agency=world["A"],
    )
    make_user("h0", world["A"], role)
    with CaptureQueriesContext(connection) as few:
        services.save_role(editor, Role.objects.get(pk=role.pk), data_scope=DataScope.AGENCY)
    for i in range(1, 8):
        make_user(f"h{i}", world["A"] if i % 2 else world["A1"], role)
    with CaptureQueriesContext(connection) as many:
        services.save_role(editor, Role.objects.get(pk=role.pk), data_scope=DataScope.AGENCY)
    assert len(many.captured_queries) <= len(few.captured_queries) + 1


# -- 14. a refusal does not confirm what lies outside the caller's scope ---------------------


def test_a_name_taken_outside_the_scope_gets_a_generic_answer(users, world, regions):
    client = api_client(users["agency_and_below"])
    body = {"name": world["B1"].name, "region": "500111", "parent_id": world["A"].pk}
    r = call(client, "POST", f"{V1}/agencies", body)
    assert r.status_code == 422
    assert r.json()["detail"] == {"name": ["该单位名称不可用"]}
    assert "已存在" not in r.content.decode()
    # A clash the caller can see is named as such.
    body = {"name": world["A1"].name, "region": "500111", "parent_id": world["A"].pk}
    r = call(client, "POST", f"{V1}/agencies", body)
    assert r.status_code == 422 and "已存在" in str(r.json()["detail"]["name"])


def test_a_credit_code_taken_outside_the_scope_gets_a_generic_answer(users, world):
    services.update_agency(None, world["B1"], credit_code="11100000MB0143028R")
    actor = fresh(users["agency_and_below"])
    with pytest.raises(ValidationError) as refused:
        services.update_agency(actor, agency(world, "A1"), credit_code="11100000MB0143028R")
    assert refused.value.message_dict == {"credit_code": ["该统一社会信用代码不可用"]}
    assert (
        not ObjectChange.objects.filter(after__credit_code="11100000MB0143028R")
        .exclude(object_id=str(world["B1"].pk))
        .exists()
    )
