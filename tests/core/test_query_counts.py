"""List endpoints cost the same number of queries for 50 rows as for 10."""

import json
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanjia.core import services
from guanjia.core.models import Agency, LoginLog, ObjectChange, OperationLog, Region
from guanjia.core.scope import DataScope

from ..conftest import api_client, make_role, make_user

REGIONS = Path(services.__file__).parent / "data/regions.json"


class Rows:
    """Adds rows of every listed kind, all within A's tree, numbered on."""

    def __init__(self, world, caller):
        self.world, self.caller, self.n = world, caller, 0

    def _next(self):
        self.n += 1
        return self.n

    def agencies(self, k):
        for _ in range(k):
            services.create_agency(
                None,
                parent=self.world["A"],
                name=f"下属单位{self._next()}",
                region=self.world["A"].region,
            )

    def groups(self, k):
        members = [self.world["A"], self.world["A1"]]
        for _ in range(k):
            services.save_group(
                None, name=f"工作组{self._next()}", agency=self.world["A"], members=members
            )

    def roles(self, k):
        for _ in range(k):
            i = self._next()
            services.save_role(
                None,
                key=f"r{i}",
                name=f"角色{i}",
                agency=self.world["A"],
                permissions=["org.view"],
                custom_agencies=[self.world["A1"]],
            )

    def users(self, k):
        role = make_role(f"shared{self._next()}", permissions=["org.view"])
        for _ in range(k):
            make_user(f"staff{self._next()}", self.world["A1"], role)

    def changes(self, k):
        ct = ContentType.objects.get_for_model(Agency)
        ObjectChange.objects.bulk_create(
            ObjectChange(
                user_name="x",
                source="cli",
                action="update",
                content_type=ct,
                object_id=str(self._next()),
                object_repr="x",
                agency=self.world["A"],
                before={},
                after={},
            )
            for _ in range(k)
        )

    def operations(self, k):
        OperationLog.objects.bulk_create(
            OperationLog(
                user=self.caller,
                user_name="x",
                agency=self.world["A"],
                request_id=str(self._next()),
                method="POST",
                path="/x",
                status_code=200,
                duration_ms=1,
            )
            for _ in range(k)
        )

    def logins(self, k):
        LoginLog.objects.bulk_create(
            LoginLog(username=f"u{self._next()}", agency=self.world["A"], success=False)
            for _ in range(k)
        )

    def tokens(self, k):
        for _ in range(k):
            services.create_token(None, self.caller, f"t{self._next()}")

    def regions(self, k):
        target = Region.objects.count() + k
        # Sorted by code, so a parent always comes before its children.
        for row in json.loads(REGIONS.read_text())["regions"]:
            if Region.objects.count() >= target:
                break
            services.load_regions([row])


LISTS = {
    "/api/v1/agencies": "agencies",
    "/api/v1/groups": "groups",
    "/api/v1/roles": "roles",
    "/api/v1/users": "users",
    "/api/v1/audit/changes": "changes",
    "/api/v1/audit/operations": "operations",
    "/api/v1/audit/logins": "logins",
    "/api/v1/tokens": "tokens",
    "/api/v1/regions": "regions",
}


def test_every_paginated_list_is_measured():
    from .test_scope_matrix import MATRIX, Listing, OwnTokens

    lists = {f"/api/v1{p}" for (m, p), case in MATRIX.items() if isinstance(case, Listing)}
    assert lists | {"/api/v1/tokens"} == set(LISTS)
    assert isinstance(MATRIX[("GET", "/tokens")], OwnTokens)


@pytest.mark.parametrize("url", sorted(LISTS))
def test_list_queries_do_not_grow_with_rows(url, world, django_assert_max_num_queries):
    caller = make_user("counter", world["A"], make_role("counter", DataScope.AGENCY_AND_BELOW))
    client = api_client(caller)
    rows = Rows(world, caller)
    add = getattr(rows, LISTS[url])
    add(10)
    assert client.get(url).status_code == 200  # warm-up (the token notes its first use)
    with CaptureQueriesContext(connection) as ten:
        r = client.get(url)
    small = r.json()["count"]
    assert small >= 10, r.content
    add(40)
    with django_assert_max_num_queries(len(ten)):
        r = client.get(url)
    assert r.json()["count"] >= small + 40
    assert len(r.json()["items"]) >= 50
