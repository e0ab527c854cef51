"""The data-scope matrix's cases (tests/core/test_scope_matrix) for the analysis endpoints:
compare, requirements, check of a stored standard, check of an uploaded draft.

Agency B keeps two internal, non-public standards: Q/CDJG 905—2020, withdrawn and replaced
by Q/CDJG 905—2024, which holds a requirement and a modal verb to find. Whoever sees B gets
them; whoever does not gets a 404 — and a draft that cites the withdrawn edition is checked
against the caller's library only: B's replacement is named to those who see B, to no one
else."""

from django.core.files.uploadedfile import SimpleUploadedFile

from guanjia.standards.models import Standard

from .search_fixtures import make_standard

OLD, NEW = "Q/CDJG 905—2020", "Q/CDJG 905—2024"
DRAFT = """\
DB50/T 9998—2026
机关食堂询价采购规范（草案）

1 范围
本文件规定了机关食堂询价采购的要求。

2 规范性引用文件
下列文件中的内容通过文中的规范性引用而构成本文件必不可少的条款。
Q/CDJG 905—2020 机关食堂询价采购规程

3 术语和定义
本文件没有需要界定的术语和定义。

4 要求
4.1 询价应符合Q/CDJG 905—2020的规定。
"""


def seed(ctx) -> dict[str, int]:
    """B's two editions (once per test), and a public standard of A's to compare with."""
    from guanjia.core.models import Agency

    if not Standard.objects.filter(code_key="Q/CDJG905-2024").exists():
        b = Agency.objects.get(pk=ctx["B"])
        old = make_standard(
            b, OLD, "成都市机关食堂询价采购规程", [("4.1", "", "询价供应商不少于2家。")],
            level="internal", is_public=False, stage="withdrawn",
        )  # fmt: skip
        new = make_standard(
            b, NEW, "成都市机关食堂询价采购规程",
            [("4", "要求", ""), ("4.1", "", "询价供应商必须不少于3家。")],
            level="internal", is_public=False,
        )  # fmt: skip
        new.replaces.add(old)
        make_standard(
            Agency.objects.get(pk=ctx["A"]), "DB50/T 9001—2022", "机关食堂反食品浪费工作规范",
            [("4", "基本要求", ""), ("4.1", "", "询价供应商不少于3家。")],
        )  # fmt: skip
    ids = dict(Standard.objects.values_list("code_key", "pk"))
    return {"b": ids["Q/CDJG905-2024"], "a": ids["DB50/T9001-2022"]}


class AnalysisOfB:
    """GET on B's internal standard (or a comparison involving it): 404 unless the caller
    sees B. `urls` are templates over {a} (A's public standard) and {b} (B's)."""

    def __init__(self, *urls):
        self.urls = urls

    def _get(self, ctx, client):
        ids = seed(ctx)
        return [client.get(url.format(**ids)) for url in self.urls]

    def scoped(self, ctx, client, user):
        for r in self._get(ctx, client):
            assert r.status_code == 404, r.content

    norole = scoped

    def wide(self, ctx, client, user):
        for r in self._get(ctx, client):
            assert r.status_code == 200, r.content
            body = r.json()
            if "requirements" in body:
                assert [x["value"] for x in body["requirements"]] == [3]
            if "findings" in body:
                assert "modal-verb" in {f["kind"] for f in body["findings"]}
            if "pairs" in body:
                assert body["counts"]["changed"] >= 1


class DraftCheckAgainstB:
    """POST /standards/check: the draft is checked for everyone, nothing is stored, and the
    library it is checked against is the caller's."""

    url = "/api/v1/standards/check"

    def _post(self, ctx, client):
        seed(ctx)
        before = Standard.objects.count()
        upload = SimpleUploadedFile("草案.txt", DRAFT.encode(), content_type="text/plain")
        r = client.post(self.url, {"file": upload})
        assert r.status_code == 200, r.content
        assert Standard.objects.count() == before
        return [f for f in r.json()["findings"] if f["kind"] == "withdrawn-reference"]

    def scoped(self, ctx, client, user):
        assert self._post(ctx, client) == [], f"B's withdrawn edition shown to {user}"

    norole = scoped

    def wide(self, ctx, client, user):
        found = self._post(ctx, client)
        assert [f["message"] for f in found] == [f"引用的 {OLD} 已废止，应改为引用 {NEW}"]
