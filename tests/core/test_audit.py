"""The audit trail: change records (before/after, user, request id, agency, source), the
operation log of state-changing requests, the login log, and lockout after failures."""

import json

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from guanjia.core import services
from guanjia.core.context import acting_as
from guanjia.core.models import (
    Agency,
    CollaborationGroup,
    LoginLog,
    ObjectChange,
    OperationLog,
    User,
)

from ..conftest import PASSWORD, api_client, make_role
from .conftest import call, sign_in

V1 = "/api/v1"


def changes_of(obj, **filters):
    return ObjectChange.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk), **filters
    ).order_by("pk")


@pytest.fixture
def admin(users):
    return users["agency_and_below"]


@pytest.fixture
def client_(admin):
    return api_client(admin)


# -- change records of API writes -----------------------------------------------------------


def test_api_create_records_who_when_where(client_, admin, world):
    r = call(
        client_,
        "POST",
        f"{V1}/agencies",
        {"name": "大足区审计局", "region": "500111", "parent_id": world["A"].pk},
    )
    assert r.status_code == 201, r.content
    agency = Agency.objects.get(pk=r.json()["id"])
    [change] = changes_of(agency)
    assert change.action == "create"
    assert change.source == "api"
    assert change.user == admin and change.user_name == admin.username
    assert change.request_id == r["X-Request-ID"]
    assert change.agency_id == agency.pk
    assert change.before is None
    assert change.after["name"] == "大足区审计局"
    assert change.after["region_id"] == world["A"].region_id
    assert change.content_type.model == "agency"


def test_api_patch_records_before_and_after(client_, admin, world):
    r = call(client_, "PATCH", f"{V1}/agencies/{world['A1'].pk}", {"contact_person": "张三"})
    assert r.status_code == 200, r.content
    [change] = changes_of(world["A1"], request_id=r["X-Request-ID"])
    assert (change.action, change.source, change.user) == ("update", "api", admin)
    assert change.before["contact_person"] == ""
    assert change.after["contact_person"] == "张三"
    assert change.agency_id == world["A1"].pk
    # Only what changed differs.
    assert {k for k in change.after if change.after[k] != change.before.get(k)} == {
        "contact_person"
    }


def test_api_patch_with_the_same_values_records_nothing(client_, world):
    before = ObjectChange.objects.count()
    r = call(client_, "PATCH", f"{V1}/agencies/{world['A1'].pk}", {"name": world["A1"].name})
    assert r.status_code == 200, r.content
    assert ObjectChange.objects.count() == before


def test_api_delete_records_the_last_state(client_, admin, world, regions):
    leaf = services.create_agency(
        None, parent=world["A"], name="临时单位", region=world["A"].region
    )
    r = client_.delete(f"{V1}/agencies/{leaf.pk}")
    assert r.status_code == 204, r.content
    assert not Agency.objects.filter(pk=leaf.pk).exists()
    change = changes_of(leaf, action="delete").get()
    assert (change.source, change.user, change.request_id) == ("api", admin, r["X-Request-ID"])
    assert change.before["name"] == "临时单位"
    assert change.after is None
    # Filed under the agency it was deleted from, so whoever sees A sees the deletion.
    assert change.agency_id == world["A"].pk
    seen = client_.get(f"{V1}/audit/changes?object_type=agency&action=delete").json()["items"]
    assert [c["object_id"] for c in seen] == [str(leaf.pk)]


def test_api_group_member_change_is_recorded(client_, admin, world):
    group = services.save_group(None, name="大足区节能工作组", agency=world["A"])
    r = call(client_, "PATCH", f"{V1}/groups/{group.pk}", {"member_ids": [world["A1"].pk]})
    assert r.status_code == 200, r.content
    rows = list(changes_of(group, request_id=r["X-Request-ID"]))
    assert rows, "member change left no record"
    assert rows[0].before["members"] == []
    assert rows[-1].after["members"] == [world["A1"].pk]
    assert all(c.source == "api" and c.user == admin for c in rows)
    assert {c.agency_id for c in rows} == {world["A"].pk}


def test_api_user_role_change_is_recorded(client_, admin, users, world):
    clerk = make_role("clerk", permissions=["org.view"])
    colleague = users["norole"]
    r = call(client_, "PATCH", f"{V1}/users/{colleague.pk}", {"role_keys": ["clerk"]})
    assert r.status_code == 200, r.content
    [change] = changes_of(colleague, request_id=r["X-Request-ID"])
    assert (change.source, change.user, change.agency_id) == ("api", admin, world["A"].pk)
    assert change.before["roles"] == []
    assert change.after["roles"] == [clerk.pk]
    stored = User.objects.get(pk=colleague.pk).password
    assert stored not in json.dumps(change.after)  # the hash is never in the trail


