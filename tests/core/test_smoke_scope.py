from guanjia.core.models import Agency

from ..conftest import api_client


def test_own_agency_scope_sees_only_own_agency(users, world):
    visible = set(Agency.objects.restrict(users["agency"]).values_list("name", flat=True))
    assert visible == {world["A"].name}


def test_agency_and_below_sees_subtree(users, world):
    visible = set(Agency.objects.restrict(users["agency_and_below"]).values_list("name", flat=True))
    assert visible == {world["A"].name, world["A1"].name}


def test_api_lists_agencies_within_scope(users, world):
    r = api_client(users["agency_and_below"]).get("/api/v1/agencies")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["count"] == 2
    assert {i["name"] for i in body["items"]} == {world["A"].name, world["A1"].name}
    assert {i["parent_id"] for i in body["items"]} == {None, world["A"].pk}
