"""The standards pages: library list with filters, a standard's page, the upload form,
downloads; permissions and data scope."""

import re
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from guanjia.core.scope import DataScope
from guanjia.standards.models import Standard

from ..conftest import make_role, make_user
from .library_fixtures import FIXTURES, import_all, import_fixture

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def officer(world):
    return make_user(
        "officer", world["A"], make_role("officer", DataScope.AGENCY_AND_BELOW, ["standards.*"])
    )


def page(client, url) -> str:
    r = client.get(url)
    assert r.status_code == 200, (url, r.status_code)
    return r.content.decode()


def test_library_list_and_filters(world, officer):
    import_all(world["A"])
    client = login(officer)
    html = page(client, "/standards/")
    assert "标准库" in html and "导入标准" in html
    assert html.count("/standards/") >= 3
    for code in ("DB50/T 9001—2022", "DB50/T 9003—2023", "DB51/T 9002—2021"):
        assert code in html
    assert "现行" in html
    html = page(client, "/standards/?level=local&region=510000")
    assert "DB51/T 9002—2021" in html and "DB50/T 9001—2022" not in html
    html = page(client, "/standards/?q=" + quote("食堂"))
    assert "DB50/T 9001—2022" in html and "DB51/T 9002—2021" not in html
    html = page(client, "/standards/?status=withdrawn")
    assert "没有符合条件的标准" in html


def test_standard_page_shows_cover_status_clauses_terms_and_linked_references(world, officer):
    lib = import_all(world["A"])
    client = login(officer)
    html = page(client, f"/standards/{lib['9001'].pk}/")
    for expected in (
        "机关食堂反食品浪费工作规范",
        "Specification for anti-food-waste work of government canteens",
        "03.080",
        "A 12",
        "2022-06-01",
        "2022-09-01",
        "重庆市市场监督管理局",
        "st-in_force",
        "光盘率",
        "clean plate rate",
        "要求（应）",
        "推荐（宜）",
        "不注日期（最新版本适用）",
        "未入库",
    ):
        assert expected in html, expected
    assert f'href="/standards/{lib["9003"].pk}/"' in html  # the reference, linked
    assert re.search(r'class="d2[^"]*"[^>]*id="c-4.2"', html)
    html = page(client, f"/standards/{lib['9003'].pk}/")
    assert "引用本标准的库内标准" in html and f'href="/standards/{lib["9001"].pk}/"' in html
    r = client.get("/standards/code/" + quote("db50/t9001-2022"))
    assert r.status_code == 302 and r["Location"] == f"/standards/{lib['9001'].pk}/"


def test_downloads(world, officer):
    client = login(officer)
    from guanjia.standards import services

    _entry, s = services.import_bytes(None, "a.txt", FIXTURES["9002"].read_bytes(), world["A"])
    r = client.get(f"/standards/{s.pk}/source/")
    assert r.status_code == 200 and b"".join(r.streaming_content) == FIXTURES["9002"].read_bytes()
    r = client.get(f"/standards/{s.pk}/sts.xml")
    assert r.status_code == 200 and b"<std-meta>" in r.content


def test_upload_form(world, officer):
    client = login(officer)
    html = page(client, "/standards/upload/")
    assert 'enctype="multipart/form-data"' in html and world["A"].name in html
    assert world["B"].name not in html  # only agencies within the officer's scope
    r = client.post(
        "/standards/upload/",
        {
            "file": SimpleUploadedFile("DB50-T-9001-2022.txt", FIXTURES["9001"].read_bytes()),
            "agency": world["A"].pk,
            "is_public": "on",
        },
    )
    s = Standard.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/standards/{s.pk}/"
    assert "已导入 DB50/T 9001—2022" in page(client, r["Location"])
    r = client.post(
        "/standards/upload/",
        {"file": SimpleUploadedFile("bad.txt", b"\x00" * 50), "agency": world["A"].pk},
    )
    assert r.status_code == 200 and "二进制" in r.content.decode()
    assert Standard.objects.count() == 1


def test_permissions_and_scope(world, officer, users):
    theirs, _ = import_fixture("9002", world["B"], is_public=False)
    client = login(officer)
    assert client.get(f"/standards/{theirs.pk}/").status_code == 404
    assert client.get(f"/standards/{theirs.pk}/source/").status_code == 404
    assert "DB51/T 9002—2021" not in page(client, "/standards/")
    reader = make_user("reader", world["A"], make_role("reader", permissions=["standards.view"]))
    reader_client = login(reader)
    assert "导入标准" not in page(reader_client, "/standards/")
    assert reader_client.get("/standards/upload/").status_code == 403
    nobody = login(users["norole"])
    assert nobody.get("/standards/").status_code == 403
    assert Client().get("/standards/").status_code == 302  # to the login page


def test_admin_lists_and_shows_standards(world):
    from guanjia.core.models import User

    lib = import_all(world["A"])
    admin = User.objects.create_superuser("root", "root@example.cn", "x", agency=world["A"])
    client = login(admin)
    html = page(client, "/admin/standards/standard/")
    assert "DB50/T 9001—2022" in html
    html = page(client, f"/admin/standards/standard/{lib['9001'].pk}/change/")
    assert "光盘率" in html
    assert "DB50/T 9001—2022" in page(client, "/admin/standards/clause/?q=9001")
