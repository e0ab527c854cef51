"""The web UI through Django's test client: login, pages, data scope, writes, language."""

import re

import pytest
from django.contrib.contenttypes.models import ContentType

from guanjia.core import services
from guanjia.core.models import Agency, LoginLog, ObjectChange, Role, User
from guanjia.core.scope import DataScope

from ..conftest import PASSWORD, make_role, make_user

PAGES = [
    "/",
    "/org/agencies/",
    "/org/agencies/?q=大足",
    "/org/agencies/new/",
    "/org/groups/",
    "/org/regions/",
    "/org/regions/?q=成都",
    "/system/users/",
    "/system/users/new/",
    "/system/roles/",
    "/system/roles/new/",
    "/audit/changes/",
    "/audit/changes/?action=create&object_type=agency&since=2020-01-01",
    "/audit/operations/",
    "/audit/logins/",
    "/indicators/",
    "/indicators/?period=2026Q1",
]


def text(response) -> str:
    return response.content.decode()


# -- login, logout, lockout ---------------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_home_redirects_to_login(client):
    r = client.get("/")
    assert r.status_code == 302
    assert r["Location"].startswith("/login/")


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/org/agencies/", "/audit/changes/", "/indicators/"])
def test_every_page_requires_login(client, url):
    r = client.get(url)
    assert r.status_code == 302 and r["Location"].startswith("/login/?next=")


@pytest.mark.django_db
def test_login_page_is_chinese(client):
    r = client.get("/login/")
    assert r.status_code == 200
    body = text(r)
    assert "登录" in body and 'lang="zh-hans"' in body
    assert "English" in body and "简体中文" in body  # the language switch


