"""The data-scope matrix's cases (tests/core/test_scope_matrix) for frameworks, nodes,
agency functions and coverage.

Agency B keeps a private framework (成都市内部标准体系, with node "1"), a public one
(四川省机关事务标准体系) and a function (成都机关后勤) covered by B's public standard.
Whoever does not see B finds neither the private framework nor the function anywhere
(lists, details, export, coverage of B: 404) and changes nothing of B's (404/403 with
nothing written); whoever sees everything gets all of it.
"""

import json

from django.db import transaction

from guanjia.core.models import Agency, ObjectChange
from guanjia.standards import frameworks as svc
from guanjia.standards import services
from guanjia.standards.models import AgencyFunction, FrameworkNode, Standard
from guanjia.standards.parsing import parse_text

V1 = "/api/v1/standards"
PRIVATE, PUBLIC, FUNCTION = "成都市内部标准体系", "四川省机关事务标准体系", "成都机关后勤"


def seed(ctx) -> dict:
    if not FrameworkNode.objects.filter(name=PRIVATE).exists():
        b = Agency.objects.get(pk=ctx["B"])
        text = (
            "DB51\n四川省地方标准\nDB51/T 9995—2024\n成都市机关后勤服务规范\n"
            "2024-01-10发布 2024-03-01实施\n四川省市场监督管理局 发 布\n"
            "1 范围\n本文件规定了后勤服务要求。\n4 要求\n4.1 应每年检查一次。\n"
        )
        standard, _ = services.import_document(None, parse_text(text), b)
        private = svc.create_framework(None, agency=b, name=PRIVATE, is_public=False)
        node = svc.add_node(None, private, name="后勤服务", code="1")
        svc.attach_standards(None, node, add=[standard])
        public = svc.create_framework(None, agency=b, name=PUBLIC, code="8+N")
        svc.add_node(None, public, name="办公用房", code="1")
        svc.save_function(None, agency=b, name=FUNCTION, node=node, standards=[standard])
    private = FrameworkNode.objects.get(name=PRIVATE)
    return {
        "B": ctx["B"],
        "A": ctx["A"],
        "fw_private": private.pk,
        "fw_public": FrameworkNode.objects.get(name=PUBLIC).pk,
        "node": FrameworkNode.objects.get(path__startswith=private.path, depth=2).pk,
        "function": AgencyFunction.objects.get(name=FUNCTION).pk,
        "standard": Standard.objects.get(code_key="DB51/T9995-2024").pk,
    }


def snapshot() -> dict:
    links = AgencyFunction.standards.through.objects.values_list("agencyfunction_id", "standard_id")
    attached = FrameworkNode.standards.through.objects.values_list(
        "frameworknode_id", "standard_id"
    )
    return {
        "nodes": list(FrameworkNode.objects.order_by("pk").values()),
        "functions": list(AgencyFunction.objects.order_by("pk").values()),
        "links": sorted(links),
        "attached": sorted(attached),
        "changes": ObjectChange.objects.count(),
    }


def _items(response):
    assert response.status_code == 200, response.content
    return response.json()["items"]


class FrameworkListing:
    url = V1 + "/frameworks?limit=1000"

    def scoped(self, ctx, client, user):
        seed(ctx)
        names = {i["name"] for i in _items(client.get(self.url))}
        assert PRIVATE not in names, f"B's private framework listed for {user}"
        assert PUBLIC in names

    def wide(self, ctx, client, user):
        seed(ctx)
        assert {PRIVATE, PUBLIC} <= {i["name"] for i in _items(client.get(self.url))}

    def norole(self, ctx, client, user):
        seed(ctx)
        assert _items(client.get(self.url)) == []


class FunctionListing:
    url = V1 + "/functions?limit=1000"

    def scoped(self, ctx, client, user):
        seed(ctx)
        names = {i["name"] for i in _items(client.get(self.url))}
        assert FUNCTION not in names, f"B's function listed for {user}"

    def wide(self, ctx, client, user):
        seed(ctx)
        assert FUNCTION in {i["name"] for i in _items(client.get(self.url))}

    def norole(self, ctx, client, user):
        seed(ctx)
        assert _items(client.get(self.url)) == []


class FrameworkDetail:
    """A GET on something of B's that only B's scope sees: 404 unless the caller sees B."""

    def __init__(self, url):
        self.url = url

    def scoped(self, ctx, client, user):
        r = client.get(self.url.format(**seed(ctx)))
        assert r.status_code == 404, r.content

    norole = scoped

    def wide(self, ctx, client, user):
        r = client.get(self.url.format(**seed(ctx)))
        assert r.status_code == 200, r.content


class FrameworkWrite:
    """Writes aimed at B's frameworks and functions: refused with nothing written for the
    scoped caller; done (in a rolled-back savepoint) for whoever sees everything."""

    def __init__(self, *attempts):
        self.attempts = attempts  # (method, url template, JSON body or None); "@name" → id

    def _each(self, ctx, client):
        ids = seed(ctx)
        for method, url, body in self.attempts:
            url = url.format(**ids)
            payload = None if body is None else _resolve(body, ids)
            if payload is None:
                yield method, url, lambda u=url, m=method: getattr(client, m.lower())(u)
            else:
                yield (
                    method,
                    url,
                    lambda u=url, m=method, b=payload: getattr(client, m.lower())(
                        u, data=json.dumps(b), content_type="application/json"
                    ),
                )

    def scoped(self, ctx, client, user):
        for method, url, send in self._each(ctx, client):
            before = snapshot()
            r = send()
            assert r.status_code in (403, 404), (method, url, r.status_code, r.content)
            assert snapshot() == before, f"{method} {url} changed frameworks or functions"

    norole = scoped

    def wide(self, ctx, client, user):
        for method, url, send in self._each(ctx, client):
            with transaction.atomic():
                r = send()
                assert 200 <= r.status_code < 300, (method, url, r.status_code, r.content)
                transaction.set_rollback(True)


def _resolve(value, ids):
    if isinstance(value, str) and value.startswith("@"):
        return ids[value[1:]]
    if isinstance(value, list):
        return [_resolve(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _resolve(v, ids) for k, v in value.items()}
    return value
