"""The API describes itself: OpenAPI 3 at /api/v1/openapi.json, interactive docs at
/api/v1/docs."""

from guanjia.api import api

from .test_scope_matrix import MATRIX


def test_openapi_schema_is_served_and_lists_the_endpoints(client, db):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    schema = r.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == api.title
    served = {
        (m.upper(), p.removeprefix("/api/v1")) for p, ops in schema["paths"].items() for m in ops
    }
    assert served == set(MATRIX)
    # Both ways in are documented: bearer tokens for programs, the session for browsers.
    schemes = schema["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())
    # Lists are paginated.
    params = {p["name"] for p in schema["paths"]["/api/v1/agencies"]["get"]["parameters"]}
    assert {"limit", "offset", "search"} <= params


def test_docs_render(client, db):
    r = client.get("/api/v1/docs")
    assert r.status_code == 200
    html = r.content.decode()
    assert "openapi.json" in html
    assert "swagger" in html.lower()
