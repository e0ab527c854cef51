"""GET /api/v1/standards/search: the contract, the data scope, validation."""

import pytest
from ninja.testing import TestClient

from guanjia.standards.api_search import make_router

from ..conftest import api_client
from .search_fixtures import library_fixture  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db
URL = "/api/v1/standards/search"


def test_search_items_and_count(library, users):
    r = api_client(users["agency"]).get(URL, {"q": "光盘率", "limit": 5})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["count"] == len(body["items"]) == 2
    top = body["items"][0]
    assert top["code"] == "DB50/T 9001—2022" and top["status"] == "in_force"
    assert {"3.1", "8.2"} <= set(top["clauses"])
    assert top["agency_id"] == library["canteen"].agency_id
    snippet = next(p for p in top["snippets"] if p["clause"] == "8.2")
    start, end = snippet["highlights"][0]
    assert snippet["text"][start:end] == "光盘率"


def test_search_by_code_and_filters(library, users):
    client = api_client(users["agency"])
    body = client.get(URL, {"q": "ＤＢ５０／Ｔ９００１"}).json()
    assert [i["code"] for i in body["items"][:2]] == ["DB50/T 9001—2022", "DB50/T 9001—2019"]
    body = client.get(URL, {"q": "db50/t9001", "status": "superseded"}).json()
    assert [i["code"] for i in body["items"]] == ["DB50/T 9001—2019"]
    body = client.get(URL, {"q": "公务用车", "region": "510000", "level": "local"}).json()
    assert [i["code"] for i in body["items"]] == ["DB51/T 9002—2021"]


def test_scope(library, users):
    def codes(user):
        return [i["code"] for i in api_client(user).get(URL, {"q": "询价"}).json()["items"]]

    assert "Q/CDJG 001—2024" not in codes(users["agency"])
    assert "Q/CDJG 001—2024" in codes(users["b_admin"])
    assert codes(users["norole"]) == []


def test_bad_parameters_are_422(library, users):
    client = api_client(users["agency"])
    assert client.get(URL, {"q": "光盘率", "level": "cosmic"}).status_code == 422
    assert client.get(URL, {"q": "光盘率", "region": "999999"}).status_code == 422
    assert client.get(URL, {"q": "光盘率", "limit": 0}).status_code == 422
    assert client.get(URL, {"q": "光盘率", "limit": 101}).status_code == 422
    assert client.get(URL, {"q": ""}).status_code == 422
    assert client.get(URL).status_code == 422


def test_anonymous_is_refused(library, client):
    assert client.get(URL, {"q": "光盘率"}).status_code == 401


def test_router_works_on_its_own(library, users):
    """The router does not depend on where it is mounted."""
    r = TestClient(make_router()).get("/search?q=餐厨垃圾", user=users["agency"])
    assert r.status_code == 200
    assert r.json()["items"][0]["code"] == "DB50/T 9001—2022"