def test_refused_api_write_leaves_no_change_record(client_, world):
    before = ObjectChange.objects.count()
    r = call(client_, "POST", f"{V1}/agencies", {"name": "越权根单位", "region": "500111"})
    assert r.status_code == 403
    assert ObjectChange.objects.count() == before


# -- change records outside HTTP ------------------------------------------------------------


def test_cli_writes_are_recorded_as_cli(world, users):
    with acting_as(source="cli"):
        services.update_agency(None, world["A"], address="重庆市大足区棠香街道")
    change = changes_of(world["A"]).last()
    assert (change.source, change.user, change.user_name) == ("cli", None, "cli")
    assert change.after["address"] == "重庆市大足区棠香街道"
    operator = users["all"]
    with acting_as(user=operator, source="cli", request_id="run-42"):
        services.update_agency(operator, world["A"], address="重庆市大足区龙岗街道")
    change = changes_of(world["A"]).last()
    assert (change.source, change.user, change.request_id) == ("cli", operator, "run-42")


def test_writes_without_context_are_recorded_as_system(world):
    services.update_agency(None, world["B"], address="成都市锦江区")
    assert changes_of(world["B"]).last().source == "system"


def test_no_record_for_a_save_that_changes_nothing(world):
    before = ObjectChange.objects.count()
    world["A"].save()
    Agency.objects.get(pk=world["A"].pk).save()
    group = services.save_group(None, name="空组", agency=world["A"])
    count = ObjectChange.objects.count()
    services.save_group(None, group, name="空组", members=[])
    assert ObjectChange.objects.count() == count
    assert count == before + 1  # the group's creation, nothing else


def test_move_is_recorded_once_with_the_new_path(world):
    services.move_agency(None, world["A1"], world["B"])
    [change] = changes_of(world["A1"], action="update")
    assert change.before["path"].startswith(world["A"].path)
    assert change.after["path"].startswith(world["B"].path)


def test_secrets_never_reach_the_audit_trail(world, users):
    token, raw = services.create_token(None, users["agency"], "ci")
    for change in ObjectChange.objects.all():
        text = f"{change.before} {change.after}"
        assert raw not in text and token.digest not in text
        assert "pbkdf2" not in text and "md5$" not in text


# -- operation log ---------------------------------------------------------------------------


def test_state_changing_requests_are_logged(client_, admin, world):
    r = call(client_, "PATCH", f"{V1}/agencies/{world['A'].pk}", {"contact_phone": "023-1234"})
    assert r.status_code == 200
    log = OperationLog.objects.get(request_id=r["X-Request-ID"])
    assert (log.method, log.path, log.status_code) == (
        "PATCH",
        f"{V1}/agencies/{world['A'].pk}",
        200,
    )
    assert (log.user, log.user_name, log.agency_id) == (admin, admin.username, world["A"].pk)
    assert log.ip == "127.0.0.1"
    # The method and the route: not the name of the path's first operation (GET).
    assert log.view_name == "PATCH api/v1/agencies/<agency_id>"


def test_refused_requests_are_logged_too(client_, world):
    r = call(client_, "PATCH", f"{V1}/agencies/{world['B'].pk}", {"contact_phone": "1"})
    assert r.status_code == 404
    assert OperationLog.objects.get(request_id=r["X-Request-ID"]).status_code == 404
    r = Client().post(f"{V1}/tokens", data="{}", content_type="application/json")
    assert r.status_code == 401
    log = OperationLog.objects.get(request_id=r["X-Request-ID"])
    assert (log.status_code, log.user) == (401, None)


def test_reads_are_not_operation_logged(client_):
    before = OperationLog.objects.count()
    r = client_.get(f"{V1}/agencies")
    assert r.status_code == 200 and r["X-Request-ID"]
    assert OperationLog.objects.count() == before


# -- login log and lockout -------------------------------------------------------------------


def web_login(username, password, ip="10.20.30.40"):
    c = Client(REMOTE_ADDR=ip, HTTP_USER_AGENT="Mozilla/5.0 pytest")
    r = c.post("/login/", {"username": username, "password": password})
    return r, c


def logged_in(c: Client) -> bool:
    return "_auth_user_id" in c.session


