"""The kinds of data-scope case the matrix (test_scope_matrix) is made of.

Apps keep their own cases in `tests/<app>/matrix_*.py` modules exporting `CASES`, a dict
of (method, path) → case; the matrix merges them, so an app adds endpoints without
touching the shared file.
"""

from django.db import transaction

from guanjia.core.models import ApiToken, Region

from .conftest import call, snapshot

V1 = "/api/v1"
BIG_PAGE = "limit=1000"


def _items(response):
    assert response.status_code == 200, response.content
    body = response.json()
    return body["items"] if isinstance(body, dict) else body


def _with_limit(url):
    return url + ("&" if "?" in url else "?") + BIG_PAGE


# -- kinds of case --------------------------------------------------------------------------


class Listing:
    """A list of agency data: `is_b(item, ctx)` says whether a row belongs to B."""

    def __init__(self, url, is_b):
        self.url, self.is_b = url, is_b

    def scoped(self, ctx, client, user):
        items = _items(client.get(_with_limit(self.url)))
        leaked = [i for i in items if self.is_b(i, ctx)]
        assert not leaked, f"{self.url} shows B's rows to {user}: {leaked}"

    def wide(self, ctx, client, user):
        items = _items(client.get(_with_limit(self.url)))
        assert any(self.is_b(i, ctx) for i in items), f"{self.url} hides B from {user}"

    def norole(self, ctx, client, user):
        assert _items(client.get(self.url)) == []


class Reference(Listing):
    """Public reference data no agency owns (GB/T 2260 regions): the permission is enough."""

    def __init__(self, url):
        super().__init__(url, None)

    def scoped(self, ctx, client, user):
        items = _items(client.get(_with_limit(self.url)))
        assert {i["code"] for i in items} == set(Region.objects.values_list("code", flat=True))

    wide = scoped


class Catalog:
    """Metadata with no agency in it (the indicator catalogue): the same for everyone."""

    def __init__(self, url):
        self.url = url

    def scoped(self, ctx, client, user):
        keys = {i["key"] for i in _items(client.get(self.url))}
        assert {"org.agency_count", "org.user_count", "org.active_user_share"} <= keys
        assert all("agency" not in k for i in _items(client.get(self.url)) for k in i)

    wide = norole = scoped


class Detail:
    """One of B's objects: 404 for whoever may not see it."""

    def __init__(self, url):
        self.url = url

    def scoped(self, ctx, client, user):
        r = client.get(self.url.format(**ctx))
        assert r.status_code == 404, r.content

    norole = scoped

    def wide(self, ctx, client, user):
        r = client.get(self.url.format(**ctx))
        assert r.status_code == 200, r.content


class Write:
    """Writes aimed at B. Refused (403 or 404) with the database unchanged for the scoped
    user; done for whoever sees everything (each inside a rolled-back savepoint)."""

    def __init__(self, *attempts):
        self.attempts = attempts  # (method, url, body)

    def _each(self, ctx):
        for method, url, body in self.attempts:
            yield method, url.format(**ctx), _fill(body, ctx)

    def scoped(self, ctx, client, user):
        for method, url, body in self._each(ctx):
            before = snapshot()
            r = call(client, method, url, body)
            assert r.status_code in (403, 404), (method, url, body, r.status_code, r.content)
            assert snapshot() == before, f"{method} {url} changed the database"

    norole = scoped

    def wide(self, ctx, client, user):
        for method, url, body in self._each(ctx):
            with transaction.atomic():
                r = call(client, method, url, body)
                assert 200 <= r.status_code < 300, (method, url, body, r.status_code, r.content)
                transaction.set_rollback(True)


class Me:
    def scoped(self, ctx, client, user):
        r = client.get(f"{V1}/me")
        assert r.status_code == 200 and r.json()["id"] == user.pk

    wide = norole = scoped


class OwnTokens:
    """Tokens are the caller's own credentials, whatever the scope."""

    def scoped(self, ctx, client, user):
        ids = {i["id"] for i in _items(client.get(f"{V1}/tokens"))}
        assert ids == set(ApiToken.objects.filter(user=user).values_list("pk", flat=True))
        assert ctx["token"].pk not in ids

    wide = norole = scoped


class CreateOwnToken:
    def scoped(self, ctx, client, user):
        b_tokens = ApiToken.objects.filter(user__agency__in=ctx["b_ids"]).count()
        r = call(client, "POST", f"{V1}/tokens", {"name": "mine"})
        assert r.status_code == 201, r.content
        assert ApiToken.objects.get(pk=r.json()["id"]).user == user
        assert ApiToken.objects.filter(user__agency__in=ctx["b_ids"]).count() == b_tokens

    wide = norole = scoped


class RevokeToken:
    """B's token cannot be revoked by anyone else (404, still valid); one's own can."""

    def scoped(self, ctx, client, user):
        r = client.delete(f"{V1}/tokens/{ctx['token'].pk}")
        assert r.status_code == 404, r.content
        ctx["token"].refresh_from_db()
        assert ctx["token"].revoked_at is None
        own = ApiToken.objects.filter(user=user).first()
        assert client.delete(f"{V1}/tokens/{own.pk}").status_code == 204

    wide = norole = scoped


def _fill(body, ctx):
    if isinstance(body, dict):
        return {k: _fill(v, ctx) for k, v in body.items()}
    if isinstance(body, list):
        return [_fill(v, ctx) for v in body]
    if isinstance(body, str) and body.startswith("{") and body.endswith("}"):
        return ctx[body[1:-1]]
    return body


def _b_agency(item, ctx):
    return item["agency_id"] in ctx["b_ids"]


class SeededCase:
    """A case of the kinds above, run once `seed(ctx)` has made B's data. `seed` may return
    the ids it made (added to ctx) or ctx itself. Modules bind their own seed:
    `Seeded = partial(SeededCase, seed)`."""

    def __init__(self, seed, case):
        self.seed, self.case = seed, case

    def _ready(self, ctx):
        found = self.seed(ctx)
        if isinstance(found, dict) and found is not ctx:
            ctx.update(found)
        return ctx

    def scoped(self, ctx, client, user):
        self.case.scoped(self._ready(ctx), client, user)

    def wide(self, ctx, client, user):
        self.case.wide(self._ready(ctx), client, user)

    def norole(self, ctx, client, user):
        self.case.norole(self._ready(ctx), client, user)
