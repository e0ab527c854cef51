"""The data-scope matrix's cases (tests/core/test_scope_matrix) for stored requirements and
their indicator links, the Word export, experts, review assignments and documents.

Agency B keeps a private draft, DB51/T 9960—2024, with a stored requirement (4.1), an
expert (成都专家) and a document (成都内部文档); agency A an expert (大足专家). Whoever
does not see B neither exports the draft nor refreshes its requirements, links one, lists
B's expert or document, adds an expert or uploads a document into B, or assigns a reviewer
to B's draft (403/404, nothing written); whoever sees everything does all of it (writes in
a rolled-back savepoint).
"""

import json

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from guanjia.core.models import Agency, ObjectChange
from guanjia.standards import documents, experts, linking, services
from guanjia.standards.models import Document, Expert, Requirement, ReviewAssignment, Standard
from guanjia.standards.parsing import parse_text

V1 = "/api/v1/standards"
CODE_KEY = "DB51/T9960-2024"
B_EXPERT, A_EXPERT, B_DOCUMENT = "成都专家", "大足专家", "成都内部文档"


def seed(ctx) -> dict:
    if not Standard.objects.filter(code_key=CODE_KEY).exists():
        text = (
            "DB51\n四川省地方标准\nDB51/T 9960—2024\n成都市机关食堂管理规范\n"
            "2024-01-10发布 2024-03-01实施\n四川省市场监督管理局 发 布\n"
            "1 范围\n本文件规定了食堂管理要求。\n4 要求\n"
            "4.1 人均餐厨垃圾量不应超过150克每人次。\n"
        )
        b = Agency.objects.get(pk=ctx["B"])
        standard, _ = services.import_document(None, parse_text(text), b, is_public=False)
        linking.refresh_requirements(None, standard)
        services.update_standard(None, standard, stage="drafting")
        experts.create_expert(None, name=B_EXPERT, agency=b)
        experts.create_expert(None, name=A_EXPERT, agency=Agency.objects.get(pk=ctx["A"]))
        content = "成都内部文档：公务接待标准".encode()
        documents.upload_document(None, agency=b, title=B_DOCUMENT, name="b.txt", content=content)
    standard = Standard.objects.get(code_key=CODE_KEY)
    return {
        "standard": standard.pk,
        "requirement": Requirement.objects.get(clause__standard=standard).pk,
        "a_expert": Expert.objects.get(name=A_EXPERT).pk,
        "B": ctx["B"],
    }


def snapshot() -> dict:
    return {
        "requirements": list(Requirement.objects.order_by("pk").values()),
        "experts": list(Expert.objects.order_by("pk").values()),
        "reviews": list(ReviewAssignment.objects.order_by("pk").values()),
        "documents": list(Document.objects.order_by("pk").values()),
        "changes": ObjectChange.objects.count(),
    }


class ScopedWrite:
    """A POST on B's draft, requirement or agency: 403/404 with nothing written for whoever does
    not see B; 2xx for whoever sees everything."""

    def __init__(self, url, body=None):
        self.url, self.body = url, body

    def _send(self, ctx, client):
        ids = seed(ctx)
        url = self.url.format(**ids)
        if self.body is None:
            return client.post(url)
        body = {k: ids[v[1:]] if str(v).startswith("@") else v for k, v in self.body.items()}
        return client.post(url, data=json.dumps(body), content_type="application/json")

    def scoped(self, ctx, client, user):
        seed(ctx)
        before = snapshot()
        r = self._send(ctx, client)
        assert r.status_code in (403, 404), (self.url, r.status_code, r.content)
        assert snapshot() == before, f"POST {self.url} wrote something"

    norole = scoped

    def wide(self, ctx, client, user):
        seed(ctx)
        with transaction.atomic():
            r = self._send(ctx, client)
            assert 200 <= r.status_code < 300, (self.url, r.status_code, r.content)
            transaction.set_rollback(True)


class ExportOfB:
    """The Word export of B's private standard: 404 for whoever does not see B."""

    url = V1 + "/{standard}/export.docx"

    def scoped(self, ctx, client, user):
        r = client.get(self.url.format(**seed(ctx)))
        assert r.status_code == 404, r.content

    norole = scoped

    def wide(self, ctx, client, user):
        r = client.get(self.url.format(**seed(ctx)))
        assert r.status_code == 200, r.content
        assert r.content.startswith(b"PK")


class ExpertListing:
    url = V1 + "/experts?limit=1000"

    def scoped(self, ctx, client, user):
        seed(ctx)
        r = client.get(self.url)
        assert r.status_code == 200, r.content
        assert B_EXPERT not in {i["name"] for i in r.json()["items"]}, f"B's expert for {user}"

    def wide(self, ctx, client, user):
        seed(ctx)
        r = client.get(self.url)
        assert {B_EXPERT, A_EXPERT} <= {i["name"] for i in r.json()["items"]}

    def norole(self, ctx, client, user):
        seed(ctx)
        r = client.get(self.url)
        assert r.status_code == 200 and r.json()["items"] == [], r.content


class DocumentListing:
    url = V1 + "/documents?limit=1000&q=公务接待"

    def scoped(self, ctx, client, user):
        seed(ctx)
        r = client.get(self.url)
        assert r.status_code == 200, r.content
        assert B_DOCUMENT not in {i["title"] for i in r.json()["items"]}, f"B's for {user}"

    def wide(self, ctx, client, user):
        seed(ctx)
        r = client.get(self.url)
        assert B_DOCUMENT in {i["title"] for i in r.json()["items"]}

    def norole(self, ctx, client, user):
        seed(ctx)
        r = client.get(self.url)
        assert r.status_code == 200 and r.json()["items"] == [], r.content


class DocumentUpload:
    """An upload into B: refused (403/404) with nothing written for whoever does not see B."""

    url = V1 + "/documents"

    def _data(self, ctx):
        upload = SimpleUploadedFile("x.txt", "越权上传".encode())
        return {"file": upload, "title": "越权", "agency_id": ctx["B"]}

    def scoped(self, ctx, client, user):
        seed(ctx)
        before = snapshot()
        r = client.post(self.url, self._data(ctx))
        assert r.status_code in (403, 404), (r.status_code, r.content)
        assert snapshot() == before, "a refused upload wrote something"

    norole = scoped

    def wide(self, ctx, client, user):
        seed(ctx)
        with transaction.atomic():
            r = client.post(self.url, self._data(ctx))
            assert r.status_code == 201, r.content
            transaction.set_rollback(True)
