"""The data-scope matrix: every API operation, for every kind of caller.

MATRIX maps each (method, path) of the API to what agency B's data looks like through it.
A user at agency A whose scope is "own agency" or "own agency and below" must get nothing
of B: lists without B's rows, 404 on B's objects, writes aimed at B refused with nothing
written. Whoever sees everything (scope "all", a superuser) must see B through the same
call — the positive control that keeps the refusals honest — and a user without a role
gets empty lists. `test_matrix_covers_every_endpoint` fails when an endpoint is added
without a case here.
"""

import importlib
import re
from pathlib import Path

import pytest

from guanjia.api import api
from guanjia.core.models import ObjectChange
from guanjia.core.scope import DataScope

from ..conftest import PASSWORD, api_client, make_role, make_user
from ..standards.analysis_scope import AnalysisOfB, DraftCheckAgainstB
from ..standards.drafting_scope import DraftDetail, DraftListing, DraftWrite
from ..standards.expert_scope import (
    DocumentListing,
    DocumentUpload,
    ExpertListing,
    ExportOfB,
    ScopedWrite,
)
from ..standards.framework_scope import (
    FrameworkDetail,
    FrameworkListing,
    FrameworkWrite,
    FunctionListing,
)
from ..standards.library_scope import (
    LibraryDetail,
    LibraryListing,
    LibraryUpload,
    LibraryWrite,
)
from ..standards.search_fixtures import SearchScopeCase
from .conftest import call, snapshot
from .scope_kinds import (
    V1,
    Catalog,
    CreateOwnToken,
    Detail,
    Listing,
    Me,
    OwnTokens,
    Reference,
    RevokeToken,
    Write,
    _b_agency,
    _items,
    _with_limit,
)

# -- the matrix ------------------------------------------------------------------------------

