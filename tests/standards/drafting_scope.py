"""The data-scope matrix's cases (tests/core/test_scope_matrix) for joint drafting.

Agency B keeps a private draft (成都市机关会议服务规范（征求意见稿）, stage soliciting) with a
version, a comment period open to B's collaboration group (member B1) and two comments,
both disposed. Agency A's users see none of it (the draft list leaves it out; versions,
periods, comments and exports are 404) and write nothing to it (404/403 with nothing
written); whoever sees everything gets all of it and may act on it (in a rolled-back
savepoint). Commenting needs membership of the period's group, not scope: the positive
control adds A to B's group inside the savepoint.
"""

import json
from datetime import date, timedelta

from django.db import transaction

from guanjia.core.models import Agency, CollaborationGroup, ObjectChange, User
from guanjia.standards import drafting, services
from guanjia.standards.models import Comment, CommentPeriod, DraftVersion, Standard
from guanjia.standards.parsing import parse_text

V1 = "/api/v1/standards/drafts"
TITLE = "成都市机关会议服务规范（征求意见稿）"
CODE_KEY = "DB51/T9994-2026"
TEXT = (
    "DB51\n四川省地方标准\nDB51/T 9994—2026\n" + TITLE + "\n"
    "1 范围\n本文件规定了会议服务要求。\n4 要求\n4.1 会场应提前2小时准备。\n"
)


def seed(ctx) -> dict:
    if not Standard.objects.filter(code_key=CODE_KEY).exists():
        b = Agency.objects.get(pk=ctx["B"])
        b_admin = User.objects.get(pk=ctx["b_user"])
        doc = parse_text(TEXT)
        doc.stage = "drafting"
        draft, _ = services.import_document(None, doc, b)
        group = CollaborationGroup.objects.get(pk=ctx["group"])
        today = date.today()
        period = drafting.open_comment_period(
            None, draft, group, today - timedelta(days=1), today + timedelta(days=30)
        )
        c1 = drafting.add_comment(b_admin, period, "4.1", "建议改为提前1小时。")
        c2 = drafting.add_comment(b_admin, period, "", "建议增加无障碍服务要求。")
        drafting.dispose(None, c1, "partly", "改为提前1.5小时。")
        drafting.dispose(None, c2, "adopted")
    draft = Standard.objects.get(code_key=CODE_KEY)
    period = CommentPeriod.objects.get(standard=draft)
    return {
        "draft": draft.pk,
        "period": period.pk,
        "comment": Comment.objects.filter(period=period).order_by("pk").first().pk,
        "group": ctx["group"],
        "A": ctx["A"],
    }


def snapshot() -> dict:
    return {
        "drafts": list(Standard.objects.filter(code_key=CODE_KEY).values()),
        "versions": list(DraftVersion.objects.order_by("pk").values()),
        "periods": list(CommentPeriod.objects.order_by("pk").values()),
        "comments": list(Comment.objects.order_by("pk").values()),
        "changes": ObjectChange.objects.count(),
    }


def _items(response):
    assert response.status_code == 200, response.content
    body = response.json()
    return body["items"] if isinstance(body, dict) else body


class DraftListing:
    url = V1 + "?limit=1000"

    def scoped(self, ctx, client, user):
        seed(ctx)
        titles = {i["title"] for i in _items(client.get(self.url))}
        assert TITLE not in titles, f"B's private draft listed for {user}"

    def wide(self, ctx, client, user):
        seed(ctx)
        assert TITLE in {i["title"] for i in _items(client.get(self.url))}

    def norole(self, ctx, client, user):
        seed(ctx)
        assert _items(client.get(self.url)) == []


class DraftDetail:
    """A GET on B's draft, its versions, periods, comments or exports: 404 unless the
    caller sees B."""

    def __init__(self, url):
        self.url = url

    def scoped(self, ctx, client, user):
        r = client.get(self.url.format(**seed(ctx)))
        assert r.status_code == 404, r.content

    norole = scoped

    def wide(self, ctx, client, user):
        r = client.get(self.url.format(**seed(ctx)))
        assert r.status_code == 200, r.content


class DraftWrite:
    """Writes aimed at B's draft: refused with nothing written for the scoped caller; for
    whoever sees everything, all attempts succeed in turn in one rolled-back savepoint
    (so "approve" then "publish" is a flow). `join` adds A to B's group first (commenting
    is for members)."""

    def __init__(self, *attempts, join=False):
        self.attempts = attempts  # (method, url template, JSON body or None)
        self.join = join

    def _send(self, client, method, url, body):
        send = getattr(client, method.lower())
        if body is None:
            return send(url)
        return send(url, data=json.dumps(body), content_type="application/json")

    def _each(self, ctx):
        ids = seed(ctx)
        for method, url, body in self.attempts:
            if body is not None:  # "@name" → the seeded id
                body = {
                    k: ids[v[1:]] if isinstance(v, str) and v.startswith("@") else v
                    for k, v in body.items()
                }
            yield method, url.format(**ids), body

    def scoped(self, ctx, client, user):
        for method, url, body in self._each(ctx):
            before = snapshot()
            r = self._send(client, method, url, body)
            assert r.status_code in (403, 404), (method, url, r.status_code, r.content)
            assert snapshot() == before, f"{method} {url} changed B's draft"

    norole = scoped

    def wide(self, ctx, client, user):
        attempts = list(self._each(ctx))
        with transaction.atomic():
            if self.join:
                CollaborationGroup.objects.get(pk=ctx["group"]).members.add(ctx["A"])
            for method, url, body in attempts:
                r = self._send(client, method, url, body)
                assert 200 <= r.status_code < 300, (method, url, r.status_code, r.content)
            transaction.set_rollback(True)
