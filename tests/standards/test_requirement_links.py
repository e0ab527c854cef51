"""Requirements stored as rows and linked to indicators by a person: refresh keeps the
confirmed links whose clause and subject are still in the text; the link needs a registered
indicator; the scope of both."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from guanjia.core.models import ObjectChange
from guanjia.core.scope import DataScope
from guanjia.standards import linking, services
from guanjia.standards.models import Clause, Requirement
from guanjia.standards.parsing import parse_text

from ..conftest import api_client, make_role, make_user

pytestmark = pytest.mark.django_db
V1 = "/api/v1/standards"
TEXT = (
    "DB50\n重庆市地方标准\nDB50/T 9970—2024\n机关食堂餐厨垃圾管理规范\n"
    "2024-01-10发布 2024-03-01实施\n重庆市市场监督管理局 发 布\n"
    "1 范围\n本文件规定了餐厨垃圾管理要求。\n4 要求\n"
    "4.1 人均餐厨垃圾量不应超过150克每人次。\n4.2 预估偏差率不宜超过10%。\n"
)


@pytest.fixture
def standard(world):
    s, _created = services.import_document(None, parse_text(TEXT), world["A"], is_public=False)
    return s


@pytest.fixture
def officer(world):
    role = make_role("std_officer", DataScope.AGENCY_AND_BELOW, ["standards.*"])
    return make_user("officer", world["A"], role)


def test_refresh_stores_the_requirements(standard, officer):
    assert linking.refresh_requirements(officer, standard) == {
        "created": 2,
        "kept": 0,
        "removed": 0,
    }
    rows = {r.subject: r for r in Requirement.objects.filter(clause__standard=standard)}
    assert set(rows) == {"人均餐厨垃圾量", "预估偏差率"}
    waste = rows["人均餐厨垃圾量"]
    assert (waste.clause.number, waste.op, waste.value, waste.strength) == (
        "4.1",
        "<=",
        150,
        "shall",
    )
    assert rows["预估偏差率"].unit == "%" and rows["预估偏差率"].strength == "should"
    # Refreshing again replaces the unconfirmed rows: still two.
    assert linking.refresh_requirements(officer, standard)["removed"] == 2
    assert Requirement.objects.filter(clause__standard=standard).count() == 2


def test_confirmed_link_survives_refresh_and_follows_the_threshold(standard, officer):
    linking.refresh_requirements(officer, standard)
    waste = Requirement.objects.get(subject="人均餐厨垃圾量")
    changes = ObjectChange.objects.count()
    linking.confirm_link(officer, waste, "org.user_count")
    waste.refresh_from_db()
    assert waste.indicator_key == "org.user_count"
    assert waste.confirmed_by == officer and waste.confirmed_at is not None
    assert ObjectChange.objects.count() > changes  # audited

    Clause.objects.filter(standard=standard, number="4.1").update(
        text="人均餐厨垃圾量不应超过120克每人次。"
    )
    Clause.objects.filter(standard=standard, number="4.2").update(text="宜减少浪费。")
    assert linking.refresh_requirements(officer, standard) == {
        "created": 0,
        "kept": 1,
        "removed": 1,
    }
    kept = Requirement.objects.get(clause__standard=standard)
    assert kept.pk == waste.pk and kept.value == 120 and kept.indicator_key == "org.user_count"

    # A confirmed requirement whose text is gone goes too.
    Clause.objects.filter(standard=standard, number="4.1").update(text="应减少浪费。")
    assert linking.refresh_requirements(officer, standard)["removed"] == 1
    assert not Requirement.objects.filter(clause__standard=standard).exists()


def test_link_needs_a_registered_indicator_and_the_scope(standard, officer, world):
    linking.refresh_requirements(officer, standard)
    waste = Requirement.objects.get(subject="人均餐厨垃圾量")
    with pytest.raises(ValidationError):
        linking.confirm_link(officer, waste, "canteen.no_such_indicator")
    outsider = make_user("outsider", world["B"], make_role("b_std", permissions=["standards.*"]))
    with pytest.raises(PermissionDenied):
        linking.confirm_link(outsider, waste, "org.user_count")
    with pytest.raises(PermissionDenied):
        linking.refresh_requirements(outsider, standard)
    reader = make_user("reader", world["A"], make_role("reader", permissions=["standards.view"]))
    with pytest.raises(PermissionDenied):
        linking.refresh_requirements(reader, standard)
    waste.refresh_from_db()
    assert waste.indicator_key == "" and waste.confirmed_at is None


def test_api_refresh_and_link(standard, officer, world):
    client = api_client(officer)
    r = client.post(f"{V1}/{standard.pk}/requirements/refresh")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["created"] == 2
    waste = next(i for i in body["requirements"] if i["subject"] == "人均餐厨垃圾量")
    assert waste["clause"] == "4.1" and waste["value"] == 150 and waste["confirmed_by"] is None

    url = f"{V1}/requirements/{waste['id']}/link"
    r = client.post(url, {"indicator_key": "nope.nope"}, content_type="application/json")
    assert r.status_code == 422, r.content
    r = client.post(url, {"indicator_key": "org.user_count"}, content_type="application/json")
    assert r.status_code == 200, r.content
    assert r.json()["indicator_key"] == "org.user_count"
    assert r.json()["confirmed_by"] == "officer" and r.json()["confirmed_at"]

    r = client.post(f"{V1}/{standard.pk}/requirements/refresh")
    assert (r.json()["kept"], r.json()["created"]) == (1, 1)

    outsider = make_user("outsider", world["B"], make_role("b_std", permissions=["standards.*"]))
    other = api_client(outsider)
    assert other.post(f"{V1}/{standard.pk}/requirements/refresh").status_code == 404
    r = other.post(url, {"indicator_key": "org.agency_count"}, content_type="application/json")
    assert r.status_code == 404
