"""The standards API: list with filters and pagination, detail by id and by code, clauses,
upload import, edit, delete, STS export; the data scope on each."""

from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanjia.core.scope import DataScope
from guanjia.standards import services
from guanjia.standards.models import Standard
from guanjia.standards.parsing import parse_text

from ..conftest import api_client, make_role, make_user
from .library_fixtures import FIXTURES, import_all, import_fixture, text

pytestmark = pytest.mark.django_db
V1 = "/api/v1/standards"


@pytest.fixture
def library(world):
    return import_all(world["A"])


@pytest.fixture
def officer(world):
    """Standards officer of A: standards.*, own agency and below."""
    return make_user(
        "officer", world["A"], make_role("officer", DataScope.AGENCY_AND_BELOW, ["standards.*"])
    )


def test_list_paginates_and_filters(library, officer, world):
    client = api_client(officer)
    body = client.get(V1).json()
    assert set(body) == {"items", "count"} and body["count"] == 3
    item = body["items"][0]
    assert {"id", "code", "title", "status", "level", "agency_id", "clause_count"} <= set(item)
    assert client.get(V1 + "?limit=1").json()["items"][0]["code"] == item["code"]

    def codes(query):
        return sorted(i["code"] for i in client.get(f"{V1}?{query}").json()["items"])

    assert codes("region=510000") == ["DB51/T 9002—2021"]
    assert codes("region=500000") == ["DB50/T 9001—2022", "DB50/T 9003—2023"]
    assert codes("level=national") == []
    assert codes("status=in_force") == codes("")
    assert codes("status=withdrawn") == []
    assert codes(f"agency={world['A'].pk}") == codes("")
    assert codes("q=" + quote("公务用车")) == ["DB51/T 9002—2021"]
    assert codes("q=" + quote("db50/t9003")) == ["DB50/T 9003—2023"]


def test_in_force_editions_come_first(world, officer):
    import_fixture("9001", world["A"])
    newer = text("9001").replace("DB50/T 9001—2022\n", "DB50/T 9001—2024\n代替DB50/T 9001—2022\n")
    newer = newer.replace("2022-06-01发布", "2024-01-01发布").replace(
        "2022-09-01实施", "2024-03-01实施"
    )
    services.import_document(None, parse_text(newer), world["A"])
    items = api_client(officer).get(V1).json()["items"]
    assert [(i["code"], i["status"]) for i in items] == [
        ("DB50/T 9001—2024", "in_force"),
        ("DB50/T 9001—2022", "superseded"),
    ]


def test_detail_by_id_and_by_code(library, officer):
    client = api_client(officer)
    s = library["9001"]
    detail = client.get(f"{V1}/{s.pk}").json()
    assert detail["code"] == "DB50/T 9001—2022" and detail["status"] == "in_force"
    assert len(detail["clauses"]) == 29 and detail["clauses"][3]["title"] == "光盘率"
    assert detail["terms"][0]["term"] == "光盘率"
    refs = {r["code"]: r for r in detail["references"]}
    assert refs["DB50/T 9003—2023"]["in_library"] is True
    assert refs["DB50/T 9003—2023"]["target_id"] == library["9003"].pk
    assert refs["GB 31654"] == {
        "code": "GB 31654",
        "dated": False,
        "title": "食品安全国家标准 餐饮服务通用卫生规范",
        "in_library": False,
        "target_id": None,
    }
    for written in ("DB50/T 9001—2022", "db50/t9001-2022", "DB50/T 9001"):
        r = client.get(f"{V1}/by-code/{quote(written, safe='')}")
        assert r.status_code == 200, (written, r.content)
        assert r.json()["id"] == s.pk
    r = client.get(f"{V1}/by-code/{quote('DB50/T 9999—2020', safe='')}")
    assert r.status_code == 404 and "标准库中没有" in r.json()["detail"]


def test_clauses_of_a_standard(library, officer):
    client = api_client(officer)
    s = library["9002"]
    body = client.get(f"{V1}/{s.pk}/clauses?limit=100").json()
    assert body["count"] == 28
    assert [c["number"] for c in body["items"][:4]] == ["1", "2", "3", "3.1"]
    reqs = client.get(f"{V1}/{s.pk}/clauses?kind=permission").json()["items"]
    assert [c["number"] for c in reqs] == ["7.1"]
    assert reqs[0]["kind_label"] == "允许（可）"


def test_upload_creates_then_updates(world, officer):
    client = api_client(officer)
    content = FIXTURES["9001"].read_bytes()
    r = client.post(f"{V1}/import", {"file": SimpleUploadedFile("9001.txt", content)})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["created"] is True and body["clauses"] == 29
    assert body["standard"]["agency_id"] == world["A"].pk
    r = client.post(f"{V1}/import", {"file": SimpleUploadedFile("9001.txt", content)})
    assert r.status_code == 200 and r.json()["created"] is False
    assert Standard.objects.count() == 1
    docx_like = SimpleUploadedFile("broken.docx", b"PK\x03\x04 nope")
    r = client.post(f"{V1}/import", {"file": docx_like})
    assert r.status_code == 422 and r.json()["detail"].startswith("无法读取")
    r = client.post(f"{V1}/import", {"file": SimpleUploadedFile("x.txt", "某规范\n".encode())})
    assert r.status_code == 422 and "未找到标准编号" in str(r.json()["detail"])