MATRIX = {
    ("GET", "/regions"): Reference(f"{V1}/regions"),
    ("GET", "/agencies"): Listing(f"{V1}/agencies", lambda i, ctx: i["id"] in ctx["b_ids"]),
    ("POST", "/agencies"): Write(
        ("POST", f"{V1}/agencies", {"name": "越权下级", "region": "510104", "parent_id": "{B}"}),
        ("POST", f"{V1}/agencies", {"name": "越权根单位", "region": "510104"}),
    ),
    ("GET", "/agencies/{agency_id}"): Detail(V1 + "/agencies/{B}"),
    ("PATCH", "/agencies/{agency_id}"): Write(
        ("PATCH", V1 + "/agencies/{B}", {"contact_person": "越权"}),
        ("PATCH", V1 + "/agencies/{B1}", {"is_active": False}),
    ),
    ("DELETE", "/agencies/{agency_id}"): Write(("DELETE", V1 + "/agencies/{B2}", None)),
    ("POST", "/agencies/{agency_id}/move"): Write(
        ("POST", V1 + "/agencies/{A}/move", {"parent_id": "{B}"}),
        ("POST", V1 + "/agencies/{B1}/move", {"parent_id": "{A}"}),
        ("POST", V1 + "/agencies/{B1}/move", {"parent_id": None}),
    ),
    ("GET", "/groups"): Listing(f"{V1}/groups", _b_agency),
    ("POST", "/groups"): Write(("POST", f"{V1}/groups", {"name": "越权组", "agency_id": "{B}"})),
    ("GET", "/groups/{group_id}"): Detail(V1 + "/groups/{group}"),
    ("PATCH", "/groups/{group_id}"): Write(
        ("PATCH", V1 + "/groups/{group}", {"name": "越权改名"}),
        ("PATCH", V1 + "/groups/{group}", {"member_ids": []}),
    ),
    ("DELETE", "/groups/{group_id}"): Write(("DELETE", V1 + "/groups/{group}", None)),
    ("GET", "/roles"): Listing(f"{V1}/roles", _b_agency),
    ("POST", "/roles"): Write(
        (
            "POST",
            f"{V1}/roles",
            {
                "key": "intruder",
                "name": "越权角色",
                "permissions": ["org.view"],
                "agency_id": "{B}",
            },
        ),
    ),
    ("GET", "/roles/{role_id}"): Detail(V1 + "/roles/{role}"),
    ("PATCH", "/roles/{role_id}"): Write(
        ("PATCH", V1 + "/roles/{role}", {"permissions": ["org.view", "org.change"]}),
        ("PATCH", V1 + "/roles/{role}", {"data_scope": "1"}),
    ),
    ("DELETE", "/roles/{role_id}"): Write(("DELETE", V1 + "/roles/{role}", None)),
    ("GET", "/users"): Listing(f"{V1}/users", _b_agency),
    ("POST", "/users"): Write(
        (
            "POST",
            f"{V1}/users",
            {"username": "intruder", "password": PASSWORD, "agency_id": "{B}"},
        ),
    ),
    ("GET", "/users/{user_id}"): Detail(V1 + "/users/{b_user}"),
    ("PATCH", "/users/{user_id}"): Write(
        ("PATCH", V1 + "/users/{b_user}", {"real_name": "越权"}),
        ("PATCH", V1 + "/users/{b_user}", {"password": "Another-Pass-2026"}),
        ("PATCH", V1 + "/users/{colleague}", {"role_keys": ["b_clerk"]}),  # B's role
        ("PATCH", V1 + "/users/{colleague}", {"agency_id": "{B}"}),  # into B
    ),
    ("GET", "/me"): Me(),
    ("GET", "/tokens"): OwnTokens(),
    ("POST", "/tokens"): CreateOwnToken(),
    ("DELETE", "/tokens/{token_id}"): RevokeToken(),
    ("GET", "/audit/changes"): Listing(f"{V1}/audit/changes", _b_agency),
    ("GET", "/audit/operations"): Listing(f"{V1}/audit/operations", _b_agency),
    ("GET", "/audit/logins"): Listing(f"{V1}/audit/logins", _b_agency),
    ("GET", "/indicators"): Catalog(f"{V1}/indicators"),
    ("GET", "/indicators/{key}/value"): Detail(
        V1 + "/indicators/org.agency_count/value?agency={B}&period=2026-03"
    ),
    ("GET", "/standards/search"): SearchScopeCase(),
    ("GET", "/standards/compare"): AnalysisOfB(
        V1 + "/standards/compare?a={a}&b={b}", V1 + "/standards/compare?a={b}&b={a}"
    ),
    ("GET", "/standards/{standard_id}/requirements"): AnalysisOfB(
        V1 + "/standards/{b}/requirements"
    ),
    ("GET", "/standards/{standard_id}/check"): AnalysisOfB(V1 + "/standards/{b}/check"),
    ("POST", "/standards/check"): DraftCheckAgainstB(),
    ("GET", "/standards"): LibraryListing(),
    ("GET", "/standards/{standard_id}"): LibraryDetail(V1 + "/standards/{private}"),
    ("GET", "/standards/by-code/{code}"): LibraryDetail(V1 + "/standards/by-code/{private_code}"),
    ("GET", "/standards/{standard_id}/clauses"): LibraryDetail(V1 + "/standards/{private}/clauses"),
    ("GET", "/standards/{standard_id}/sts"): LibraryDetail(V1 + "/standards/{private}/sts"),
    ("POST", "/standards/import"): LibraryUpload(),
    ("PATCH", "/standards/{standard_id}"): LibraryWrite(
        ("PATCH", V1 + "/standards/{private}", {"title": "越权改名"}),
        ("PATCH", V1 + "/standards/{public}", {"is_public": False}),
        ("PATCH", V1 + "/standards/{private}", {"is_public": True}),
    ),
    ("GET", "/standards/frameworks"): FrameworkListing(),
    ("POST", "/standards/frameworks"): FrameworkWrite(
        ("POST", V1 + "/standards/frameworks", {"name": "越权体系", "agency_id": "@B"}),
    ),
    ("GET", "/standards/frameworks/{framework_id}"): FrameworkDetail(
        V1 + "/standards/frameworks/{fw_private}"
    ),
    ("GET", "/standards/frameworks/{framework_id}/export.xlsx"): FrameworkDetail(
        V1 + "/standards/frameworks/{fw_private}/export.xlsx"
    ),
    ("POST", "/standards/framework-nodes"): FrameworkWrite(
        ("POST", V1 + "/standards/framework-nodes", {"parent_id": "@fw_private", "name": "越权"}),
        ("POST", V1 + "/standards/framework-nodes", {"parent_id": "@fw_public", "name": "越权"}),
    ),
    ("PATCH", "/standards/framework-nodes/{node_id}"): FrameworkWrite(
        ("PATCH", V1 + "/standards/framework-nodes/{node}", {"name": "越权改名"}),
        ("PATCH", V1 + "/standards/framework-nodes/{fw_public}", {"is_public": False}),
        ("PATCH", V1 + "/standards/framework-nodes/{fw_private}", {"is_public": True}),
    ),
    ("DELETE", "/standards/framework-nodes/{node_id}"): FrameworkWrite(
        ("DELETE", V1 + "/standards/framework-nodes/{node}", None),
        ("DELETE", V1 + "/standards/framework-nodes/{fw_public}", None),
    ),
    ("POST", "/standards/framework-nodes/{node_id}/standards"): FrameworkWrite(
        ("POST", V1 + "/standards/framework-nodes/{node}/standards", {"remove": ["@standard"]}),
        ("POST", V1 + "/standards/framework-nodes/{fw_public}/standards", {"add": ["@standard"]}),
    ),
    ("GET", "/standards/functions"): FunctionListing(),
    ("POST", "/standards/functions"): FrameworkWrite(
        ("POST", V1 + "/standards/functions", {"name": "越权职能", "agency_id": "@B"}),
    ),
    ("PATCH", "/standards/functions/{function_id}"): FrameworkWrite(
        ("PATCH", V1 + "/standards/functions/{function}", {"name": "越权改名"}),
        ("PATCH", V1 + "/standards/functions/{function}", {"standard_ids": []}),
        ("PATCH", V1 + "/standards/functions/{function}", {"agency_id": "@A"}),
    ),
    ("DELETE", "/standards/functions/{function_id}"): FrameworkWrite(
        ("DELETE", V1 + "/standards/functions/{function}", None),
    ),
    ("GET", "/standards/coverage"): FrameworkDetail(V1 + "/standards/coverage?agency={B}"),
    ("GET", "/standards/{standard_id}/export.docx"): ExportOfB(),
    ("POST", "/standards/{standard_id}/requirements/refresh"): ScopedWrite(
        V1 + "/standards/{standard}/requirements/refresh"
    ),
    ("POST", "/standards/requirements/{requirement_id}/link"): ScopedWrite(
        V1 + "/standards/requirements/{requirement}/link", {"indicator_key": "org.user_count"}
    ),
    ("GET", "/standards/experts"): ExpertListing(),
    ("GET", "/standards/documents"): DocumentListing(),
    ("POST", "/standards/documents"): DocumentUpload(),
    ("POST", "/standards/experts"): ScopedWrite(
        V1 + "/standards/experts", {"name": "越权专家", "agency_id": "@B"}
    ),
    ("POST", "/standards/drafts/{standard_id}/reviewers"): ScopedWrite(
        V1 + "/standards/drafts/{standard}/reviewers", {"expert_id": "@a_expert"}
    ),
    ("GET", "/standards/drafts"): DraftListing(),
    ("GET", "/standards/drafts/{standard_id}/versions"): DraftDetail(
        V1 + "/standards/drafts/{draft}/versions"
    ),
    ("POST", "/standards/drafts/{standard_id}/versions"): DraftWrite(
        ("POST", V1 + "/standards/drafts/{draft}/versions", {"note": "越权版本"}),
    ),
    ("GET", "/standards/drafts/{standard_id}/periods"): DraftDetail(
        V1 + "/standards/drafts/{draft}/periods"
    ),
    ("POST", "/standards/drafts/{standard_id}/periods"): DraftWrite(
        (
            "POST",
            V1 + "/standards/drafts/{draft}/periods",
            {"group_id": "@group", "opens": "2026-01-01", "closes": "2026-12-31"},
        ),
    ),
    ("GET", "/standards/drafts/periods/{period_id}/comments"): DraftDetail(
        V1 + "/standards/drafts/periods/{period}/comments"
    ),
    ("POST", "/standards/drafts/periods/{period_id}/comments"): DraftWrite(
        (
            "POST",
            V1 + "/standards/drafts/periods/{period}/comments",
            {"clause_number": "4.1", "text": "越权"},
        ),
        join=True,
    ),
    ("PATCH", "/standards/drafts/comments/{comment_id}"): DraftWrite(
        ("PATCH", V1 + "/standards/drafts/comments/{comment}", {"disposition": "adopted"}),
    ),
    ("GET", "/standards/drafts/periods/{period_id}/export.xlsx"): DraftDetail(
        V1 + "/standards/drafts/periods/{period}/export.xlsx"
    ),
    ("GET", "/standards/drafts/periods/{period_id}/export.docx"): DraftDetail(
        V1 + "/standards/drafts/periods/{period}/export.docx"
    ),
    ("POST", "/standards/drafts/{standard_id}/submit"): DraftWrite(
        ("POST", V1 + "/standards/drafts/{draft}/submit", None),
    ),
    ("POST", "/standards/drafts/{standard_id}/approve"): DraftWrite(
        ("POST", V1 + "/standards/drafts/{draft}/approve", None),
    ),
    ("POST", "/standards/drafts/{standard_id}/publish"): DraftWrite(
        ("POST", V1 + "/standards/drafts/{draft}/approve", None),
        ("POST", V1 + "/standards/drafts/{draft}/publish", {"issue_date": "2026-03-01"}),
    ),
    ("DELETE", "/standards/{standard_id}"): LibraryWrite(
        ("DELETE", V1 + "/standards/{private}", None),
        ("DELETE", V1 + "/standards/{public}", None),
    ),
}


