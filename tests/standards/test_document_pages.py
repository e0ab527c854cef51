"""The document library: full-text search over the extracted text with the standards'
segmentation and index (a word inside a .docx or .txt is found, not a substring of another
word; a standard code in any written form; the data scope), and its pages — list, search
with snippets, tag filter, upload with its errors, download."""

from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from docx import Document as WordDocument

from guanjia.core.scope import DataScope
from guanjia.standards import documents, search
from guanjia.standards.models import Document

from ..conftest import make_role, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "uploads"


def docx_bytes(*paragraphs) -> bytes:
    doc = WordDocument()
    for text in paragraphs:
        doc.add_paragraph(text)
    out = BytesIO()
    doc.save(out)
    return out.getvalue()


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def clerk(world):
    role = make_role("clerk", DataScope.AGENCY_AND_BELOW, ["standards.*", "org.view"])
    return make_user("clerk", world["A"], role)


@pytest.fixture
def b_clerk(world):
    role = make_role("b_clerk", DataScope.AGENCY_AND_BELOW, ["standards.*", "org.view"])
    return make_user("b_clerk", world["B"], role)


@pytest.fixture
def library(world, clerk, b_clerk):
    upload = documents.upload_document
    return {
        "report": upload(
            clerk,
            agency=world["A"],
            title="2025年节能工作总结",
            name="总结.docx",
            content=docx_bytes(
                "一、基本情况", "全年人均综合能耗下降3%，公共机构节能改造完成12处。"
            ),
            tags="节能 总结",
        ),
        "notice": upload(
            clerk,
            agency=world["A1"],
            title="光盘行动通知",
            name="通知.txt",
            content="各单位食堂应按DB50/T 9001—2022开展光盘行动，减少餐厨垃圾。".encode(),
            tags="食堂",
        ),
        "b_private": upload(
            b_clerk,
            agency=world["B"],
            title="成都内部材料",
            name="b.txt",
            content="人均综合能耗统计口径说明（内部）".encode(),
            tags="节能",
        ),
    }


def titles(found) -> list[str]:
    return [d.title for d in found.documents]


def test_full_text_finds_words_inside_docx_and_txt_within_the_scope(library, clerk, b_clerk):
    mine = Document.objects.restrict(clerk)
    found = documents.full_text(mine, "综合能耗")
    assert titles(found) == ["2025年节能工作总结"] and found.count == 1  # not B's
    assert titles(documents.full_text(Document.objects.restrict(b_clerk), "综合能耗")) == [
        "成都内部材料"
    ]
    assert titles(documents.full_text(mine, "餐厨垃圾")) == ["光盘行动通知"]
    # The code in any written form, through its compact key.
    assert titles(documents.full_text(mine, "DB50/T9001")) == ["光盘行动通知"]
    assert titles(documents.full_text(mine, "db50/t 9001-2022")) == ["光盘行动通知"]
    # Whole words, not substrings: 能耗 is not 耗能.
    assert titles(documents.full_text(mine, "耗能")) == []
    # Every word required; when no document holds all of them, any of them (flagged).
    assert titles(documents.full_text(mine, "光盘 食堂")) == ["光盘行动通知"]
    partial = documents.full_text(mine, "光盘 节能")
    assert partial.partial and set(titles(partial)) == {"光盘行动通知", "2025年节能工作总结"}
    assert titles(documents.full_text(mine, "节能", tag="食堂")) == []
    assert documents.full_text(mine, "  ") is None


def test_ranking_and_snippet(library, clerk):
    found = documents.full_text(Document.objects.restrict(clerk), "节能")
    # In the title and tags of the report, nowhere in the notice.
    assert titles(found) == ["2025年节能工作总结"]
    snippet = found.snippet(library["report"].text)
    start, end = snippet.highlights[0]
    assert snippet.text[start:end] == "节能"


