"""The requirements page of a standard: the extracted requirements with suggested
indicators, storing them, confirming / changing / removing a link (audited, who and when
shown) for the standard's maintainers only."""

import pytest
from django.test import Client

from guanjia.core.models import ObjectChange
from guanjia.core.scope import DataScope
from guanjia.standards import linking
from guanjia.standards.models import Clause, Requirement

from ..conftest import make_role, make_user
from .test_requirement_links import standard  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def officer(world):
    role = make_role("std_officer", DataScope.AGENCY_AND_BELOW, ["standards.*"])
    return make_user("officer", world["A"], role)


def test_page_shows_requirements_and_stores_them(standard, officer):  # noqa: F811
    client = login(officer)
    detail = client.get(f"/standards/{standard.pk}/").content.decode()
    assert f"/standards/{standard.pk}/requirements/" in detail
    html = client.get(f"/standards/{standard.pk}/requirements/").content.decode()
    assert "人均餐厨垃圾量" in html and "尚未保存" in html and "提取并保存量化要求" in html
    r = client.post(f"/standards/{standard.pk}/requirements/refresh/", follow=True)
    html = r.content.decode()
    assert "新增 2 条" in html and "≤" in html and "克每人次" in html and "150" in html
    assert "共 2 条，已确认指标 0 条" in html
    assert Requirement.objects.filter(clause__standard=standard).count() == 2


def test_confirm_change_and_unlink(standard, officer):  # noqa: F811
    linking.refresh_requirements(None, standard)
    waste = Requirement.objects.get(subject="人均餐厨垃圾量")
    client = login(officer)
    before = ObjectChange.objects.filter(content_type__model="requirement").count()
    r = client.post(
        f"/standards/requirements/{waste.pk}/link/",
        {"indicator_key": "org.user_count", "action": "confirm"},
        follow=True,
    )
    html = r.content.decode()
    waste.refresh_from_db()
    assert waste.indicator_key == "org.user_count" and waste.confirmed_by == officer
    assert "officer 于" in html and "确认" in html and "已确认指标 1 条" in html
    assert ObjectChange.objects.filter(content_type__model="requirement").count() > before
    # An unknown indicator: refused with the reason, the link unchanged.
    r = client.post(
        f"/standards/requirements/{waste.pk}/link/",
        {"indicator_key": "nope.nothing"},
        follow=True,
    )
    assert "未知指标" in r.content.decode()
    waste.refresh_from_db()
    assert waste.indicator_key == "org.user_count"
    client.post(f"/standards/requirements/{waste.pk}/link/", {"action": "unlink"})
    waste.refresh_from_db()
    assert waste.indicator_key == "" and waste.confirmed_at is None


def test_outsiders_and_readers_cannot_confirm(world, standard):  # noqa: F811
    linking.refresh_requirements(None, standard)
    waste = Requirement.objects.get(subject="人均餐厨垃圾量")
    outsider = make_user(
        "outsider", world["B"], make_role("b_std", DataScope.AGENCY_AND_BELOW, ["standards.*"])
    )
    client = login(outsider)
    # The standard is A's and not public: B's officer neither sees nor links it.
    assert client.get(f"/standards/{standard.pk}/requirements/").status_code == 404
    r = client.post(
        f"/standards/requirements/{waste.pk}/link/", {"indicator_key": "org.user_count"}
    )
    assert r.status_code == 404
    assert client.post(f"/standards/{standard.pk}/requirements/refresh/").status_code == 404
    reader = make_user("reader", world["A"], make_role("reader", permissions=["standards.view"]))
    client = login(reader)
    html = client.get(f"/standards/{standard.pk}/requirements/").content.decode()
    assert "人均餐厨垃圾量" in html and "requirements/refresh" not in html and "/link/" not in html
    r = client.post(
        f"/standards/requirements/{waste.pk}/link/", {"indicator_key": "org.user_count"}
    )
    assert r.status_code == 403
    waste.refresh_from_db()
    assert waste.indicator_key == "" and waste.confirmed_at is None


def test_public_standard_of_another_agency_is_read_only(world, standard):  # noqa: F811
    standard.is_public = True
    standard.save()
    linking.refresh_requirements(None, standard)
    outsider = make_user(
        "outsider", world["B"], make_role("b_std", DataScope.AGENCY_AND_BELOW, ["standards.*"])
    )
    client = login(outsider)
    html = client.get(f"/standards/{standard.pk}/requirements/").content.decode()
    assert "人均餐厨垃圾量" in html and "/link/" not in html
    waste = Requirement.objects.get(subject="人均餐厨垃圾量")
    r = client.post(
        f"/standards/requirements/{waste.pk}/link/", {"indicator_key": "org.user_count"}
    )
    assert r.status_code == 404


def test_suggested_indicator_is_offered_first(standard, officer):  # noqa: F811
    Clause.objects.filter(standard=standard, number="4.2").update(
        text="职能标准覆盖率不应低于90%。"
    )
    linking.refresh_requirements(None, standard)
    row = Requirement.objects.get(subject="职能标准覆盖率")
    html = login(officer).get(f"/standards/{standard.pk}/requirements/").content.decode()
    block = html[html.index(f'id="req-{row.pk}"') :]
    block = block[: block.index("</tr>")]
    assert "建议" in block and "standards.function_coverage_rate" in block
    assert 'value="standards.function_coverage_rate" selected' in block
