"""Experts and review assignments: no one reviews their own agency's draft; only drafts get
reviewers; the scope of experts and assignments; the API."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from guanjia.core.scope import DataScope
from guanjia.standards import experts as svc
from guanjia.standards import services
from guanjia.standards.models import Expert, ReviewAssignment
from guanjia.standards.parsing import parse_text

from ..conftest import api_client, make_role, make_user

pytestmark = pytest.mark.django_db
V1 = "/api/v1/standards"


def draft_of(agency, code="DB50/T 9950—2026", stage="drafting"):
    text = (
        f"DB50\n重庆市地方标准\n{code}\n机关会议服务规范\n2026-01-10发布 2026-03-01实施\n"
        "重庆市市场监督管理局 发 布\n1 范围\n本文件规定了会议服务要求。\n"
    )
    standard, _ = services.import_document(None, parse_text(text), agency, is_public=False)
    return services.update_standard(None, standard, stage=stage)


@pytest.fixture
def chief(world):
    """Sees A and everything below it."""
    role = make_role("chief", DataScope.AGENCY_AND_BELOW, ["standards.*", "org.view"])
    return make_user("chief", world["A"], role)


def test_no_one_reviews_their_own_agencys_draft(world, chief):
    draft = draft_of(world["A1"])
    own = svc.create_expert(chief, name="张工", field="会议服务", agency=world["A1"])
    other = svc.create_expert(chief, name="李工", field="会议服务", agency=world["A"])
    with pytest.raises(ValidationError):
        svc.assign_reviewer(chief, draft, own)
    assignment = svc.assign_reviewer(chief, draft, other)
    assert (assignment.standard, assignment.expert, assignment.assigned_by) == (draft, other, chief)
    with pytest.raises(ValidationError):  # once
        svc.assign_reviewer(chief, draft, other)
    published = draft_of(world["A1"], "DB50/T 9951—2026", stage="published")
    with pytest.raises(ValidationError):
        svc.assign_reviewer(chief, published, other)
    assert ReviewAssignment.objects.count() == 1


def test_scope_of_experts_and_assignments(world, chief):
    b_expert = svc.create_expert(None, name="王工", agency=world["B"])
    draft = draft_of(world["A"])
    with pytest.raises(PermissionDenied):  # B's expert is outside the chief's scope
        svc.assign_reviewer(chief, draft, b_expert)
    with pytest.raises(PermissionDenied):
        svc.create_expert(chief, name="越权", agency=world["B"])
    reader = make_user("reader", world["A"], make_role("reader", permissions=["standards.view"]))
    with pytest.raises(PermissionDenied):
        svc.create_expert(reader, name="无权", agency=world["A"])
    assert not ReviewAssignment.objects.exists()
    assert list(Expert.objects.restrict(chief)) == []


def test_api_experts_and_assignment(world, chief, regions):
    client = api_client(chief)
    body = {"name": "张工", "field": "公共机构节能", "title": "高级工程师"}
    body |= {"agency_id": world["A1"].pk, "region": "500111"}
    r = client.post(f"{V1}/experts", body, content_type="application/json")
    assert r.status_code == 201, r.content
    expert = r.json()
    assert expert["agency_name"] == world["A1"].name and expert["region"] == "500111"
    r = client.post(
        f"{V1}/experts",
        {"name": "越权", "agency_id": world["B"].pk},
        content_type="application/json",
    )
    assert r.status_code == 404
    svc.create_expert(None, name="王工", agency=world["B"])
    r = client.get(f"{V1}/experts?field=节能")
    assert [e["name"] for e in r.json()["items"]] == ["张工"]
    assert client.get(f"{V1}/experts?limit=100").json()["count"] == 1  # not B's

    own = draft_of(world["A1"])
    url = f"{V1}/drafts/{own.pk}/reviewers"
    r = client.post(url, {"expert_id": expert["id"]}, content_type="application/json")
    assert r.status_code == 422, r.content
    other = draft_of(world["A"], "DB50/T 9952—2026")
    url = f"{V1}/drafts/{other.pk}/reviewers"
    r = client.post(url, {"expert_id": expert["id"]}, content_type="application/json")
    assert r.status_code == 201, r.content
    assert r.json()["expert"]["name"] == "张工" and r.json()["standard_id"] == other.pk
