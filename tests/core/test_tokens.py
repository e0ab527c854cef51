"""Bearer tokens: shown once, stored only as a digest, and refused once revoked, expired or
belonging to a disabled account."""

import hashlib
from datetime import timedelta

from django.db import connection
from django.test import Client
from django.utils import timezone

from guanjia.core import services
from guanjia.core.models import ApiToken

from .conftest import call

V1 = "/api/v1"


def bearer(raw: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def database_contains(text: str) -> list[str]:
    """Tables in which some column holds `text` (a full scan of the test database)."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # table names come from introspection
            if any(text in str(value) for row in cursor.fetchall() for value in row):
                found.append(table)
    return found


def test_created_token_is_shown_once_and_stored_hashed(users):
    user = users["agency"]
    session = Client()
    session.force_login(user)
    r = call(session, "POST", f"{V1}/tokens", {"name": "数据上报程序"})
    assert r.status_code == 201, r.content
    raw = r.json()["token"]
    assert raw.startswith("gj_") and len(raw) > 40
    token = ApiToken.objects.get(pk=r.json()["id"])
    assert token.user == user and token.name == "数据上报程序"
    assert token.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert token.prefix == raw[:10] == r.json()["prefix"]
    assert database_contains(raw) == [], "the raw token is stored somewhere"
    listed = session.get(f"{V1}/tokens").json()["items"]
    assert [t["id"] for t in listed] == [token.pk]
    assert "token" not in listed[0]
    # And it works, for the user it belongs to.
    me = bearer(raw).get(f"{V1}/me")
    assert me.status_code == 200 and me.json()["id"] == user.pk


def test_use_is_noted(users):
    token, raw = services.create_token(None, users["agency"], "x")
    assert token.last_used_at is None
    assert bearer(raw).get(f"{V1}/me").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_revoked_token_is_refused(users):
    token, raw = services.create_token(None, users["agency"], "x")
    client = bearer(raw)
    assert client.get(f"{V1}/me").status_code == 200
    assert client.delete(f"{V1}/tokens/{token.pk}").status_code == 204
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert client.get(f"{V1}/me").status_code == 401
    assert client.get(f"{V1}/agencies").status_code == 401


def test_expired_token_is_refused(users):
    _token, raw = services.create_token(
        None, users["agency"], "old", expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert bearer(raw).get(f"{V1}/me").status_code == 401
    _token, raw = services.create_token(
        None, users["agency"], "new", expires_at=timezone.now() + timedelta(days=1)
    )
    assert bearer(raw).get(f"{V1}/me").status_code == 200


def test_token_of_a_disabled_account_is_refused(users):
    user = users["agency"]
    _token, raw = services.create_token(None, user, "x")
    assert bearer(raw).get(f"{V1}/me").status_code == 200
    user.is_active = False
    user.save()
    assert bearer(raw).get(f"{V1}/me").status_code == 401


def test_malformed_tokens_are_refused(users):
    _token, raw = services.create_token(None, users["agency"], "x")
    for bad in (raw[:-1], raw + "x", raw.upper(), "gj_" + "a" * 200, ApiToken.digest_of(raw)):
        assert bearer(bad).get(f"{V1}/me").status_code == 401, bad
    assert Client(HTTP_AUTHORIZATION=f"Token {raw}").get(f"{V1}/me").status_code == 401


def test_token_created_through_the_api_can_expire(users):
    client = bearer(services.create_token(None, users["agency"], "x")[1])
    soon = (timezone.now() + timedelta(hours=1)).isoformat()
    r = call(client, "POST", f"{V1}/tokens", {"name": "短期", "expires_at": soon})
    assert r.status_code == 201
    assert ApiToken.objects.get(pk=r.json()["id"]).expires_at is not None


def test_one_cannot_create_a_token_for_someone_outside_ones_scope(users):
    import pytest
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.create_token(users["agency"], users["b_admin"], "steal")
    assert not ApiToken.objects.filter(user=users["b_admin"]).exists()