def _app_cases() -> dict:
    """Cases the apps keep beside their own tests (`tests/<app>/matrix_*.py`)."""
    cases = {}
    for path in sorted(Path(__file__).parents[1].glob("*/matrix_*.py")):
        module = importlib.import_module(f"tests.{path.parent.name}.{path.stem}")
        cases.update(module.CASES)
    return cases


MATRIX.update(_app_cases())


def api_operations() -> set[tuple[str, str]]:
    paths = api.get_openapi_schema()["paths"]
    return {
        (method.upper(), path.removeprefix(V1))
        for path, ops in paths.items()
        for method in ops
        if method.upper() in ("GET", "POST", "PUT", "PATCH", "DELETE")
    }


CASES = sorted(MATRIX)
IDS = [f"{m} {p}" for m, p in CASES]


def test_matrix_covers_every_endpoint():
    ops = api_operations()
    assert ops - set(MATRIX) == set(), "endpoints without a data-scope case in MATRIX"
    assert set(MATRIX) - ops == set(), "cases for endpoints that no longer exist"


@pytest.fixture
def ctx(world, users, bdata):
    return {
        "A": world["A"].pk,
        "A1": world["A1"].pk,
        "B": bdata["B"].pk,
        "B1": bdata["B1"].pk,
        "B2": bdata["B2"].pk,
        "b_ids": bdata["b_ids"],
        "group": bdata["group"].pk,
        "role": bdata["role"].pk,
        "b_user": bdata["user"].pk,
        "colleague": users["norole"].pk,
        "token": bdata["token"],
    }


