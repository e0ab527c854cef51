"""Compare, requirements and quality check on standards stored in the library: the CLI by
code, the library's statuses behind the withdrawn-reference check, and the API."""

import json
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from guanjia.standards import services
from guanjia.standards.analysis import library_lookup
from guanjia.standards.document import document_from_standard
from guanjia.standards.models import Standard
from guanjia.standards.quality import check
from guanjia.standards.requirements import extract

from ..conftest import api_client
from .test_compare import edited_fixture
from .test_quality import BAD_DRAFT
from .textdoc import fixture_text, load_fixture, parse_text

V1 = "/api/v1/standards"
pytestmark = pytest.mark.django_db


@pytest.fixture
def library(world):
    """The three fixtures, imported as the system for agency A, plus the 2019 edition of
    DB50/T 9003 that the 2023 one replaces, and a withdrawn standard."""
    stored = {}
    for name in ("DB50-T-9001-2022.txt", "DB50-T-9003-2023.txt", "DB51-T-9002-2021.txt"):
        doc = load_fixture(name)
        if name.startswith("DB50-T-9003"):
            doc.replaces = ["DB50/T 9003—2019"]
        stored[name[:-4]], _created = services.import_document(None, doc, world["A"])
    old = parse_text(
        fixture_text("DB50-T-9003-2023.txt")
        .replace("DB50/T 9003—2023", "DB50/T 9003—2019")
        .replace("2023-01-10发布", "2019-01-10发布")
        .replace("2023-04-10实施", "2019-04-10实施")
    )
    stored["DB50-T-9003-2019"], _created = services.import_document(None, old, world["A"])
    gone = parse_text(
        fixture_text("DB51-T-9002-2021.txt").replace("DB51/T 9002—2021", "DB51/T 8000—2015")
    )
    stored["DB51-T-8000-2015"], _created = services.import_document(None, gone, world["A"])
    Standard.objects.filter(pk=stored["DB51-T-8000-2015"].pk).update(stage="withdrawn")
    return stored


def _cli(*args):
    out = StringIO()
    call_command("standards", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


# -- stored standards read back as the same document ----------------------------------------


def test_requirements_and_quality_same_on_stored_standard_as_on_file(library):
    for name in ("DB50-T-9001-2022", "DB50-T-9003-2023", "DB51-T-9002-2021"):
        stored = document_from_standard(Standard.objects.get(pk=library[name].pk))
        file = load_fixture(f"{name}.txt")
        assert [r.to_dict() for r in extract(stored)] == [r.to_dict() for r in extract(file)]
        assert check(stored) == check(file)


# -- CLI by code ----------------------------------------------------------------------------


def test_requirements_cli_by_code_in_any_written_form(library):
    for written in (
        "DB50/T 9001—2022",
        "db50/t9001-2022",
        "ＤＢ５０／Ｔ　９００１－２０２２",
        "DB50/T 9001",
    ):
        body = _cli("requirements", written)
        assert body["code"] == "DB50/T 9001—2022"
        assert [(r["clause"], r["op"], r["value"], r["unit"]) for r in body["requirements"]][
            :3
        ] == [
            ("4.2", ">=", 2, "年"),
            ("4.3", "<=", 10, "%"),
            ("5.1", ">=", 3, "家"),
        ]


def test_compare_cli_library_edition_against_a_draft_file(library, tmp_path):
    draft = tmp_path / "修订稿.txt"
    edited = fixture_text("DB50-T-9001-2022.txt").replace("150克每人次", "120克每人次")
    draft.write_text(edited, encoding="utf-8")
    body = _cli("compare", "DB50/T 9001—2022", str(draft))
    assert body["a"] == body["b"] == "DB50/T 9001—2022"
    changed = [p for p in body["pairs"] if p["status"] != "same"]
    assert [(p["status"], p["a_number"], p["numbers"]) for p in changed] == [
        ("changed", "7.2", [{"a": 150, "b": 120, "unit": "克每人次"}])
    ]


def test_compare_cli_two_editions_in_the_library(library):
    body = _cli("compare", "DB50/T 9003—2019", "DB50/T 9003—2023")
    assert {p["status"] for p in body["pairs"]} == {"same"}
    out = StringIO()
    call_command("standards", "compare", "DB50/T 9003—2019", "DB50/T 9003—2023", stdout=out)
    assert out.getvalue().startswith("DB50/T 9003—2019 ⇄ DB50/T 9003—2023：same 29，changed 0")


def test_quality_check_cli_by_code_and_against_the_library(library, tmp_path):
    body = _cli("check", "DB51/T 9002—2021")
    assert [(f["kind"], f["clause"]) for f in body["findings"]] == [
        ("lead-in", "2"),
        ("uncited-reference", "2"),
        ("lead-in", "3"),
        ("term-unused", "3.2"),
    ]
    draft = tmp_path / "草案.txt"
    draft.write_text(BAD_DRAFT.replace("GB/T 2589", "DB51/T 8000"), encoding="utf-8")
    found = [
        (f["clause"], f["message"])
        for f in _cli("check", str(draft))["findings"]
        if f["kind"] == "withdrawn-reference"
    ]
    assert found == [
        ("2", "引用的 DB51/T 8000 已废止，且没有替代标准，应删除或改用其他文件"),
        ("2", "引用的 DB50/T 9003—2019 已被代替，应改为引用 DB50/T 9003—2023"),
    ]


def test_quality_library_lookup_statuses(library):
    lookup = library_lookup()
    assert lookup("DB50/T9003-2019") == ("superseded", "DB50/T 9003—2023")
    assert lookup("DB50/T9003-2023") == ("in_force", None)
    assert lookup("DB50/T9003") == ("in_force", None)  # undated: the newest edition
    assert lookup("DB51/T8000") == ("withdrawn", None)
    assert lookup("GB/T2589") is None  # not in the library


def test_quality_library_lookup_hides_replacements_outside_the_scope(library):
    newest = library["DB50-T-9003-2023"]
    visible = Standard.objects.exclude(pk=newest.pk)
    assert library_lookup(visible)("DB50/T9003-2019") == ("superseded", None)


# -- API ------------------------------------------------------------------------------------


@pytest.fixture
def api(users):
    return api_client(users["agency"])


def test_api_compare_by_id(library, api):
    a, b = library["DB50-T-9003-2019"], library["DB50-T-9003-2023"]
    r = api.get(f"{V1}/compare?a={a.pk}&b={b.pk}")
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["a"], body["b"], body["a_id"], body["b_id"]) == (a.code, b.code, a.pk, b.pk)
    assert body["counts"]["same"] == len(body["pairs"]) == b.clauses.count()
    assert api.get(f"{V1}/compare?a={a.pk}&b=999999").status_code == 404


