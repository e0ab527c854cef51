"""The demo world as a program sees it: through the API, with a bearer token."""

import pytest
from django.test import Client

from guanjia.core import services
from guanjia.core.models import User

pytestmark = pytest.mark.django_db


def _client(username: str) -> Client:
    _token, raw = services.create_token(None, User.objects.get(username=username))
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_68_bureaus_in_5_groups_through_the_api(demo_world):
    body = _client("admin_demo").get("/api/v1/groups").json()
    assert body["count"] == 5
    members = [m["name"] for g in body["items"] for m in g["members"]]
    assert len(members) == len(set(members)) == 68
    assert {"重庆市机关事务管理局", "四川省机关事务管理局", "大足区机关事务管理中心"} <= set(
        members
    )


def test_a_bureau_leader_sees_only_the_group_of_the_bureau(demo_world):
    body = _client("dazu_leader").get("/api/v1/groups").json()
    assert body["count"] == 1
    assert "大足区机关事务管理中心" in {m["name"] for m in body["items"][0]["members"]}


def test_a_provincial_coordinator_sees_only_the_province(demo_world):
    client = _client("cq_coordinator")
    body = client.get("/api/v1/agencies?limit=1000").json()
    regions = {a["region"] for a in body["items"]}
    assert body["count"] > 68 and all(code.startswith("50") for code in regions)
    assert client.get("/api/v1/agencies?search=成都市机关事务管理局").json()["count"] == 0