def test_upload_into_another_agency_is_refused(world, officer):
    client = api_client(officer)
    r = client.post(
        f"{V1}/import",
        {
            "file": SimpleUploadedFile("9002.txt", FIXTURES["9002"].read_bytes()),
            "agency_id": world["B"].pk,
        },
    )
    assert r.status_code == 403
    assert Standard.objects.count() == 0
    reader = make_user("reader", world["A"], make_role("reader", permissions=["standards.view"]))
    r = api_client(reader).post(
        f"{V1}/import", {"file": SimpleUploadedFile("9002.txt", FIXTURES["9002"].read_bytes())}
    )
    assert r.status_code == 403 and "standards.add" in r.json()["detail"]


def test_edit_and_delete(library, officer, world, users):
    client = api_client(officer)
    s = library["9003"]
    r = client.patch(
        f"{V1}/{s.pk}",
        data={"withdrawn_date": "2024-01-01", "is_public": False},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    assert (r.json()["status"], r.json()["is_public"]) == ("withdrawn", False)
    r = client.patch(
        f"{V1}/{s.pk}", data={"agency_id": world["B"].pk}, content_type="application/json"
    )
    assert r.status_code == 403
    r = client.patch(f"{V1}/{s.pk}", data={"stage": "nonsense"}, content_type="application/json")
    assert r.status_code == 422
    assert client.delete(f"{V1}/{s.pk}").status_code == 204
    assert not Standard.objects.filter(pk=s.pk).exists()
    assert client.get(f"{V1}/{s.pk}").status_code == 404


def test_sts_export_round_trips_through_upload(library, officer):
    client = api_client(officer)
    s = library["9001"]
    r = client.get(f"{V1}/{s.pk}/sts")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/xml")
    assert b'<std-ref type="dated">DB50/T 9001\xe2\x80\x942022</std-ref>' in r.content
    services.delete_standard(None, s)
    r = client.post(f"{V1}/import", {"file": SimpleUploadedFile("9001.xml", r.content)})
    assert r.status_code == 201, r.content
    again = Standard.objects.get(code_key="DB50/T9001-2022")
    assert again.clause_count == 29 and again.terms.count() == 3 and again.source_format == "sts"


def test_agency_a_cannot_see_agency_bs_non_public_standards(world, users, officer):
    theirs, _ = import_fixture("9002", world["B"], is_public=False)
    public, _ = import_fixture("9003", world["B"])
    client = api_client(officer)
    codes = {i["code"] for i in client.get(V1).json()["items"]}
    assert codes == {public.code}
    assert client.get(f"{V1}/{theirs.pk}").status_code == 404
    assert client.get(f"{V1}/by-code/{quote(theirs.code, safe='')}").status_code == 404
    assert client.get(f"{V1}/{theirs.pk}/clauses").status_code == 404
    assert client.get(f"{V1}/{theirs.pk}/sts").status_code == 404
    # Public but not theirs to change.
    r = client.patch(f"{V1}/{public.pk}", data={"title": "越权"}, content_type="application/json")
    assert r.status_code == 404
    assert client.delete(f"{V1}/{public.pk}").status_code == 404
    # B's own people see it.
    b = api_client(users["b_admin"])
    assert b.get(f"{V1}/{theirs.pk}").status_code == 200
    # A standard citing B's private one does not reveal it to A.
    citing = text("9001").replace(
        "DB50/T 9003—2023 机关事务标准体系编制指南", "DB51/T 9002—2021 党政机关公务用车使用管理规范"
    )
    mine, _ = services.import_document(None, parse_text(citing), world["A"])
    refs = client.get(f"{V1}/{mine.pk}").json()["references"]
    assert refs[-1]["code"] == "DB51/T 9002—2021"
    assert refs[-1]["in_library"] is False and refs[-1]["target_id"] is None


def test_list_queries_do_not_grow_with_rows(world, officer, django_assert_max_num_queries):
    client = api_client(officer)
    for i in range(5):
        services.import_document(
            None,
            parse_text(f"DB50/T {9700 + i}—2020\n示例{i}\n1 范围\n本文件规定了示例。\n"),
            world["A"],
        )
    assert client.get(V1).status_code == 200
    with CaptureQueriesContext(connection) as few:
        client.get(V1)
    for i in range(5, 30):
        services.import_document(
            None,
            parse_text(f"DB50/T {9700 + i}—2020\n示例{i}\n1 范围\n本文件规定了示例。\n"),
            world["A"],
        )
    with django_assert_max_num_queries(len(few)):
        r = client.get(V1)
    assert r.json()["count"] == 30
