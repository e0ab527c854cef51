"""`guanjia standards import … --json` and `guanjia standards show CODE --json`: the JSON
shapes other programs rely on."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from guanjia.standards.models import Standard

from .library_fixtures import FIXTURES

pytestmark = pytest.mark.django_db

FILE_KEYS = {
    "file",
    "code",
    "title",
    "created",
    "updated",
    "clauses",
    "terms",
    "references",
    "linked",
    "error",
}
SHOW_KEYS = {
    "code",
    "title",
    "status",
    "level",
    "issue_date",
    "effective_date",
    "withdrawn_date",
    "clauses",
    "terms",
    "references",
    "replaces",
    "replaced_by",
}


def run(*args) -> dict:
    out = io.StringIO()
    call_command("standards", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_import_json_report(world):
    report = run("import", *map(str, FIXTURES.values()))
    assert set(report) >= {"files", "imported", "failed", "message", "agency"}
    assert (report["imported"], report["failed"]) == (3, 0)
    assert report["agency"] == world["A"].name  # the first root agency
    for entry in report["files"]:
        assert set(entry) == FILE_KEYS
    first = report["files"][0]
    assert first == {
        "file": str(FIXTURES["9001"]),
        "code": "DB50/T 9001—2022",
        "title": "机关食堂反食品浪费工作规范",
        "created": True,
        "updated": False,
        "clauses": 29,
        "terms": 3,
        "references": 3,
        "linked": 0,
        "error": None,
    }
    again = run("import", str(FIXTURES["9001"]))
    assert again["files"][0]["updated"] is True and again["files"][0]["linked"] == 1
    assert Standard.objects.count() == 3


def test_import_names_the_agency_and_fails_loudly_on_a_bad_file(world, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00" * 100)
    out = io.StringIO()
    with pytest.raises(CommandError, match="失败 1 个"):
        call_command(
            "standards",
            "import",
            str(FIXTURES["9002"]),
            str(bad),
            "--agency",
            world["B"].name,
            "--json",
            stdout=out,
        )
    report = json.loads(out.getvalue())  # the report is printed before the exit status
    assert report["files"][1]["error"].startswith("无法读取")
    assert Standard.objects.get().agency == world["B"]
    with pytest.raises(CommandError, match="找不到唯一的单位"):
        call_command("standards", "import", str(FIXTURES["9002"]), "--agency", "不存在的单位")


def test_import_without_any_agency_says_what_to_do(db):
    with pytest.raises(CommandError, match="尚无任何单位"):
        call_command("standards", "import", str(FIXTURES["9001"]))


@pytest.mark.parametrize(
    "written",
    ["DB50/T 9001—2022", "db50/t9001-2022", "ＤＢ５０／Ｔ　９００１－２０２２", "DB50/T 9001"],
)
def test_show_json_shape(world, written):
    run("import", *map(str, FIXTURES.values()))
    data = run("show", written)
    assert SHOW_KEYS <= set(data)
    assert (data["code"], data["title"], data["status"], data["level"]) == (
        "DB50/T 9001—2022",
        "机关食堂反食品浪费工作规范",
        "in_force",
        "local",
    )
    assert (data["issue_date"], data["effective_date"], data["withdrawn_date"]) == (
        "2022-06-01",
        "2022-09-01",
        None,
    )
    assert len(data["clauses"]) == 29
    assert all(set(c) == {"number", "title", "text", "kind"} for c in data["clauses"])
    assert data["clauses"][3] == {
        "number": "3.1",
        "title": "光盘率",
        "text": "统计期内就餐后餐盘中无剩余食物的就餐人次占就餐总人次的百分比。",
        "kind": "term",
    }
    assert data["terms"][0] == {
        "number": "3.1",
        "term": "光盘率",
        "english": "clean plate rate",
        "definition": "统计期内就餐后餐盘中无剩余食物的就餐人次占就餐总人次的百分比。",
    }
    assert data["references"] == [
        {
            "code": "GB 31654",
            "dated": False,
            "title": "食品安全国家标准 餐饮服务通用卫生规范",
            "in_library": False,
        },
        {"code": "GB/T 2589", "dated": False, "title": "综合能耗计算通则", "in_library": False},
        {
            "code": "DB50/T 9003—2023",
            "dated": True,
            "title": "机关事务标准体系编制指南",
            "in_library": True,
        },
    ]
    assert (data["replaces"], data["replaced_by"]) == ([], [])


def test_show_unknown_code(world):
    with pytest.raises(CommandError, match="标准库中没有"):
        call_command("standards", "show", "DB50/T 9999—2020")
    with pytest.raises(CommandError, match="无法识别"):
        call_command("standards", "show", "不是编号")


def test_show_text_and_sts(world):
    run("import", str(FIXTURES["9001"]))
    out = io.StringIO()
    call_command("standards", "show", "DB50/T 9001—2022", stdout=out)
    assert out.getvalue().startswith("DB50/T 9001—2022 机关食堂反食品浪费工作规范\n状态：现行")
    out = io.StringIO()
    call_command("standards", "show", "DB50/T 9001—2022", "--sts", stdout=out)
    assert out.getvalue().startswith("<?xml") and "<std-meta>" in out.getvalue()