def test_login_through_the_form_and_logout(client, users):
    r = client.post("/login/", {"username": "user_all", "password": PASSWORD})
    assert r.status_code == 302 and r["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200 and "user_all" in text(home)
    assert LoginLog.objects.filter(username="user_all", success=True).exists()
    r = client.get("/logout/")
    assert r.status_code == 405  # logout is POST only
    r = client.post("/logout/")
    assert r.status_code == 302 and r["Location"] == "/login/"
    assert client.get("/").status_code == 302


def test_wrong_password_shows_chinese_error(client, users):
    r = client.post("/login/", {"username": "user_all", "password": "wrong-password"})
    assert r.status_code == 200
    assert "用户名" in text(r) and "密码" in text(r)
    assert LoginLog.objects.filter(username="user_all", success=False).exists()


def test_lockout_after_five_failures(client, users):
    for _ in range(5):
        r = client.post("/login/", {"username": "user_all", "password": "wrong-password"})
    r = client.post("/login/", {"username": "user_all", "password": PASSWORD})
    assert r.status_code == 429
    assert "登录失败次数过多，账户已临时锁定，请15分钟后再试或联系管理员" in text(r)


# -- pages render -------------------------------------------------------------------------


@pytest.mark.parametrize("url", PAGES)
def test_pages_render_for_permitted_user(client_for, users, url):
    r = client_for(users["all"]).get(url)
    assert r.status_code == 200, text(r)[:2000]
    assert "<main" in text(r)


def test_detail_and_edit_pages_render(client_for, users, world):
    client = client_for(users["all"])
    for key in ("A", "A1", "B", "B1"):
        pk = world[key].pk
        assert client.get(f"/org/agencies/{pk}/").status_code == 200
        assert client.get(f"/org/agencies/{pk}/edit/").status_code == 200
        assert client.get(f"/org/agencies/{pk}/children/").status_code == 200
    assert client.get(f"/system/users/{users['agency'].pk}/edit/").status_code == 200
    role = Role.objects.get(key="role_agency")
    assert client.get(f"/system/roles/{role.pk}/edit/").status_code == 200


def test_navigation_shows_user_and_agency_and_later_domains(client_for, users, world):
    body = text(client_for(users["all"]).get("/"))
    for label in ("组织机构", "单位树", "协作小组", "行政区划", "系统管理", "角色", "审计"):
        assert label in body
    for label in ("变更记录", "操作日志", "登录日志", "指标", "标准库", "公务用车", "机关食堂"):
        assert label in body
    assert "建设中" in body
    assert world["A"].name in body  # the user's agency in the header
    assert "/admin/" not in body  # only superusers get the admin link


def test_superuser_gets_admin_link(client_for, world):
    admin = User.objects.create_superuser("root", password=PASSWORD, agency=world["A"])
    assert 'href="/admin/"' in text(client_for(admin).get("/"))


def test_home_counts_within_scope_and_chart_data(client_for, users, world):
    r = client_for(users["agency_and_below"]).get("/")
    cards = {c["label"]: c["count"] for c in r.context["cards"]}
    assert cards["单位"] == 2
    assert r.context["chart"]["labels"] == ["重庆市"]
    assert r.context["chart"]["values"] == [2]
    assert 'id="chart-provinces-data"' in text(r)

    r = client_for(users["all"]).get("/")
    assert {p["name"]: p["count"] for p in r.context["provinces"]} == {"重庆市": 2, "四川省": 2}


# -- permissions and data scope -----------------------------------------------------------


def test_missing_permission_is_403_in_chinese(client_for, users):
    client = client_for(users["norole"])
    for url in ("/org/agencies/", "/system/users/", "/audit/changes/", "/org/agencies/new/"):
        r = client.get(url)
        assert r.status_code == 403, url
        assert "没有权限" in text(r)
    home = client.get("/")
    assert home.status_code == 200
    assert "单位树" not in text(home)  # no links to pages the user may not open


def test_view_only_user_cannot_open_forms(client_for, world):
    viewer = make_user("viewer", world["A"], make_role("viewer", permissions=["org.view"]))
    client = client_for(viewer)
    assert client.get(f"/org/agencies/{world['A'].pk}/").status_code == 200
    assert client.get(f"/org/agencies/{world['A'].pk}/edit/").status_code == 403
    assert client.post("/org/agencies/new/", {"name": "x"}).status_code == 403


@pytest.mark.parametrize("scope", ["agency", "agency_and_below"])
def test_other_agency_is_404_and_never_listed(client_for, users, world, scope):
    client = client_for(users[scope])
    b = world["B"]
    for url in (
        f"/org/agencies/{b.pk}/",
        f"/org/agencies/{b.pk}/children/",
        f"/org/agencies/{b.pk}/edit/",
        f"/org/agencies/new/?parent={b.pk}",
        f"/system/users/{users['b_admin'].pk}/edit/",
    ):
        assert client.get(url).status_code == 404, url
    for url in (
        "/",
        "/org/agencies/",
        "/org/agencies/?q=局",
        "/org/agencies/new/",
        "/system/users/",
        "/system/users/new/",
        "/system/roles/new/",
        "/audit/changes/",
        "/audit/logins/",
        "/indicators/",
    ):
        body = text(client.get(url))
        assert b.name not in body and world["B1"].name not in body, url
        assert "b_admin" not in body, url


def test_own_agency_scope_sees_a_root_whose_parent_is_hidden(client_for, world):
    user = make_user("a1_clerk", world["A1"], make_role("a1_own", DataScope.AGENCY))
    body = text(client_for(user).get("/org/agencies/"))
    assert world["A1"].name in body
    assert world["A"].name not in body.split('id="agency-results"')[1]
    detail = text(client_for(user).get(f"/org/agencies/{world['A1'].pk}/"))
    assert f"/org/agencies/{world['A'].pk}/" not in detail  # the hidden parent is not linked


def test_tree_children_fragment_only_in_scope(client_for, users, world):
    hidden = services.create_agency(
        None, parent=world["A"], name="大足区审计局", region=world["A"].region
    )
    user = make_user(
        "custom_a",
        world["A"],
        make_role("custom_a", DataScope.CUSTOM, custom=[world["A"], world["A1"]]),
    )
    r = client_for(user).get(f"/org/agencies/{world['A'].pk}/children/", HTTP_HX_REQUEST="true")
    body = text(r)
    assert r.status_code == 200 and "<html" not in body
    assert world["A1"].name in body and hidden.name not in body
    roots = text(client_for(user).get("/org/agencies/"))
    assert "下级 1 个" in roots  # the count is of visible children only


def test_tree_search_fragment(client_for, users, world):
    client = client_for(users["all"])
    r = client.get("/org/agencies/?q=锦江", HTTP_HX_REQUEST="true")
    body = text(r)
    assert "<html" not in body
    assert world["B1"].name in body and world["A"].name not in body
    full = text(client.get("/org/agencies/?q=锦江"))
    assert "<html" in full and world["B1"].name in full


def test_agency_detail_shows_chain_children_users_and_changes(client_for, users, world):
    body = text(client_for(users["all"]).get(f"/org/agencies/{world['A1'].pk}/"))
    assert f'href="/org/agencies/{world["A"].pk}/"' in body  # parent chain link
    assert "user_agency" not in body  # users of A are not users of A1
    body = text(client_for(users["all"]).get(f"/org/agencies/{world['A'].pk}/"))
    assert world["A1"].name in body and "user_agency" in body
    assert "新增" in body  # the creation of A in the recent changes


# -- writes through the UI ----------------------------------------------------------------


def test_create_agency_through_form_is_audited_as_ui(client_for, users, world, regions):
    client = client_for(users["agency_and_below"])
    r = client.post(
        "/org/agencies/new/",
        {
            "parent": world["A"].pk,
            "name": "大足区教育委员会",
            "short_name": "大足教委",
            "kind": "agency",
            "region": regions["500111"].pk,
            "is_active": "on",
        },
    )
    created = Agency.objects.get(name="大足区教育委员会")
    assert r.status_code == 302 and r["Location"] == f"/org/agencies/{created.pk}/"
    assert Agency.objects.get_parent(created) == world["A"]
    change = ObjectChange.objects.get(
        content_type=ContentType.objects.get_for_model(Agency), object_id=str(created.pk)
    )
    assert change.source == "ui" and change.action == "create"
    assert change.user == users["agency_and_below"]
    page = text(client.get("/audit/changes/?object_type=agency&action=create"))
    assert "大足区教育委员会" in page and "大足教委" in page


def test_create_outside_scope_is_refused_on_the_form(client_for, users, regions):
    client = client_for(users["agency"])  # own agency only: cannot create a new root
    r = client.post(
        "/org/agencies/new/", {"name": "越权单位", "kind": "agency", "region": regions["500111"].pk}
    )
    assert r.status_code == 200
    assert "没有权限创建或移动为顶级单位" in text(r)
    assert not Agency.objects.filter(name="越权单位").exists()


def test_create_duplicate_name_shows_field_error(client_for, users, world, regions):
    r = client_for(users["all"]).post(
        "/org/agencies/new/",
        {"name": world["B"].name, "kind": "agency", "region": regions["510100"].pk},
    )
    assert r.status_code == 200
    assert r.context["form"].errors["name"]


def test_edit_agency_through_form_shows_diff(client_for, users, world):
    client = client_for(users["agency"])
    a = world["A"]
    r = client.post(
        f"/org/agencies/{a.pk}/edit/",
        {
            "name": a.name,
            "short_name": "大足机关事务",
            "kind": a.kind,
            "region": a.region_id,
            "contact_phone": "023-43721234",
            "is_active": "on",
        },
    )
    assert r.status_code == 302
    a.refresh_from_db()
    assert a.short_name == "大足机关事务" and a.contact_phone == "023-43721234"
    change = ObjectChange.objects.get(
        action="update", object_id=str(a.pk), content_type__model="agency"
    )
    assert change.source == "ui"
    page = text(client.get("/audit/changes/?action=update"))
    assert "023-43721234" in page and "联系电话" in page  # the diff, with the field's label
    assert "单位名称" not in page.split("<tbody>")[1]  # unchanged keys are not listed


def test_create_and_edit_user_through_form(client_for, users, world):
    client = client_for(users["all"])
    role = make_role("clerk", permissions=["org.view"])
    r = client.post(
        "/system/users/new/",
        {
            "username": "zhangsan",
            "real_name": "张三",
            "agency": world["A1"].pk,
            "new_password": "Zhang-San-2026!",
            "is_active": "on",
            "roles": [role.pk],
        },
    )
    assert r.status_code == 302, r.context["form"].errors
    zhang = User.objects.get(username="zhangsan")
    assert zhang.check_password("Zhang-San-2026!") and list(zhang.roles.all()) == [role]
    assert ObjectChange.objects.filter(
        object_id=str(zhang.pk), content_type__model="user", source="ui"
    ).exists()
    r = client.post(
        f"/system/users/{zhang.pk}/edit/",
        {"real_name": "张三丰", "agency": world["A1"].pk, "phone": "13800000000", "roles": []},
    )
    assert r.status_code == 302
    zhang.refresh_from_db()
    assert zhang.real_name == "张三丰" and not zhang.is_active and not zhang.roles.exists()
    listing = client.get(f"/system/users/?agency={world['A1'].pk}")
    assert "张三丰" in text(listing)
    assert [u.username for u in listing.context["page"]] == ["zhangsan"]
    assert "张三丰" in text(client.get("/system/users/?q=张三"))


def test_weak_password_is_refused(client_for, users, world):
    r = client_for(users["all"]).post(
        "/system/users/new/", {"username": "lisi", "agency": world["A"].pk, "new_password": "123"}
    )
    assert r.status_code == 200 and r.context["form"].errors["new_password"]
    assert not User.objects.filter(username="lisi").exists()


def test_role_form_permissions_scope_and_escalation(client_for, users, world):
    client = client_for(users["all"])
    r = client.post(
        "/system/roles/new/",
        {
            "name": "单位管理员",
            "key": "unit_admin",
            "permissions": "org.view\norg.change\n\n",
            "data_scope": DataScope.CUSTOM,
            "custom_agencies": [world["A1"].pk],
            "enabled": "on",
        },
    )
    assert r.status_code == 302, r.context["form"].errors
    role = Role.objects.get(key="unit_admin")
    assert role.permissions == ["org.view", "org.change"]
    assert list(role.custom_agencies.all()) == [world["A1"]]
    assert ObjectChange.objects.filter(
        object_id=str(role.pk), content_type__model="role", source="ui"
    ).exists()

    r = client.post(
        "/system/roles/new/",
        {"name": "坏", "key": "bad", "permissions": "org view", "data_scope": DataScope.ALL},
    )
    assert r.status_code == 200 and r.context["form"].errors["permissions"]

    # A user who may manage roles but holds only some permissions cannot hand out "*".
    limited = make_user(
        "limited",
        world["A"],
        make_role("limited", DataScope.AGENCY, permissions=["system.*", "org.view"]),
    )
    r = client_for(limited).post(
        "/system/roles/new/",
        {
            "name": "超级",
            "key": "super",
            "permissions": "*",
            "data_scope": DataScope.AGENCY,
            "agency": world["A"].pk,
        },
    )
    assert r.status_code == 200 and "不能授予自己没有的权限" in text(r)
    assert not Role.objects.filter(key="super").exists()


def test_role_edit_keeps_permissions_text(client_for, users):
    role = Role.objects.get(key="role_agency")
    body = text(client_for(users["all"]).get(f"/system/roles/{role.pk}/edit/"))
    assert re.search(r"<textarea[^>]*>\s*\*</textarea>", body)
    assert 'type="radio"' in body and "本单位及以下数据权限" in body


# -- audit lists --------------------------------------------------------------------------


def test_audit_lists_paginate_and_filter(client_for, users, world):
    for i in range(55):
        services.update_agency(None, world["A1"], contact_phone=f"023-{i:08d}")
    client = client_for(users["all"])
    first = client.get("/audit/changes/?action=update&object_type=agency")
    assert first.context["page"].paginator.count == 55
    assert len(first.context["page"].object_list) == 50
    second = client.get("/audit/changes/?action=update&object_type=agency&page=2")
    assert len(second.context["page"].object_list) == 5
    assert "page=1" in text(second)
    none = client.get("/audit/changes/?user=nobody-at-all")
    assert none.context["page"].paginator.count == 0
    bad = client.get("/audit/changes/?since=not-a-date")
    assert bad.status_code == 200 and bad.context["page"].paginator.count == 0


def test_operation_and_login_logs_within_scope(client, client_for, users, world):
    client.post("/login/", {"username": "b_admin", "password": PASSWORD})
    client.post("/login/", {"username": "user_agency", "password": "wrong-password"})
    client_for(users["all"]).post(
        f"/org/agencies/{world['A'].pk}/edit/",
        {
            "name": world["A"].name,
            "kind": world["A"].kind,
            "region": world["A"].region_id,
            "address": "大足区龙岗街道",
            "is_active": "on",
        },
    )
    logins = client_for(users["agency"]).get("/audit/logins/")
    names = {e.username for e in logins.context["page"]}
    assert "user_agency" in names and "b_admin" not in names
    failed = client_for(users["agency"]).get("/audit/logins/?success=0")
    assert all(not e.success for e in failed.context["page"])
    ops = client_for(users["all"]).get("/audit/operations/?method=POST&user=user_all")
    assert any(
        o.view_name == "POST org/agencies/<int:pk>/edit/ (agency_edit)" for o in ops.context["page"]
    )


# -- indicators ---------------------------------------------------------------------------


def test_indicators_page_computes_for_the_users_agency(client_for, users, world):
    r = client_for(users["agency_and_below"]).get("/indicators/")
    rows = {row["indicator"].key: row["value"] for row in r.context["rows"]}
    assert rows["org.agency_count"] == 2
    assert r.context["agency"] == world["A"]
    r = client_for(users["agency_and_below"]).get("/indicators/?period=bad")
    assert r.status_code == 200 and "无法识别的统计期" in text(r)
    assert (
        client_for(users["agency"]).get(f"/indicators/?agency={world['B'].pk}").status_code == 404
    )


# -- language -----------------------------------------------------------------------------


def test_english_switch_changes_the_page_language(client_for, users):
    client = client_for(users["all"])
    r = client.post("/i18n/setlang/", {"language": "en", "next": "/org/agencies/"})
    assert r.status_code == 302 and r["Location"] == "/org/agencies/"
    body = text(client.get("/org/agencies/"))
    assert 'lang="en"' in body
    assert "Agency tree" in body and "Organisation" in body and "Log out" in body
    assert "单位树" not in body
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "单位树" in text(client.get("/org/agencies/"))


@pytest.mark.django_db
def test_english_login_page(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    body = text(client.get("/login/"))
    assert "Log in" in body and 'lang="en"' in body


# -- collaboration groups -----------------------------------------------------------------


def test_groups_visible_to_convener_and_members(client_for, users, world):
    group = services.save_group(
        None, name="成渝双城协作组", agency=world["B"], members=[world["A"], world["B"]]
    )
    client = client_for(users["agency"])  # at A: a member, not the convener
    listing = client.get("/org/groups/")
    assert [g.name for g in listing.context["page"]] == ["成渝双城协作组"]
    body = text(client.get(f"/org/groups/{group.pk}/"))
    assert world["A"].name in body and f'href="/org/agencies/{world["A"].pk}/"' in body
    assert f'href="/org/agencies/{world["B"].pk}/"' not in body  # named, not linked
    detail = text(client.get(f"/org/agencies/{world['A'].pk}/"))
    assert "成渝双城协作组" in detail
    outsider = make_user("outsider", world["A1"], make_role("a1_only", DataScope.AGENCY))
    assert client_for(outsider).get(f"/org/groups/{group.pk}/").status_code == 404


# -- query counts -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["/", "/org/agencies/", "/org/groups/", "/system/users/", "/system/roles/", "/audit/changes/"],
)
def test_list_pages_do_not_grow_queries_with_rows(client_for, users, world, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(users["all"])

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx)

    def add_rows(n, start):
        role = make_role(f"extra{start}", permissions=["org.view"])
        for i in range(start, start + n):
            agency = services.create_agency(
                None, parent=world["A"], name=f"大足区下属单位{i}", region=world["A"].region
            )
            make_user(f"extra{i}", agency, role)
            services.save_group(None, name=f"工作组{i}", agency=agency, members=[agency])

    add_rows(2, 0)
    before = queries()
    add_rows(6, 100)
    assert queries() == before


# -- edits by someone who sees part of the organisation ----------------------------------------


@pytest.fixture
def a_admin(world):
    """Manages accounts and roles of A and below; reads A's tree only."""
    return make_user(
        "a_admin",
        world["A"],
        make_role("a_admin", DataScope.AGENCY_AND_BELOW, ["system.*", "org.view", "org.add"]),
        make_role("a_own_org", DataScope.AGENCY, ["org.*"]),
    )


def test_agency_form_offers_only_parents_one_may_add_under(client_for, world, regions):
    adder = make_user(
        "adder",
        world["A"],
        make_role("adds_below", DataScope.AGENCY_AND_BELOW, ["org.add", "org.view"]),
        make_role("sees_all", DataScope.ALL, ["org.view"]),
    )
    client = client_for(adder)
    assert client.get(f"/org/agencies/new/?parent={world['B'].pk}").status_code == 404
    form = {"name": "越权下级", "kind": "agency", "region": regions["510104"].pk}
    r = client.post("/org/agencies/new/", {**form, "parent": world["B"].pk})
    assert r.status_code == 200 and "parent" in r.context["form"].errors
    assert not Agency.objects.filter(name="越权下级").exists()


def test_role_edit_keeps_custom_agencies_the_editor_cannot_see(client_for, a_admin, world):
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
    form = {
        "name": "改名",
        "key": "a_custom",
        "permissions": "org.view",
        "data_scope": DataScope.CUSTOM,
        "custom_agencies": [world["A1"].pk],
        "agency": world["A"].pk,
        "enabled": "on",
    }
    client = client_for(a_admin)
    r = client.post(f"/system/roles/{role.pk}/edit/", form)
    assert r.status_code == 302, r.context["form"].errors
    role.refresh_from_db()
    assert role.name == "改名"
    assert set(role.custom_agencies.all()) == {world["A1"], world["B1"]}
    # The form sets the new values on the role before the service sees it: widening the data
    # scope is still refused.
    r = client.post(f"/system/roles/{role.pk}/edit/", {**form, "data_scope": DataScope.ALL})
    assert r.status_code == 200 and "不能授予超出自己数据范围的角色" in text(r)
    assert Role.objects.get(pk=role.pk).data_scope == DataScope.CUSTOM


def test_user_edit_keeps_roles_the_editor_cannot_see(client_for, a_admin, world):
    hidden = services.save_role(
        None, key="b_reader", name="成都只读", permissions=["org.view"], agency=world["B"]
    )
    shown = make_role("a_reader", DataScope.AGENCY, ["org.view"])
    target = make_user("target", world["A"], hidden)
    client = client_for(a_admin)
    form = {"real_name": "改名", "agency": world["A"].pk, "is_active": "on", "roles": [shown.pk]}
    r = client.post(f"/system/users/{target.pk}/edit/", form)
    assert r.status_code == 302, r.context["form"].errors
    target.refresh_from_db()
    assert target.real_name == "改名" and set(target.roles.all()) == {hidden, shown}
    # Moving the user to A1 would carry the "own agency" org.* role there, beyond the
    # editor's org.* reach (A only): refused, though the form set the agency already.
    grant = make_role("grant", DataScope.AGENCY, ["org.*"])
    target.roles.add(grant)
    r = client.post(
        f"/system/users/{target.pk}/edit/",
        {**form, "agency": world["A1"].pk, "roles": [shown.pk, grant.pk]},
    )
    assert r.status_code == 200 and "不能" in text(r)
    assert User.objects.get(pk=target.pk).agency_id == world["A"].pk


def test_pages_name_no_roles_the_viewer_cannot_see(client_for, a_admin, world):
    hidden = services.save_role(
        None, key="b_secret", name="成都机要角色", permissions=["org.view"], agency=world["B"]
    )
    make_user("carrier", world["A"], hidden, make_role("a_visible", permissions=["org.view"]))
    client = client_for(a_admin)
    for url in (f"/org/agencies/{world['A'].pk}/", "/system/users/"):
        body = text(client.get(url))
        assert "carrier" in body and "a_visible" in body, url
        assert "成都机要角色" not in body, url
