"""`restrict()` and the service functions, without HTTP: how roles combine, how permissions
match, and that a write outside the caller's scope is refused and rolled back whole."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from guanjia.core import services
from guanjia.core.models import Agency, CollaborationGroup, ObjectChange, Role, User
from guanjia.core.scope import DataScope, permission_matches

from ..conftest import make_role, make_user
from .conftest import snapshot


def visible(user, model=Agency, action="view"):
    return set(model.objects.restrict(user, action).values_list("pk", flat=True))


def fresh(user):
    """The user as a new request would load it (no cached roles, no shared instances)."""
    return User.objects.select_related("agency__region").get(pk=user.pk)


def ids(*agencies):
    return {a.pk for a in agencies}


# -- how roles and permissions combine ------------------------------------------------------


def test_roles_are_ored(world):
    user = make_user(
        "two_roles",
        world["A"],
        make_role("own", DataScope.AGENCY),
        make_role("custom_b", DataScope.CUSTOM, custom=[world["B"]]),
    )
    assert visible(user) == ids(world["A"], world["B"])


def test_scope_all_wins_over_narrower_roles(world):
    user = make_user(
        "wide", world["A"], make_role("own", DataScope.AGENCY), make_role("all", DataScope.ALL)
    )
    assert visible(user) == set(Agency.objects.values_list("pk", flat=True))


def test_disabled_role_is_ignored(world):
    off = make_role("all_but_off", DataScope.ALL)
    off.enabled = False
    off.save()
    user = make_user("mixed", world["A"], off, make_role("own", DataScope.AGENCY))
    assert visible(user) == ids(world["A"])
    only_off = make_user("only_off", world["A"], off)
    assert visible(only_off) == set()
    assert not only_off.can("org.view")


def test_no_role_means_nothing(world):
    user = make_user("nobody", world["A"])
    for model in (Agency, User, Role, CollaborationGroup, ObjectChange):
        assert not model.objects.restrict(user).exists(), model


def test_inactive_and_anonymous_users_see_nothing(world, users):
    from django.contrib.auth.models import AnonymousUser

    assert visible(AnonymousUser()) == set()
    users["all"].is_active = False
    assert visible(users["all"]) == set()


def test_superuser_is_unrestricted(world):
    root = User.objects.create_superuser("root2", "r@example.cn", "x-Long-Pass-2026")
    assert visible(root) == set(Agency.objects.values_list("pk", flat=True))


@pytest.mark.parametrize(
    ("granted", "wanted", "expected"),
    [
        ("*", "org.view", True),
        ("*", "audit.delete", True),
        ("org.*", "org.view", True),
        ("org.*", "org.change", True),
        ("org.*", "system.view", False),
        ("org.view", "org.view", True),
        ("org.view", "org.change", False),
        ("org.view", "organisation.view", False),
        ("org", "org.view", False),
        ("or*", "org.view", False),
    ],
)
def test_permission_matching(granted, wanted, expected):
    assert permission_matches(granted, wanted) is expected


def test_permission_is_needed_per_action_and_domain(world):
    viewer = make_user("viewer", world["A"], make_role("viewer", permissions=["org.view"]))
    assert visible(viewer) == ids(world["A"])
    assert visible(viewer, action="change") == set()
    assert visible(viewer, User) == set()  # users are the "system" domain
    editor = make_user("editor", world["A"], make_role("editor", permissions=["org.*"]))
    assert visible(editor, action="change") == ids(world["A"])
    assert visible(editor, action="delete") == ids(world["A"])
    assert visible(editor, Role) == set()


def test_unknown_action_is_an_error(users):
    with pytest.raises(ValueError):
        Agency.objects.restrict(users["all"], "approve")


# -- writes are re-checked inside the transaction -------------------------------------------


def assert_refused(fn, *args, **kwargs):
    before = snapshot()
    with pytest.raises(PermissionDenied):
        fn(*args, **kwargs)
    assert snapshot() == before, "a refused write left something behind"


def test_own_agency_cannot_create_under_b_or_at_root(users, world, regions):
    actor = fresh(users["agency"])
    b = Agency.objects.get(pk=world["B"].pk)
    assert_refused(
        services.create_agency, actor, parent=b, name="越权下级", region=regions["510104"]
    )
    assert_refused(services.create_agency, actor, name="越权根单位", region=regions["500111"])
    assert not Agency.objects.filter(name__startswith="越权").exists()


def test_agency_and_below_creates_within_its_tree(users, world, regions):
    actor = fresh(users["agency_and_below"])
    child = services.create_agency(
        actor,
        parent=Agency.objects.get(pk=world["A1"].pk),
        name="大足区财政局会计核算中心",
        region=regions["500111"],
    )
    assert child.path.startswith(world["A1"].path)
    assert ObjectChange.objects.filter(object_id=str(child.pk), action="create").exists()


def test_cannot_move_own_agency_under_b(users, world):
    actor = fresh(users["agency_and_below"])
    a1 = Agency.objects.get(pk=world["A1"].pk)
    b = Agency.objects.get(pk=world["B"].pk)
    path_before = a1.path
    assert_refused(services.move_agency, actor, a1, b)
    assert Agency.objects.get(pk=a1.pk).path == path_before
    assert Agency.objects.get(pk=b.pk).numchild == 1


def test_cannot_move_b_into_own_tree(users, world):
    actor = fresh(users["agency_and_below"])
    b1 = Agency.objects.get(pk=world["B1"].pk)
    assert_refused(services.move_agency, actor, b1, Agency.objects.get(pk=world["A"].pk))


def test_move_within_scope_is_recorded(users, world, regions):
    actor = fresh(users["agency_and_below"])
    a = Agency.objects.get(pk=world["A"].pk)
    a2 = services.create_agency(actor, parent=a, name="大足区税务局", region=regions["500111"])
    a1 = Agency.objects.get(pk=world["A1"].pk)
    moved = services.move_agency(actor, a2, a1)
    assert Agency.objects.get_parent(moved) == a1
    change = ObjectChange.objects.filter(object_id=str(a2.pk), action="update").latest("pk")
    assert change.before["path"] != change.after["path"]


def test_cannot_move_an_agency_below_itself(users, world):
    actor = fresh(users["agency_and_below"])
    a = Agency.objects.get(pk=world["A"].pk)
    with pytest.raises(ValidationError):
        services.move_agency(actor, a, Agency.objects.get(pk=world["A1"].pk))


def test_cannot_update_b(users, world):
    actor = fresh(users["agency_and_below"])
    assert_refused(
        services.update_agency, actor, Agency.objects.get(pk=world["B"].pk), contact_person="x"
    )


def test_region_scope_cannot_update_agency_into_another_region(users, world, regions):
    """Changing A's region to Sichuan would put it outside the caller's region scope."""
    actor = fresh(users["region"])
    a = Agency.objects.get(pk=world["A"].pk)
    assert_refused(services.update_agency, actor, a, region=regions["510104"])
    assert Agency.objects.get(pk=a.pk).region.code == "500111"
    services.update_agency(actor, a, region=regions["500111"], contact_person="王五")
    assert Agency.objects.get(pk=a.pk).contact_person == "王五"


def test_cannot_create_user_at_b_or_move_a_user_into_b(users, world):
    actor = fresh(users["agency_and_below"])
    b = Agency.objects.get(pk=world["B"].pk)
    assert_refused(services.create_user, actor, username="intruder", password=None, agency=b)
    colleague = User.objects.get(pk=users["norole"].pk)
    assert_refused(services.update_user, actor, colleague, agency=b)
    assert User.objects.get(pk=colleague.pk).agency_id == world["A"].pk


def test_cannot_convene_a_group_for_b(users, world):
    actor = fresh(users["agency"])
    b = Agency.objects.get(pk=world["B"].pk)
    assert_refused(services.save_group, actor, name="越权组", agency=b)


def test_cannot_create_a_role_owned_by_b(users, world):
    actor = fresh(users["agency"])
    b = Agency.objects.get(pk=world["B"].pk)
    assert_refused(services.save_role, actor, key="intruder", name="越权", permissions=[], agency=b)


def test_system_writes_are_unrestricted(world, regions):
    agency = services.create_agency(
        None, parent=world["B"], name="系统创建", region=regions["510104"]
    )
    assert Agency.objects.get_parent(agency) == world["B"]


# -- no escalation through roles -----------------------------------------------------------


@pytest.fixture
def limited_admin(world):
    """Administers A's organisation and accounts; holds neither "*" nor vehicles.*."""
    role = make_role(
        "limited_admin",
        DataScope.AGENCY,
        permissions=["org.view", "org.add", "system.view", "system.add", "system.change"],
    )
    return fresh(make_user("limited_admin", world["A"], role))


