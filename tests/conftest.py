"""Shared fixtures: a small world of two provinces, two agencies in different provinces
with a sub-agency each, and users holding each kind of role."""

import json
from pathlib import Path

import pytest
from django.test import Client

from guanjia.core import services
from guanjia.core.models import Agency, Region, Role
from guanjia.core.scope import DataScope

REGIONS = Path(__file__).resolve().parents[1] / "src/guanjia/core/data/regions.json"
PASSWORD = "Testing-Pass-2026"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The fixtures create many users; full-strength PBKDF2 (~0.3 s each) buys nothing here."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",  # verifies module-scoped fixtures
    ]


@pytest.fixture
def regions(db):
    rows = json.loads(REGIONS.read_text())["regions"]
    wanted = {"500000", "500111", "500106", "510000", "510100", "510104"}
    services.load_regions([r for r in rows if r["code"] in wanted])
    return {r.code: r for r in Region.objects.all()}


@pytest.fixture
def world(regions):
    """Agency A (大足, Chongqing) with A1 below it; agency B (成都, Sichuan) with B1."""
    a = services.create_agency(
        None, name="大足区机关事务管理中心", kind="centre", region=regions["500111"]
    )
    a1 = services.create_agency(None, parent=a, name="大足区财政局", region=regions["500111"])
    b = services.create_agency(
        None, name="成都市机关事务管理局", kind="bureau", region=regions["510100"]
    )
    b1 = services.create_agency(None, parent=b, name="成都市锦江区财政局", region=regions["510104"])
    return {"A": a, "A1": a1, "B": b, "B1": b1}


def make_role(key, scope=DataScope.AGENCY, permissions=("*",), custom=()):
    role = services.save_role(
        None,
        key=key,
        name=key,
        permissions=list(permissions),
        data_scope=scope,
        custom_agencies=list(custom),
    )
    return role


def make_user(username, agency: Agency, *roles: Role):
    return services.create_user(
        None,
        username=username,
        password=PASSWORD,
        agency=agency,
        roles=list(roles),
        real_name=username,
    )


@pytest.fixture
def users(world):
    """One user per scope, all at agency A, all with every permission."""
    return {
        scope.name.lower(): make_user(
            f"user_{scope.name.lower()}", world["A"], make_role(f"role_{scope.name.lower()}", scope)
        )
        for scope in DataScope
    } | {
        "b_admin": make_user(
            "b_admin", world["B"], make_role("b_all_agency", DataScope.AGENCY_AND_BELOW)
        ),
        "norole": make_user("norole", world["A"]),
    }


def api_client(user) -> Client:
    """A client that calls the API with a bearer token, as a program would."""
    _token, raw = services.create_token(None, user, "tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


DB_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
}


def pytest_collection_modifyitems(config, items):
    """The PostgreSQL pass exists to exercise the database: a test that touches none (the
    JT/T 808 codec, the forecast on a CSV, the simulator …) runs once, in the SQLite pass."""
    import os

    if not os.environ.get("GUANJIA_DATABASE_URL", "").startswith("postgres"):
        return
    once = pytest.mark.skip(reason="不访问数据库的测试只在 SQLite 一轮中运行")
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if item.get_closest_marker("django_db") is None and not fixtures & DB_FIXTURES:
            item.add_marker(once)