def test_api_compare_pairs_carry_numbers_and_diff(library, api, world):
    edited, _created = services.import_document(
        None, _renamed(edited_fixture(), "DB50/T 9001—2026"), world["A"]
    )
    r = api.get(f"{V1}/compare?a={library['DB50-T-9001-2022'].pk}&b={edited.pk}")
    body = r.json()
    changed = next(p for p in body["pairs"] if p["status"] == "changed")
    assert changed["numbers"] == [{"a": 150.0, "b": 120.0, "unit": "克每人次"}]
    assert {"op": "replace", "a": "5", "b": "2"} in changed["diff"]
    assert body["counts"] == {"same": 25, "changed": 1, "moved": 2, "added": 1, "removed": 1}


def _renamed(doc, code):
    doc.code = code
    return doc


def test_api_requirements_of_a_standard(library, api):
    r = api.get(f"{V1}/{library['DB50-T-9001-2022'].pk}/requirements")
    assert r.status_code == 200, r.content
    rows = r.json()["requirements"]
    assert [
        (x["clause"], x["subject"], x["op"], x["value"], x["unit"], x["strength"]) for x in rows
    ][-2:] == [
        ("8.2", "光盘率", ">=", 85, "%", "shall"),
        ("9.2", "就餐人员满意度", ">=", 90, "%", "shall"),
    ]
    assert rows[2]["conditions"] == [
        {"subject": "单次采购金额", "op": ">", "value": 5000, "unit": "元"}
    ]
    assert api.get(f"{V1}/999999/requirements").status_code == 404


def test_api_quality_check_of_a_standard(library, api):
    r = api.get(f"{V1}/{library['DB51-T-9002-2021'].pk}/check")
    assert r.status_code == 200, r.content
    assert [f["kind"] for f in r.json()["findings"]] == [
        "lead-in",
        "uncited-reference",
        "lead-in",
        "term-unused",
    ]


def test_api_quality_check_of_an_uploaded_draft(library, api):
    before = Standard.objects.count()
    upload = SimpleUploadedFile("草案.txt", BAD_DRAFT.encode("utf-8"), content_type="text/plain")
    r = api.post(f"{V1}/check", {"file": upload})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["code"] == "DB50/T 9999—2026" and body["id"] is None
    found = {f["kind"] for f in body["findings"]}
    assert {"numbering-gap", "duplicate-number", "modal-verb", "undated-reference"} <= found
    assert "引用的 DB50/T 9003—2019 已被代替，应改为引用 DB50/T 9003—2023" in [
        f["message"] for f in body["findings"]
    ]
    assert Standard.objects.count() == before  # a draft check stores nothing


def test_api_quality_check_of_an_unreadable_draft(api, world):
    upload = SimpleUploadedFile("草案.pdf", b"%PDF-1.7", content_type="application/pdf")
    r = api.post(f"{V1}/check", {"file": upload})
    assert r.status_code == 422
    assert "不支持的文件类型" in r.json()["detail"]
    empty = SimpleUploadedFile("草案.txt", b"", content_type="text/plain")
    assert api.post(f"{V1}/check", {"file": empty}).status_code == 422


def test_api_compare_requirements_quality_need_a_login(library):
    from django.test import Client

    pk = library["DB50-T-9001-2022"].pk
    anonymous = Client()
    for url in (f"{V1}/compare?a={pk}&b={pk}", f"{V1}/{pk}/requirements", f"{V1}/{pk}/check"):
        assert anonymous.get(url).status_code == 401
