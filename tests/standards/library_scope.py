"""The data-scope matrix's cases (tests/core/test_scope_matrix) for the library endpoints:
list, detail by id and by code, clauses, STS export, upload import, edit, delete.

Agency B keeps two standards: DB51/T 9990—2024, not public (a draft of B's own), and
DB51/T 9991—2024, public. Whoever does not see B must not find the first anywhere (lists,
details, by code, clauses, export) and must change neither (404 on edit and delete, 403 on
an upload into B or over B's code) with nothing written; whoever sees everything gets both.
"""

from urllib.parse import quote

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from guanjia.core.models import Agency, ObjectChange
from guanjia.standards import services
from guanjia.standards.models import Clause, Reference, Standard, Term
from guanjia.standards.parsing import parse_text

V1 = "/api/v1/standards"
PRIVATE, PUBLIC = "DB51/T 9990—2024", "DB51/T 9991—2024"


def text(code: str, title: str = "成都市机关会议服务规范") -> str:
    return (
        f"DB51\n四川省地方标准\n{code}\n{title}\n2024-01-10发布 2024-03-01实施\n"
        "四川省市场监督管理局 发 布\n1 范围\n本文件规定了会议服务要求。\n"
        "4 要求\n4.1 会场应提前2小时准备。\n4.2 茶歇宜简朴。\n"
    )


def seed(ctx) -> dict:
    """B's two standards, once per test; their ids and codes for the URL templates."""
    if not Standard.objects.filter(code_key="DB51/T9990-2024").exists():
        b = Agency.objects.get(pk=ctx["B"])
        services.import_document(None, parse_text(text(PRIVATE)), b, is_public=False)
        services.import_document(None, parse_text(text(PUBLIC, "成都市机关接待服务规范")), b)
    ids = dict(Standard.objects.values_list("code_key", "pk"))
    return {
        "private": ids["DB51/T9990-2024"],
        "public": ids["DB51/T9991-2024"],
        "private_code": quote(PRIVATE, safe=""),
        "B": ctx["B"],
    }


def snapshot() -> dict:
    return {
        "standards": list(Standard.objects.order_by("pk").values()),
        "clauses": list(Clause.objects.order_by("pk").values_list("pk", "standard_id", "text")),
        "terms": Term.objects.count(),
        "references": list(Reference.objects.order_by("pk").values_list("pk", "target_id")),
        "changes": ObjectChange.objects.count(),
    }


def _items(response):
    assert response.status_code == 200, response.content
    return response.json()["items"]


class LibraryListing:
    """GET /standards: B's non-public standard only for whoever sees B; B's public one for
    everyone holding standards.view."""

    url = V1 + "?limit=1000"

    def scoped(self, ctx, client, user):
        seed(ctx)
        codes = {i["code"] for i in _items(client.get(self.url))}
        assert PRIVATE not in codes, f"B's non-public standard listed for {user}"
        assert PUBLIC in codes

    def wide(self, ctx, client, user):
        seed(ctx)
        codes = {i["code"] for i in _items(client.get(self.url))}
        assert {PRIVATE, PUBLIC} <= codes

    def norole(self, ctx, client, user):
        seed(ctx)
        assert _items(client.get(self.url)) == []


class LibraryDetail:
    """A GET on B's non-public standard: 404 unless the caller sees B."""

    def __init__(self, url):
        self.url = url

    def scoped(self, ctx, client, user):
        r = client.get(self.url.format(**seed(ctx)))
        assert r.status_code == 404, r.content

    norole = scoped

    def wide(self, ctx, client, user):
        r = client.get(self.url.format(**seed(ctx)))
        assert r.status_code == 200, r.content


class LibraryWrite:
    """Writes aimed at B's standards: refused with nothing written for the scoped caller,
    done (in a rolled-back savepoint) for whoever sees everything."""

    def __init__(self, *attempts):
        self.attempts = attempts  # (method, url template, JSON body or None)

    def _each(self, ctx, client):
        ids = seed(ctx)
        for method, url, body in self.attempts:
            url = url.format(**ids)
            if body is None:
                yield method, url, lambda u=url, m=method: getattr(client, m.lower())(u)
            else:
                yield (
                    method,
                    url,
                    lambda u=url, m=method, b=body: getattr(client, m.lower())(
                        u, data=b, content_type="application/json"
                    ),
                )

    def scoped(self, ctx, client, user):
        for method, url, send in self._each(ctx, client):
            before = snapshot()
            r = send()
            assert r.status_code in (403, 404), (method, url, r.status_code, r.content)
            assert snapshot() == before, f"{method} {url} changed the library"

    norole = scoped

    def wide(self, ctx, client, user):
        for method, url, send in self._each(ctx, client):
            with transaction.atomic():
                r = send()
                assert 200 <= r.status_code < 300, (method, url, r.status_code, r.content)
                transaction.set_rollback(True)


class LibraryUpload:
    """POST /standards/import: a new standard into B, and B's non-public code uploaded
    again (which would update it): refused for the scoped caller, nothing written."""

    url = V1 + "/import"

    def _uploads(self, ctx):
        seed(ctx)
        new = text("DB51/T 9992—2024", "成都市机关绿化养护规范").encode()
        over = text(PRIVATE, "改写的会议服务规范").encode()
        return [
            ({"file": SimpleUploadedFile("new.txt", new), "agency_id": ctx["B"]}, 201),
            ({"file": SimpleUploadedFile("over.txt", over)}, 200),
        ]

    def scoped(self, ctx, client, user):
        for data, _ok in self._uploads(ctx):
            before = snapshot()
            r = client.post(self.url, data)
            assert r.status_code in (403, 404), (r.status_code, r.content)
            assert snapshot() == before, "a refused upload changed the library"

    norole = scoped

    def wide(self, ctx, client, user):
        for data, ok in self._uploads(ctx):
            with transaction.atomic():
                r = client.post(self.url, data)
                assert r.status_code == ok, r.content
                transaction.set_rollback(True)
