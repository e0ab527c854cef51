"""The expert library's pages: the list and its filters, adding and editing an expert,
assigning a reviewer from the expert's page with the own-agency rule shown as an error; the
data scope and the permissions."""

import pytest
from django.test import Client

from guanjia.core.models import ObjectChange
from guanjia.core.scope import DataScope
from guanjia.standards import experts as svc
from guanjia.standards.models import Expert, ReviewAssignment

from ..conftest import make_role, make_user
from .test_experts import draft_of

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def chief(world):
    role = make_role("chief", DataScope.AGENCY_AND_BELOW, ["standards.*", "org.view"])
    return make_user("chief", world["A"], role)


@pytest.fixture
def library(world):
    return {
        "zhang": svc.create_expert(
            None, name="张工", field="会议服务", title="高级工程师", agency=world["A1"]
        ),
        "li": svc.create_expert(
            None, name="李工", field="公务用车", agency=world["A"], region=world["A"].region
        ),
        "wang": svc.create_expert(None, name="王工", field="会议服务", agency=world["B"]),
    }


def test_list_filters_and_scope(world, chief, library):
    client = login(chief)
    html = client.get("/standards/experts/").content.decode()
    assert "专家库" in html and "添加专家" in html
    assert "张工" in html and "李工" in html and "王工" not in html  # B's expert: not in scope
    html = client.get("/standards/experts/", {"field": "会议"}).content.decode()
    assert "张工" in html and "李工" not in html
    html = client.get("/standards/experts/", {"agency": world["A1"].pk}).content.decode()
    assert "张工" in html and "李工" not in html
    html = client.get("/standards/experts/", {"region": "500000"}).content.decode()
    assert "李工" in html and "张工" not in html  # 张工 has no region
    r = client.get(f"/standards/experts/{library['wang'].pk}/")
    assert r.status_code == 404


def test_add_and_edit(world, chief):
    client = login(chief)
    r = client.post(
        "/standards/experts/new/",
        {"name": "赵工", "field": "节能", "title": "教授", "agency": world["A1"].pk},
    )
    expert = Expert.objects.get(name="赵工")
    assert r.status_code == 302 and r.url == f"/standards/experts/{expert.pk}/"
    created = ObjectChange.objects.get(
        content_type__model="expert", object_id=str(expert.pk), action="create"
    )
    assert created.user_name == "chief" and created.after["field"] == "节能"
    r = client.post(
        f"/standards/experts/{expert.pk}/edit/",
        {"name": "赵工", "field": "节能减排", "title": "教授", "agency": world["A"].pk},
    )
    assert r.status_code == 302
    expert.refresh_from_db()
    assert (expert.field, expert.agency) == ("节能减排", world["A"])
    # An agency outside the scope is not a choice: the form refuses it, nothing changes.
    r = client.post(
        f"/standards/experts/{expert.pk}/edit/",
        {"name": "赵工", "field": "x", "agency": world["B"].pk},
    )
    assert r.status_code == 200 and "has-error" in r.content.decode()
    expert.refresh_from_db()
    assert expert.agency == world["A"]


def test_assign_reviewer_and_the_own_agency_rule(world, chief, library):
    draft = draft_of(world["A1"])
    client = login(chief)
    html = client.get(f"/standards/experts/{library['zhang'].pk}/").content.decode()
    assert "指派审查草案" in html and draft.title in html
    r = client.post(
        f"/standards/experts/{library['zhang'].pk}/assign/", {"draft": draft.pk}, follow=True
    )
    assert "专家不能审查本单位的草案" in r.content.decode()
    assert not ReviewAssignment.objects.exists()
    r = client.post(
        f"/standards/experts/{library['li'].pk}/assign/", {"draft": draft.pk}, follow=True
    )
    html = r.content.decode()
    assert "已指派 李工" in html and "机关会议服务规范" in html
    assert ReviewAssignment.objects.get().expert == library["li"]
    html = client.get("/standards/experts/").content.decode()
    assert "最近的审查指派" in html and f"/standards/drafts/{draft.pk}/" in html


def test_readers_and_outsiders(world, library):
    reader = make_user("reader", world["A"], make_role("reader", permissions=["standards.view"]))
    client = login(reader)
    html = client.get("/standards/experts/").content.decode()
    assert "李工" in html and "张工" not in html and "添加专家" not in html
    detail = client.get(f"/standards/experts/{library['li'].pk}/").content.decode()
    assert "指派审查草案" not in detail and "编辑" not in detail
    assert client.get("/standards/experts/new/").status_code == 403
    assert client.get(f"/standards/experts/{library['li'].pk}/edit/").status_code == 403
    draft = draft_of(world["A1"])
    r = client.post(f"/standards/experts/{library['li'].pk}/assign/", {"draft": draft.pk})
    assert r.status_code == 403 and not ReviewAssignment.objects.exists()
    # B's officer: A's experts and drafts are out of scope.
    b_officer = make_user(
        "b_officer", world["B"], make_role("b_std", DataScope.AGENCY_AND_BELOW, ["standards.*"])
    )
    client = login(b_officer)
    assert client.get(f"/standards/experts/{library['li'].pk}/").status_code == 404
    r = client.post(f"/standards/experts/{library['wang'].pk}/assign/", {"draft": draft.pk})
    assert r.status_code == 302 and not ReviewAssignment.objects.exists()
    assert client.get(f"/standards/experts/{library['li'].pk}/edit/").status_code == 404
    anonymous = Client().get("/standards/experts/")
    assert anonymous.status_code == 302