def test_successful_login_is_logged(users, world):
    records_before = changes_of(users["agency"]).count()
    r, c = web_login("user_agency", PASSWORD)
    assert r.status_code == 302 and logged_in(c)
    log = LoginLog.objects.get()
    assert (log.success, log.username, log.user, log.agency_id) == (
        True,
        "user_agency",
        users["agency"],
        world["A"].pk,
    )
    assert (log.ip, log.user_agent) == ("10.20.30.40", "Mozilla/5.0 pytest")
    # A login updates last_login, which is not a change worth a record.
    assert changes_of(users["agency"]).count() == records_before


def test_failed_login_is_logged(users, world):
    r, c = web_login("user_agency", "not-the-password")
    assert r.status_code == 200 and not logged_in(c)
    log = LoginLog.objects.get()
    assert (log.success, log.user, log.agency_id) == (False, users["agency"], world["A"].pk)
    assert log.message == "用户名或密码错误"
    web_login("no_such_user", "whatever")
    log = LoginLog.objects.latest("pk")
    assert (log.success, log.username, log.user) == (False, "no_such_user", None)


def test_login_log_without_http(users):
    user, _request = sign_in("user_agency", PASSWORD)
    assert user == users["agency"]
    user, _request = sign_in("user_agency", "wrong")
    assert user is None
    assert list(LoginLog.objects.order_by("pk").values_list("success", flat=True)) == [True, False]


def test_lockout_after_five_failures(users, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(5):
        r, c = web_login("user_agency", "wrong-password")
        assert not logged_in(c)
    r, c = web_login("user_agency", PASSWORD)
    assert not logged_in(c), "the right password got in during a lockout"
    assert r.status_code == 429
    assert "锁定" in r.content.decode()
    last = LoginLog.objects.latest("pk")
    assert (last.success, last.username, last.message) == (False, "user_agency", "账户已锁定")
    assert LoginLog.objects.filter(success=False).count() == 6
    assert not LoginLog.objects.filter(success=True).exists()


def test_lockout_is_per_username_and_address(users):
    for _ in range(5):
        web_login("user_agency", "wrong-password", ip="10.6.6.6")
    _r, c = web_login("user_agency", PASSWORD, ip="10.6.6.6")
    assert not logged_in(c)
    # The same account from another address, and another account from the same address.
    _r, c = web_login("user_agency", PASSWORD, ip="10.7.7.7")
    assert logged_in(c)
    _r, c = web_login("user_all", PASSWORD, ip="10.6.6.6")
    assert logged_in(c)


def test_success_resets_the_failure_count(users):
    for _ in range(4):
        web_login("user_agency", "wrong-password")
    _r, c = web_login("user_agency", PASSWORD)
    assert logged_in(c)
    for _ in range(4):
        web_login("user_agency", "wrong-password")
    _r, c = web_login("user_agency", PASSWORD)
    assert logged_in(c)


def test_lockout_without_http(users):
    for _ in range(5):
        sign_in("user_agency", "wrong-password")
    user, request = sign_in("user_agency", PASSWORD)
    assert user is None and request.axes_locked_out
    assert LoginLog.objects.latest("pk").message == "账户已锁定"


def test_group_creation_is_filed_under_the_convener(world):
    with acting_as(source="import"):
        group = services.save_group(
            None, name="川渝协作组", agency=world["B"], members=[world["A"]]
        )
    rows = list(changes_of(group))
    assert [c.action for c in rows] == ["create", "update"]  # then its members
    assert {(c.source, c.agency_id) for c in rows} == {("import", world["B"].pk)}
    assert rows[-1].after["members"] == [world["A"].pk]
    assert CollaborationGroup.objects.get(pk=group.pk).members.get() == world["A"]


def test_a_password_reset_is_recorded_without_the_hash(users):
    clerk = users["norole"]
    services.update_user(None, User.objects.get(pk=clerk.pk), password="Reset-Pass-2026x")
    change = changes_of(clerk).last()
    stored = User.objects.get(pk=clerk.pk).password
    assert change.action == "update"
    assert change.before["password"] != change.after["password"]
    assert len(change.after["password"]) == 12  # a fingerprint of the hash, not the hash
    assert stored not in json.dumps(change.before) + json.dumps(change.after)


def test_a_user_leaving_an_agency_is_filed_under_the_agency_left(users, world):
    """The old agency's auditors see the user go (the new agency sees the user itself)."""
    clerk = User.objects.get(pk=users["norole"].pk)
    services.update_user(None, clerk, agency=Agency.objects.get(pk=world["B"].pk))
    change = changes_of(clerk).last()
    assert (change.before["agency_id"], change.after["agency_id"]) == (world["A"].pk, world["B"].pk)
    assert change.agency_id == world["A"].pk
    auditor = users["agency"]  # "*" on own agency A
    assert ObjectChange.objects.restrict(auditor).filter(pk=change.pk).exists()
