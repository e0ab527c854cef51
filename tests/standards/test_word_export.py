"""A standard exported as Word: read back with python-docx, the cover data, the numbered
clauses, the terms and the references are all there; the scope."""

from io import BytesIO

import pytest
from docx import Document

from guanjia.core.scope import DataScope
from guanjia.standards import services
from guanjia.standards.document import document_from_standard
from guanjia.standards.word import export_docx

from ..conftest import api_client, make_role, make_user
from .textdoc import load_fixture

pytestmark = pytest.mark.django_db
V1 = "/api/v1/standards"


def _lines(content: bytes) -> list[str]:
    return [p.text for p in Document(BytesIO(content)).paragraphs]


def test_docx_of_a_document_has_cover_clauses_terms_and_references():
    lines = _lines(export_docx(load_fixture("DB50-T-9001-2022.txt")))
    assert "ICS 03.080  CCS A 12" in lines
    assert "DB50/T 9001—2022" in lines
    assert "机关食堂反食品浪费工作规范" in lines
    assert "Specification for anti-food-waste work of government canteens" in lines
    assert "2022-06-01发布    2022-09-01实施" in lines
    assert "重庆市市场监督管理局 发布" in lines
    assert "前言" in lines
    assert "1 范围" in lines and "4 基本要求" in lines
    assert "4.1 食堂应建立反食品浪费工作制度，明确责任人。" in lines
    refs = lines.index("2 规范性引用文件")
    assert "GB/T 2589 综合能耗计算通则" in lines[refs : refs + 6]
    term = lines.index("3.1")
    assert lines[term + 1 : term + 3] == [
        "光盘率  clean plate rate",
        "统计期内就餐后餐盘中无剩余食物的就餐人次占就餐总人次的百分比。",
    ]


def test_api_export_reads_back_the_stored_standard(world):
    standard, _ = services.import_document(
        None, load_fixture("DB50-T-9001-2022.txt"), world["A"], is_public=False
    )
    officer = make_user("officer", world["A"], make_role("r", DataScope.AGENCY, ["standards.view"]))
    r = api_client(officer).get(f"{V1}/{standard.pk}/export.docx")
    assert r.status_code == 200, r.content
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'filename="DB50-T9001-2022.docx"' in r["Content-Disposition"]
    assert _lines(r.content) == _lines(export_docx(document_from_standard(standard)))
    assert "4.1 食堂应建立反食品浪费工作制度，明确责任人。" in _lines(r.content)

    outsider = make_user("outsider", world["B"], make_role("b", permissions=["standards.view"]))
    assert api_client(outsider).get(f"{V1}/{standard.pk}/export.docx").status_code == 404
