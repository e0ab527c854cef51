"""What API callers rely on beyond the data scope: pagination and filters on lists, answers
(not crashes) for invalid writes, and session access for the browser with CSRF protection."""

import pytest
from django.conf import settings
from django.test import Client

from guanjia.core import services
from guanjia.core.models import Agency, ObjectChange

from ..conftest import api_client, make_role, make_user
from .conftest import call, snapshot

V1 = "/api/v1"


@pytest.fixture
def admin(users):
    return users["agency_and_below"]


@pytest.fixture
def client_(admin):
    return api_client(admin)


def items(r):
    assert r.status_code == 200, r.content
    return r.json()["items"]


def test_lists_paginate(client_, world, regions):
    for i in range(5):
        services.create_agency(
            None, parent=world["A1"], name=f"分页单位{i}", region=regions["500111"]
        )
    r = client_.get(f"{V1}/agencies?limit=3&offset=0")
    first = r.json()
    assert first["count"] == 7 and len(first["items"]) == 3
    rest = client_.get(f"{V1}/agencies?limit=10&offset=3").json()["items"]
    assert len(rest) == 4
    assert {a["id"] for a in first["items"]}.isdisjoint({a["id"] for a in rest})


def test_agency_filters(client_, world, regions):
    services.create_agency(
        None,
        parent=world["A1"],
        name="大足区国库支付中心",
        region=regions["500111"],
        kind="service_unit",
        credit_code="111000000000131433",
        is_active=False,
    )

    def names(query):
        return {a["name"] for a in items(client_.get(f"{V1}/agencies?{query}"))}

    assert names("search=国库") == {"大足区国库支付中心"}
    assert names("search=111000000000131433") == {"大足区国库支付中心"}
    assert names("kind=centre") == {world["A"].name}
    assert names("is_active=false") == {"大足区国库支付中心"}
    assert names(f"under={world['A1'].pk}") == {world["A1"].name, "大足区国库支付中心"}
    assert names("region=500000") == names("region=500111")  # Chongqing includes 大足
    assert names("region=510000") == set()  # Sichuan: nothing in this caller's scope
    assert client_.get(f"{V1}/agencies?under={world['B'].pk}").status_code == 404


def test_agency_parent_and_children_are_reported(client_, world):
    a = client_.get(f"{V1}/agencies/{world['A'].pk}").json()
    a1 = client_.get(f"{V1}/agencies/{world['A1'].pk}").json()
    assert (a["parent_id"], a["children"], a["depth"]) == (None, 1, 1)
    assert (a1["parent_id"], a1["children"], a1["depth"]) == (world["A"].pk, 0, 2)
    assert (a["region"], a["region_name"], a["kind_label"]) == (
        "500111",
        "大足区",
        "机关事务服务中心",
    )


def test_user_filters(client_, users, world):
    make_user("a1_zhang", world["A1"])
    assert [u["username"] for u in items(client_.get(f"{V1}/users?agency={world['A1'].pk}"))] == [
        "a1_zhang"
    ]
    assert {u["username"] for u in items(client_.get(f"{V1}/users?search=zhang"))} == {"a1_zhang"}


def test_change_filters(client_, world):
    r = call(client_, "PATCH", f"{V1}/agencies/{world['A'].pk}", {"address": "棠香街道"})
    rid = r["X-Request-ID"]
    found = items(client_.get(f"{V1}/audit/changes?request_id={rid}"))
    assert [(c["object_type"], c["object_id"], c["source"]) for c in found] == [
        ("agency", str(world["A"].pk), "api")
    ]
    assert items(client_.get(f"{V1}/audit/changes?source=api&action=delete")) == []


def test_duplicate_name_is_422_not_500(client_, world):
    body = {"name": world["A1"].name, "region": "500111", "parent_id": world["A"].pk}
    r = call(client_, "POST", f"{V1}/agencies", body)
    assert r.status_code == 422 and "name" in r.json()["detail"]


def test_unknown_region_is_404(client_, world):
    body = {"name": "新单位", "region": "999999", "parent_id": world["A"].pk}
    assert call(client_, "POST", f"{V1}/agencies", body).status_code == 404


def test_weak_password_is_422(client_, world):
    body = {"username": "weak", "password": "123456", "agency_id": world["A1"].pk}
    r = call(client_, "POST", f"{V1}/users", body)
    assert r.status_code == 422, r.content


def test_delete_with_children_is_refused(client_, world):
    before = snapshot()
    r = client_.delete(f"{V1}/agencies/{world['A'].pk}")
    assert r.status_code == 422
    assert snapshot() == before


def test_delete_of_an_agency_with_users_is_refused_cleanly(client_, world):
    make_user("a1_staff", world["A1"])
    before = snapshot()
    r = client_.delete(f"{V1}/agencies/{world['A1'].pk}")
    assert r.status_code == 409, r.content
    assert "用户" in r.json()["detail"]
    assert snapshot() == before


