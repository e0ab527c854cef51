"""Fixtures of the core tests: data owned by agency B (the "other province") of every kind
an endpoint can list, a superuser, and helpers to call the API and snapshot the database."""

import json

import pytest
from django.contrib.auth import authenticate, login
from django.contrib.sessions.middleware import SessionMiddleware
from django.test import RequestFactory
from django.urls import Resolver404, resolve

from guanjia.core import services
from guanjia.core.context import acting_as
from guanjia.core.models import (
    Agency,
    ApiToken,
    CollaborationGroup,
    LoginLog,
    ObjectChange,
    OperationLog,
    Role,
    User,
)
from guanjia.core.scope import DataScope

from ..conftest import PASSWORD, api_client, make_role, make_user


def call(client, method: str, url: str, body=None):
    """One API call; `body` is sent as JSON."""
    fn = getattr(client, method.lower())
    if body is None:
        return fn(url)
    return fn(url, data=json.dumps(body), content_type="application/json")


def has_login_view() -> bool:
    try:
        resolve("/login/")
    except Resolver404:
        return False
    return True


def sign_in(username: str, password: str, ip: str = "10.1.2.3"):
    """Log in the way the login view does (authenticate, then login), without HTTP.
    Returns (user or None, the request) so callers can look at `axes_locked_out`."""
    request = RequestFactory().post("/login/", REMOTE_ADDR=ip, HTTP_USER_AGENT="pytest-browser/1.0")
    SessionMiddleware(lambda r: None).process_request(request)
    user = authenticate(request=request, username=username, password=password)
    if user is not None:
        login(request, user)
    return user, request


def snapshot() -> dict:
    """Everything an API write could change, to prove a refused write changed nothing.
    (Operation logs grow with every request, and tokens note their last use: left out.)"""
    return {
        "agencies": list(Agency.objects.order_by("pk").values()),
        "groups": list(CollaborationGroup.objects.order_by("pk").values()),
        "group_members": sorted(
            CollaborationGroup.members.through.objects.values_list(
                "collaborationgroup_id", "agency_id"
            )
        ),
        "roles": list(Role.objects.order_by("pk").values()),
        "role_agencies": sorted(
            Role.custom_agencies.through.objects.values_list("role_id", "agency_id")
        ),
        "users": list(User.objects.order_by("pk").values()),
        "user_roles": sorted(User.roles.through.objects.values_list("user_id", "role_id")),
        "tokens": list(ApiToken.objects.order_by("pk").values("pk", "user_id", "revoked_at")),
        "changes": ObjectChange.objects.count(),
    }


@pytest.fixture
def superuser(world):
    return User.objects.create_superuser("root", "root@example.cn", PASSWORD, agency=world["A"])


@pytest.fixture
def c_agency(world, regions):
    """C: another root agency in Chongqing (沙坪坝), in no tree with A."""
    return services.create_agency(None, name="沙坪坝区机关事务服务中心", region=regions["500106"])


@pytest.fixture
def bdata(world, users, c_agency):
    """Rows of every kind that belong to agency B or its sub-agency B1, made the way they
    are made in production (services, the API, logins)."""
    b, b1, b_admin = world["B"], world["B1"], users["b_admin"]
    group = services.save_group(
        None, name="成都市公务用车协作组", agency=b, members=[b1], description="B 牵头"
    )
    role = services.save_role(
        None,
        key="b_clerk",
        name="成都办事员",
        permissions=["org.view"],
        data_scope=DataScope.AGENCY,
        agency=b,
    )
    clerk = make_user("b_clerk_user", b1, role)
    # A leaf that nothing refers to, so deleting it is possible for whoever may.
    b2 = services.create_agency(None, parent=b, name="成都市青羊区财政局", region=b.region)
    with acting_as(user=b_admin, source="api"):
        services.update_agency(b_admin, b1, contact_person="李四")
    sign_in("b_admin", PASSWORD, ip="10.9.9.9")
    sign_in("b_admin", "wrong-password", ip="10.9.9.9")
    b_client = api_client(b_admin)
    r = call(b_client, "POST", "/api/v1/tokens", {"name": "B 的令牌"})
    assert r.status_code == 201, r.content
    token = ApiToken.objects.get(pk=r.json()["id"])
    data = {
        "B": b,
        "B1": b1,
        "B2": b2,
        "b_ids": {b.pk, b1.pk, b2.pk},
        "group": group,
        "role": role,
        "user": b_admin,
        "clerk": clerk,
        "token": token,
    }
    # Each kind really exists and really belongs to B: otherwise the matrix proves nothing.
    assert ObjectChange.objects.filter(agency__in=[b, b1], user=b_admin).exists()
    assert LoginLog.objects.filter(agency=b, success=True).exists()
    assert LoginLog.objects.filter(agency=b, success=False).exists()
    assert OperationLog.objects.filter(agency=b, method="POST").exists()
    return data


@pytest.fixture
def custom_user(world):
    """Custom scope over exactly A1 and B1."""
    role = make_role("custom_a1_b1", DataScope.CUSTOM, custom=[world["A1"], world["B1"]])
    return make_user("custom_a1_b1", world["A"], role)