def test_index_follows_changes_and_deletions(library, clerk):
    mine = Document.objects.restrict(clerk)
    notice = library["notice"]
    notice.text = "关于开展节约用水活动的通知"
    notice.save()
    assert titles(documents.full_text(mine, "节约用水")) == ["光盘行动通知"]
    assert titles(documents.full_text(mine, "餐厨垃圾")) == []
    notice.delete()
    assert titles(documents.full_text(mine, "节约用水")) == []
    assert search.reindex_documents() == 2
    assert titles(documents.full_text(mine, "综合能耗")) == ["2025年节能工作总结"]


def test_list_search_tag_and_download_pages(library, clerk):
    client = login(clerk)
    html = client.get("/standards/documents/").content.decode()
    assert "资料库" in html and "上传文档" in html
    assert "光盘行动通知" in html and "成都内部材料" not in html
    html = client.get("/standards/documents/", {"q": "综合能耗"}).content.decode()
    assert "找到 1 份文档" in html and "<mark>综合能耗</mark>" in html
    assert "光盘行动通知" not in html
    html = client.get("/standards/documents/", {"tag": "食堂"}).content.decode()
    assert "光盘行动通知" in html and "2025年节能工作总结" not in html
    html = client.get("/standards/documents/", {"q": "不存在的词语"}).content.decode()
    assert "没有找到包含这些词的文档" in html
    r = client.get(f"/standards/documents/{library['report'].pk}/download/")
    assert r.status_code == 200 and b"".join(r.streaming_content).startswith(b"PK")
    assert "attachment" in r["Content-Disposition"]
    r = client.get(f"/standards/documents/{library['b_private'].pk}/download/")
    assert r.status_code == 404


def test_upload_page(world, clerk):
    client = login(clerk)
    assert "所属单位" in client.get("/standards/documents/upload/").content.decode()
    upload = SimpleUploadedFile("纪要.docx", docx_bytes("会议决定推行节约型机关建设。"))
    r = client.post(
        "/standards/documents/upload/",
        {"file": upload, "title": "", "tags": "会议 纪要", "agency": world["A"].pk},
        follow=True,
    )
    html = r.content.decode()
    assert "已上传《纪要》" in html and "可全文检索" in html
    html = client.get("/standards/documents/", {"q": "节约型机关"}).content.decode()
    assert "纪要" in html and "<mark>" in html
    # An unreadable Word file: a clear error, nothing stored.
    bad = SimpleUploadedFile("坏文件.docx", b"not a zip")
    r = client.post("/standards/documents/upload/", {"file": bad, "agency": world["A"].pk})
    assert r.status_code == 200 and "无法读取文件内容" in r.content.decode()
    # Another agency's scope is not a choice.
    other = SimpleUploadedFile("b.txt", "越权".encode())
    r = client.post("/standards/documents/upload/", {"file": other, "agency": world["B"].pk})
    assert r.status_code == 200 and "has-error" in r.content.decode()
    # A PDF is kept, found by title and tags, its text not read.
    pdf = SimpleUploadedFile("方案.pdf", b"%PDF-1.4 ...")
    r = client.post(
        "/standards/documents/upload/",
        {"file": pdf, "title": "节水方案", "agency": world["A"].pk},
        follow=True,
    )
    assert "不提取正文" in r.content.decode()
    assert Document.objects.filter(agency=world["B"]).count() == 0
    assert sorted(Document.objects.values_list("title", flat=True)) == ["纪要", "节水方案"]
    assert "节水方案" in client.get("/standards/documents/", {"q": "节水"}).content.decode()


def test_permissions(world, library):
    reader = make_user("reader", world["A"], make_role("reader", permissions=["standards.view"]))
    client = login(reader)
    html = client.get("/standards/documents/").content.decode()
    assert "2025年节能工作总结" in html and "上传文档" not in html
    assert client.get("/standards/documents/upload/").status_code == 403
    nobody = make_user("nobody", world["A"], make_role("nobody", permissions=["org.view"]))
    assert login(nobody).get("/standards/documents/").status_code == 403