def test_move_below_itself_is_422(client_, world):
    r = call(client_, "POST", f"{V1}/agencies/{world['A'].pk}/move", {"parent_id": world["A1"].pk})
    assert r.status_code == 422


def test_move_to_root(superuser, world, c_agency):
    client = api_client(superuser)
    r = call(client, "POST", f"{V1}/agencies/{world['A1'].pk}/move", {"parent_id": None})
    assert r.status_code == 200, r.content
    assert r.json()["parent_id"] is None and r.json()["depth"] == 1
    # An agency that already is the last root stays where it is.
    last = Agency.objects.get_last_root_node()
    r = call(client, "POST", f"{V1}/agencies/{last.pk}/move", {"parent_id": None})
    assert r.status_code == 200, r.content
    assert Agency.objects.get(pk=last.pk).path == last.path


def test_browser_session_reaches_the_api_and_writes_need_csrf(admin, world):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin)
    assert browser.get(f"{V1}/me").json()["id"] == admin.pk
    changes = ObjectChange.objects.count()
    r = call(browser, "PATCH", f"{V1}/agencies/{world['A'].pk}", {"address": "x"})
    assert r.status_code == 403
    assert ObjectChange.objects.count() == changes
    token = "k" * 32  # a CSRF secret, as the cookie a page of the site sets
    browser.cookies[settings.CSRF_COOKIE_NAME] = token
    r = browser.patch(
        f"{V1}/agencies/{world['A'].pk}",
        data='{"address": "棠香街道"}',
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert r.status_code == 200, r.content


def test_escalation_through_the_api_is_403(world, users):
    from guanjia.core.scope import DataScope

    from ..conftest import make_role

    role = make_role(
        "a_admin",
        DataScope.AGENCY,
        permissions=["org.view", "system.view", "system.add", "system.change"],
    )
    services.save_role(None, role, agency=world["A"])
    admin = make_user("a_admin", world["A"], role)
    client = api_client(admin)
    before = snapshot()
    body = {"key": "god", "name": "全能", "permissions": ["*"], "agency_id": world["A"].pk}
    assert call(client, "POST", f"{V1}/roles", body).status_code == 403
    body = {"key": "deleter", "name": "删除", "permissions": ["org.delete"]}
    assert (
        call(client, "POST", f"{V1}/roles", body | {"agency_id": world["A"].pk}).status_code == 403
    )
    r = call(client, "PATCH", f"{V1}/roles/{role.pk}", {"data_scope": DataScope.ALL})
    assert r.status_code == 403, r.content
    r = call(client, "PATCH", f"{V1}/users/{admin.pk}", {"role_keys": ["role_all"]})
    assert r.status_code == 403, r.content
    assert snapshot() == before


def test_a_huge_limit_gives_the_largest_page(users, world):
    from django.contrib.contenttypes.models import ContentType

    agency_type = ContentType.objects.get_for_model(Agency)
    ObjectChange.objects.bulk_create(
        ObjectChange(
            user_name="import",
            source="import",
            action="update",
            content_type=agency_type,
            object_id=str(world["A"].pk),
            object_repr=str(world["A"]),
            agency=world["A"],
        )
        for _ in range(520)
    )
    client = api_client(users["all"])
    r = client.get(f"{V1}/audit/changes?limit=100000")
    assert r.status_code == 200, r.content
    assert len(r.json()["items"]) == settings.NINJA_PAGINATION_MAX_LIMIT == 500
    assert r.json()["count"] > 520
    assert len(client.get(f"{V1}/audit/changes?limit=7").json()["items"]) == 7


def test_health_does_not_show_database_errors(db, monkeypatch, caplog):
    from guanjia.core import health

    class Unreachable:
        vendor = "postgresql"

        def cursor(self):
            raise RuntimeError("connection to server at 10.0.0.5 failed: password for gj_admin")

    monkeypatch.setattr(health, "connection", Unreachable())
    r = Client().get("/healthz")
    assert r.status_code == 503
    assert r.json()["components"]["database"]["state"] == "down"
    assert "10.0.0.5" not in r.content.decode() and "gj_admin" not in r.content.decode()
    assert "10.0.0.5" in caplog.text  # the operator finds it in the log


def test_users_list_only_roles_the_caller_may_see(users, world):
    """And a PATCH of role_keys keeps the roles the caller cannot see."""
    hidden = services.save_role(
        None, key="b_only", name="成都角色", permissions=["org.view"], agency=world["B"]
    )
    shown = make_role("a_clerk", permissions=["org.view"])
    target = make_user("two_roles", world["A"], hidden, shown)
    client = api_client(users["agency_and_below"])
    r = client.get(f"{V1}/users/{target.pk}")
    assert r.json()["roles"] == ["a_clerk"]
    r = call(client, "PATCH", f"{V1}/users/{target.pk}", {"role_keys": []})
    assert r.status_code == 200, r.content
    assert list(target.roles.all()) == [hidden]