@pytest.mark.parametrize("scope", ["agency", "agency_and_below"])
@pytest.mark.parametrize("op", CASES, ids=IDS)
def test_scoped_user_gets_nothing_of_b(op, scope, ctx, users):
    user = users[scope]
    MATRIX[op].scoped(ctx, api_client(user), user)


@pytest.mark.parametrize("who", ["all", "superuser"])
@pytest.mark.parametrize("op", CASES, ids=IDS)
def test_scope_all_and_superuser_see_b(op, who, ctx, users, superuser):
    user = superuser if who == "superuser" else users["all"]
    MATRIX[op].wide(ctx, api_client(user), user)


@pytest.mark.parametrize("op", CASES, ids=IDS)
def test_user_without_role_gets_nothing(op, ctx, users):
    user = users["norole"]
    MATRIX[op].norole(ctx, api_client(user), user)


@pytest.mark.parametrize("op", CASES, ids=IDS)
def test_anonymous_gets_401(op, client, world):
    method, path = op
    url = V1 + re.sub(r"\{[^}]+\}", "1", path)
    before = snapshot()
    r = call(client, method, url, {} if method in ("POST", "PATCH") else None)
    assert r.status_code == 401, (method, url, r.status_code)
    r = call(client, method, url, None)
    assert r.status_code == 401
    bad = client.generic(method, url, HTTP_AUTHORIZATION="Bearer gj_not-a-real-token")
    assert bad.status_code == 401
    assert snapshot() == before