@pytest.mark.parametrize(
    "permissions",
    [["*"], ["vehicles.view"], ["org.delete"], ["org.*"], ["system.*"], ["org.view", "audit.view"]],
)
def test_cannot_grant_permissions_one_lacks(limited_admin, world, permissions):
    a = Agency.objects.get(pk=world["A"].pk)
    assert_refused(
        services.save_role,
        limited_admin,
        key="escalate",
        name="提权",
        permissions=permissions,
        agency=a,
    )


def test_can_grant_permissions_one_holds(limited_admin, world):
    a = Agency.objects.get(pk=world["A"].pk)
    role = services.save_role(
        limited_admin, key="clerk", name="办事员", permissions=["org.view"], agency=a
    )
    assert role.permissions == ["org.view"]


def test_holder_of_star_still_cannot_grant_star(users, world):
    actor = fresh(users["agency"])
    a = Agency.objects.get(pk=world["A"].pk)
    assert_refused(services.save_role, actor, key="star", name="全部", permissions=["*"], agency=a)


def test_cannot_widen_own_role(limited_admin, world):
    role = limited_admin.roles.get()
    role.agency = Agency.objects.get(pk=world["A"].pk)
    role.save()
    admin = fresh(limited_admin)
    assert_refused(services.save_role, admin, role, permissions=[*role.permissions, "org.delete"])


