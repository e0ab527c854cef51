"""Working documents: the text of .txt and .docx read out on upload, search by contained
words and by tag, the scope of uploads and of the search."""

from io import BytesIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from docx import Document as WordDocument

from guanjia.core.scope import DataScope
from guanjia.standards import documents
from guanjia.standards.models import Document

from ..conftest import api_client, make_role, make_user

pytestmark = pytest.mark.django_db
V1 = "/api/v1/standards"


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


@pytest.fixture
def clerk(world):
    return make_user(
        "clerk", world["A"], make_role("clerk", DataScope.AGENCY, ["standards.*", "org.view"])
    )


def test_upload_reads_the_text_and_search_finds_it(world, clerk):
    word = documents.upload_document(
        clerk,
        agency=world["A"],
        title="节能工作总结",
        name="总结.docx",
        content=docx_bytes("2025年公共机构节能工作总结", "人均综合能耗下降3%。"),
        tags="节能 总结",
    )
    assert "人均综合能耗下降3%。" in word.text
    assert word.file.read().startswith(b"PK")
    content = "关于开展光盘行动的通知".encode()
    notice = documents.upload_document(
        clerk, agency=world["A"], title="", name="通知.txt", content=content
    )
    assert notice.title == "通知" and notice.text == "关于开展光盘行动的通知"
    image = documents.upload_document(
        clerk, agency=world["A"], title="照片", name="a.png", content=b"\x89PNG"
    )
    assert image.text == ""

    qs = Document.objects.restrict(clerk)
    assert list(documents.search(qs, "能耗")) == [word]
    assert list(documents.search(qs, "光盘 通知")) == [notice]
    assert list(documents.search(qs, "总结")) == [word]  # title and tags too
    assert list(documents.search(qs, tag="节能")) == [word]
    assert list(documents.search(qs, tag="节")) == []


def test_upload_checks_the_scope_and_the_file(world, clerk):
    with pytest.raises(PermissionDenied):
        documents.upload_document(clerk, agency=world["B"], title="x", name="x.txt", content=b"x")
    with pytest.raises(ValidationError):
        documents.upload_document(clerk, agency=world["A"], title="x", name="x.txt", content=b"")
    with pytest.raises(ValidationError):
        documents.upload_document(
            clerk, agency=world["A"], title="x", name="x.docx", content=b"not a zip"
        )
    assert not Document.objects.exists()


def test_api_upload_and_search(world, clerk):
    client = api_client(clerk)
    upload = SimpleUploadedFile("会议纪要.docx", docx_bytes("会议决定推行节约型机关建设。"))
    r = client.post(f"{V1}/documents", {"file": upload, "title": "会议纪要", "tags": "会议"})
    assert r.status_code == 201, r.content
    assert r.json()["agency_id"] == world["A"].pk and r.json()["file_name"].endswith(".docx")
    assert "节约型机关" in r.json()["excerpt"]
    documents.upload_document(
        None, agency=world["B"], title="成都会议纪要", name="b.txt", content="节约型机关".encode()
    )
    items = client.get(f"{V1}/documents?q=节约型机关").json()["items"]
    assert [i["title"] for i in items] == ["会议纪要"]  # not B's
    assert client.get(f"{V1}/documents?tag=会议").json()["count"] == 1
    other = SimpleUploadedFile("b.txt", "越权".encode())
    r = client.post(f"{V1}/documents", {"file": other, "agency_id": world["B"].pk})
    assert r.status_code == 403