# -- the other scopes, through the API ------------------------------------------------------


def _names(client, path):
    return {i.get("name") or i.get("username") for i in _items(client.get(_with_limit(V1 + path)))}


def test_region_scope_sees_its_region_and_below(users, world, regions, c_agency, bdata):
    from guanjia.core import services

    # Another tree in 大足, A's own county: inside A's region though not below A.
    d = services.create_agency(None, name="大足区人民医院", region=regions["500111"])
    client = api_client(users["region"])
    assert _names(client, "/agencies") == {world["A"].name, world["A1"].name, d.name}
    seen = _items(client.get(_with_limit(f"{V1}/users")))
    assert seen and all(u["agency_id"] in {world["A"].pk, world["A1"].pk} for u in seen)
    assert client.get(f"{V1}/agencies/{c_agency.pk}").status_code == 404  # 沙坪坝
    assert client.get(f"{V1}/agencies/{bdata['B'].pk}").status_code == 404
    assert client.get(f"{V1}/agencies/{d.pk}").status_code == 200


def test_region_scope_at_province_level_sees_the_province_not_the_other(
    world, regions, c_agency, bdata
):
    from guanjia.core import services

    cq = services.create_agency(None, name="重庆市机关事务管理局", region=regions["500000"])
    user = make_user("cq_region", cq, make_role("cq_region", DataScope.REGION))
    names = _names(api_client(user), "/agencies")
    assert names == {cq.name, world["A"].name, world["A1"].name, c_agency.name}


def test_agency_and_below_does_not_reach_other_trees_of_its_region(users, world, c_agency):
    client = api_client(users["agency_and_below"])
    assert _names(client, "/agencies") == {world["A"].name, world["A1"].name}


def test_custom_scope_sees_exactly_its_agencies(custom_user, world, bdata):
    client = api_client(custom_user)
    assert _names(client, "/agencies") == {world["A1"].name, world["B1"].name}
    seen = {u["username"] for u in _items(client.get(_with_limit(f"{V1}/users")))}
    assert seen == {"b_clerk_user"}  # the only user at A1 or B1
    assert client.get(f"{V1}/agencies/{world['A'].pk}").status_code == 404
    assert client.get(f"{V1}/agencies/{world['B1'].pk}").status_code == 200


def test_self_scope_sees_own_user_and_own_audit_rows_only(users, world, bdata):
    me = users["self"]
    client = api_client(me)
    assert [u["id"] for u in _items(client.get(f"{V1}/users"))] == [me.pk]
    assert client.get(f"{V1}/users/{users['agency'].pk}").status_code == 404
    r = call(client, "PATCH", f"{V1}/users/{me.pk}", {"real_name": "自己改名"})
    assert r.status_code == 200, r.content
    rows = _items(client.get(_with_limit(f"{V1}/audit/changes")))
    assert rows and {row["user_name"] for row in rows} == {me.username}
    assert len(rows) == ObjectChange.objects.filter(user=me).count()
    # Agencies have no owner: "only own records" shows none of them.
    assert _items(client.get(f"{V1}/agencies")) == []


def test_group_members_may_read_a_group_they_do_not_convene(users, world, bdata):
    from guanjia.core import services

    group = services.save_group(
        None, name="成渝双城协作组", agency=bdata["B"], members=[world["A"]]
    )
    client = api_client(users["agency"])
    assert client.get(f"{V1}/groups/{group.pk}").status_code == 200
    before = snapshot()
    r = call(client, "PATCH", f"{V1}/groups/{group.pk}", {"name": "成员改名"})
    assert r.status_code == 404
    assert client.delete(f"{V1}/groups/{group.pk}").status_code == 404
    assert snapshot() == before