def test_cannot_assign_a_role_with_permissions_one_lacks(limited_admin, users, world):
    strong = make_role("strong_platform", DataScope.AGENCY, permissions=["vehicles.*"])
    colleague = User.objects.get(pk=users["norole"].pk)
    assert_refused(services.update_user, limited_admin, colleague, roles=[strong])
    assert not colleague.roles.exists()


def test_cannot_assign_a_role_with_a_wider_data_scope(limited_admin, users, world):
    """A role that sees every agency, handed to oneself or a colleague, would reach past the
    caller's own scope even though its permissions are harmless."""
    a = Agency.objects.get(pk=world["A"].pk)
    wide = services.save_role(
        limited_admin,
        key="a_sees_all",
        name="看全部",
        permissions=["org.view"],
        agency=a,
        data_scope=DataScope.ALL,
    )
    colleague = User.objects.get(pk=users["norole"].pk)
    assert_refused(services.update_user, limited_admin, colleague, roles=[wide])
    assert_refused(services.update_user, limited_admin, limited_admin, roles=[wide])
    assert visible(fresh(colleague)) == set()


def test_cannot_widen_the_data_scope_of_a_role_in_use(limited_admin, users, world):
    a = Agency.objects.get(pk=world["A"].pk)
    clerk = services.save_role(
        limited_admin, key="clerk", name="办事员", permissions=["org.view"], agency=a
    )
    colleague = User.objects.get(pk=users["norole"].pk)
    services.update_user(limited_admin, colleague, roles=[clerk])
    assert visible(fresh(colleague)) == ids(world["A"])
    assert_refused(services.save_role, limited_admin, clerk, data_scope=DataScope.ALL)
    assert visible(fresh(colleague)) == ids(world["A"])


def test_can_assign_a_role_within_own_scope(limited_admin, users, world):
    a = Agency.objects.get(pk=world["A"].pk)
    clerk = services.save_role(
        limited_admin, key="clerk", name="办事员", permissions=["org.view"], agency=a
    )
    colleague = User.objects.get(pk=users["norole"].pk)
    services.update_user(limited_admin, colleague, roles=[clerk])
    assert list(colleague.roles.all()) == [clerk]
