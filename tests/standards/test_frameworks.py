"""Frameworks (标准体系) as trees, standards attached to nodes, agency functions and their
coverage by standards in force, the indicator, the 标准明细表 export, and the scope."""

from datetime import date
from io import BytesIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from openpyxl import load_workbook

from guanjia.core.indicator_registry import IndicatorScope, Period, get_indicator
from guanjia.core.scope import DataScope
from guanjia.standards import frameworks as svc
from guanjia.standards import services
from guanjia.standards.models import AgencyFunction, FrameworkNode, Standard
from guanjia.standards.parsing import parse_text

from ..conftest import api_client, make_role, make_user

pytestmark = pytest.mark.django_db
V1 = "/api/v1/standards"


def std(agency, code, title, *, effective="2024-03-01", public=True, withdrawn=None):
    prefix = code.split()[0]
    level = {"DB50/T": "DB50\n重庆市地方标准\n", "DB51/T": "DB51\n四川省地方标准\n"}
    text = (
        f"{level.get(prefix, '')}{code}\n{title}\n2024-01-10发布 {effective}实施\n"
        "发布机构 发 布\n1 范围\n本文件规定了要求。\n4 要求\n4.1 应每年检查一次。\n"
    )
    s, _created = services.import_document(None, parse_text(text), agency, is_public=public)
    if withdrawn:
        services.update_standard(None, s, withdrawn_date=date.fromisoformat(withdrawn))
    return s


@pytest.fixture
def small(world):
    """A's framework of 3 categories; 3 functions of A, 2 covered by a standard in force,
    one linked only to a withdrawn standard (a gap); B's private framework and function."""
    a, b = world["A"], world["B"]
    s1 = std(a, "Q/DZJG 9101—2023", "公务接待服务规范", public=False)
    s2 = std(a, "Q/DZJG 9102—2023", "办公用房使用管理规范", public=False)
    s3 = std(a, "DB50/T 9980—2020", "已废止的车辆规范", withdrawn="2023-01-01")
    fw = svc.create_framework(None, agency=a, name="大足区机关事务标准体系", code="DZ")
    base = svc.add_node(None, fw, name="通用基础标准体系", code="1")
    ops = svc.add_node(None, fw, name="运行保障标准体系", code="2")
    evaluation = svc.add_node(None, fw, name="监督评价标准体系", code="3")
    reception = svc.add_node(None, ops, name="公务接待后勤保障", code="2.1")
    rooms = svc.add_node(None, ops, name="办公用房", code="2.2")
    svc.attach_standards(None, reception, add=[s1])
    svc.attach_standards(None, rooms, add=[s2, s3])
    f1 = svc.save_function(None, agency=a, name="公务接待", node=reception, standards=[s1])
    f2 = svc.save_function(None, agency=world["A1"], name="办公用房管理", standards=[s2])
    f3 = svc.save_function(None, agency=a, name="公务用车管理", standards=[s3])
    b_fw = svc.create_framework(None, agency=b, name="成都市内部标准体系", is_public=False)
    b_node = svc.add_node(None, b_fw, name="后勤服务", code="1")
    b_fn = svc.save_function(None, agency=b, name="成都机关后勤", node=b_node)
    return {
        "fw": fw,
        "nodes": {"1": base, "2": ops, "3": evaluation, "2.1": reception, "2.2": rooms},
        "standards": [s1, s2, s3],
        "functions": [f1, f2, f3],
        "b_fw": b_fw,
        "b_node": b_node,
        "b_fn": b_fn,
    }


@pytest.fixture
def officer(world):
    role = make_role("std_officer", DataScope.AGENCY_AND_BELOW, ["standards.*", "org.view"])
    return make_user("officer", world["A"], role)


def test_tree_building_keeps_framework_owner_and_visibility(small, world):
    fw = small["fw"]
    nodes = list(FrameworkNode.objects.filter(path__startswith=fw.path).order_by("path"))
    assert [n.code for n in nodes] == ["DZ", "1", "2", "2.1", "2.2", "3"]
    assert {n.agency_id for n in nodes} == {world["A"].pk}
    children = FrameworkNode.objects.get_children(small["nodes"]["2"])
    assert [c.code for c in children] == ["2.1", "2.2"]
    svc.update_node(None, fw, is_public=False)
    assert set(
        FrameworkNode.objects.filter(path__startswith=fw.path).values_list("is_public", flat=True)
    ) == {False}
    with pytest.raises(ValidationError):
        svc.update_node(None, small["nodes"]["1"], is_public=True)


def test_attaching_and_detaching_standards(small):
    rooms = small["nodes"]["2.2"]
    s1, s2, s3 = small["standards"]
    assert set(rooms.standards.all()) == {s2, s3}
    svc.attach_standards(None, rooms, add=[s1], remove=[s3])
    assert set(rooms.standards.all()) == {s1, s2}
    assert set(s1.framework_nodes.all()) == {small["nodes"]["2.1"], rooms}


def test_coverage_rate_and_gaps_exactly(small, world, officer):
    result = svc.agency_coverage(officer, world["A"])
    assert (result.functions, result.covered, result.rate) == (3, 2, 66.67)
    assert [g.function.name for g in result.gaps] == ["公务用车管理"]
    assert [s.status for s in result.gaps[0].standards] == ["withdrawn"]
    # A1 alone: its one function is covered.
    assert svc.agency_coverage(officer, world["A1"]).rate == 100.0
    # The matrix's columns: the three linked standards.
    assert len(result.standards) == 3
    # Before s1 and s2 took effect nothing was covered; no functions at all: no rate.
    assert svc.agency_coverage(officer, world["A"], today=date(2024, 2, 1)).rate == 0.0
    assert svc.coverage(AgencyFunction.objects.none(), Standard.objects.all()).rate is None


def test_indicator_value_via_indicator_scope(small, world, officer, users):
    ind = get_indicator("standards.function_coverage_rate")
    assert (ind.unit, ind.label) == ("%", "职能标准覆盖率")
    period = Period.parse("2026-03")
    assert ind.compute(IndicatorScope(world["A"]), period) == 66.67
    assert ind.compute(IndicatorScope(world["A"], user=officer), period) == 66.67
    assert ind.compute(IndicatorScope(world["A"], include_below=False), period) == 50.0
    assert ind.compute(IndicatorScope(world["A"]), Period.parse("2024-01")) == 0.0
    assert ind.compute(IndicatorScope(world["B"]), period) == 0.0
    # Who cannot see B's functions gets no data for B, never a zero.
    assert ind.compute(IndicatorScope(world["B"], user=officer), period) is None


def test_excel_standard_list_reads_back(small, officer):
    content = svc.export_standard_list(small["fw"], Standard.objects.restrict(officer))
    ws = load_workbook(BytesIO(content)).active
    rows = [tuple(c.value for c in row) for row in ws.iter_rows(min_row=2)]
    assert rows[0] == ("序号", "体系编号", "标准编号", "标准名称", "层级", "状态", "实施日期")
    body = [r[:6] for r in rows[1:]]
    assert body == [
        (1, "2.1", "Q/DZJG 9101—2023", "公务接待服务规范", "内部标准", "现行"),
        (2, "2.2", "DB50/T 9980—2020", "已废止的车辆规范", "地方标准", "废止"),
        (3, "2.2", "Q/DZJG 9102—2023", "办公用房使用管理规范", "内部标准", "现行"),
    ]
    assert rows[1][6].date() == date(2024, 3, 1)
    assert "标准明细表" in ws["A1"].value


def test_api_framework_tree_export_and_coverage(small, world, officer):
    client = api_client(officer)
    r = client.get(f"{V1}/frameworks?limit=100")
    assert r.status_code == 200
    names = {i["name"] for i in r.json()["items"]}
    assert names == {"大足区机关事务标准体系"}  # B's private framework is not listed
    r = client.get(f"{V1}/frameworks/{small['fw'].pk}")
    assert r.status_code == 200, r.content
    tree = r.json()
    assert tree["agency_name"] == world["A"].name and tree["standard_count"] == 3
    assert [n["code"] for n in tree["nodes"]] == ["1", "2", "3"]
    ops = tree["nodes"][1]
    assert [c["code"] for c in ops["children"]] == ["2.1", "2.2"]
    assert [s["code"] for s in ops["children"][0]["standards"]] == ["Q/DZJG 9101—2023"]
    r = client.get(f"{V1}/frameworks/{small['fw'].pk}/export.xlsx")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxml")
    ws = load_workbook(BytesIO(r.content)).active
    assert ws.max_row == 2 + 3
    r = client.get(f"{V1}/coverage?agency={world['A'].pk}")
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["agency"], body["functions"], body["covered"], body["rate"]) == (
        world["A"].pk,
        3,
        2,
        66.67,
    )
    assert [g["name"] for g in body["gaps"]] == ["公务用车管理"]
    assert client.get(f"{V1}/coverage").json()["rate"] == 66.67  # own agency by default
    assert client.get(f"{V1}/coverage?agency={world['B'].pk}").status_code == 404


def test_api_writes(small, world, officer):
    client = api_client(officer)
    s1, s2, _s3 = small["standards"]
    r = client.post(
        f"{V1}/frameworks", {"name": "新体系", "code": "N"}, content_type="application/json"
    )
    assert r.status_code == 201, r.content
    fw = r.json()["id"]
    assert r.json()["agency_id"] == world["A"].pk
    r = client.post(
        f"{V1}/framework-nodes",
        {"parent_id": fw, "name": "通用基础", "code": "1"},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    node = r.json()["id"]
    r = client.post(
        f"{V1}/framework-nodes/{node}/standards",
        {"add": [s1.pk, s2.pk]},
        content_type="application/json",
    )
    assert r.status_code == 200 and len(r.json()["standards"]) == 2
    r = client.patch(
        f"{V1}/framework-nodes/{node}", {"name": "通用基础标准"}, content_type="application/json"
    )
    assert r.status_code == 200 and r.json()["name"] == "通用基础标准"
    r = client.post(
        f"{V1}/functions",
        {"name": "会议服务", "node_id": node, "standard_ids": [s1.pk]},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    fid = r.json()["id"]
    assert client.get(f"{V1}/coverage").json()["functions"] == 4
    r = client.patch(f"{V1}/functions/{fid}", {"standard_ids": []}, content_type="application/json")
    assert r.status_code == 200 and r.json()["standard_ids"] == []
    assert client.get(f"{V1}/coverage").json()["rate"] == 50.0
    assert client.delete(f"{V1}/functions/{fid}").status_code == 204
    assert client.delete(f"{V1}/framework-nodes/{fw}").status_code == 204
    assert not FrameworkNode.objects.filter(name__in=["新体系", "通用基础标准"]).exists()


def test_scope_a_cannot_see_or_touch_b(small, world, officer):
    a_functions = AgencyFunction.objects.restrict(officer)
    assert small["b_fn"] not in a_functions
    assert set(a_functions) == set(small["functions"])
    assert small["b_fw"] not in FrameworkNode.objects.restrict(officer)
    client = api_client(officer)
    names = {f["name"] for f in client.get(f"{V1}/functions?limit=100").json()["items"]}
    assert names == {"公务接待", "办公用房管理", "公务用车管理"}
    assert client.get(f"{V1}/frameworks/{small['b_fw'].pk}").status_code == 404
    assert client.get(f"{V1}/frameworks/{small['b_fw'].pk}/export.xlsx").status_code == 404
    with pytest.raises(PermissionDenied):
        svc.add_node(officer, small["b_node"], name="越权", code="9")
    with pytest.raises(PermissionDenied):
        svc.save_function(officer, agency=world["B"], name="越权职能")
    with pytest.raises(PermissionDenied):
        svc.create_framework(officer, agency=world["B"], name="越权体系")
    with pytest.raises(PermissionDenied):  # B's function cannot hang on A's node either
        svc.save_function(officer, small["b_fn"], node=small["nodes"]["1"])
    assert not AgencyFunction.objects.filter(name="越权职能").exists()
    # A public framework of B is readable, not writable.
    svc.update_node(None, small["b_fw"], is_public=True)
    assert client.get(f"{V1}/frameworks/{small['b_fw'].pk}").status_code == 200
    r = client.post(
        f"{V1}/framework-nodes",
        {"parent_id": small["b_fw"].pk, "name": "越权"},
        content_type="application/json",
    )
    assert r.status_code == 404


def test_pages_tree_download_and_coverage(small, world, officer):
    from django.test import Client

    client = Client()
    client.force_login(officer)
    html = client.get("/standards/frameworks/").content.decode()
    assert "大足区机关事务标准体系" in html and "成都市内部标准体系" not in html
    r = client.get(f"/standards/frameworks/{small['fw'].pk}/")
    assert r.status_code == 200
    html = r.content.decode()
    for text in ("运行保障标准体系", "公务接待后勤保障", "Q/DZJG 9101—2023", "下载标准明细表"):
        assert text in html
    r = client.get(f"/standards/frameworks/{small['fw'].pk}/export.xlsx")
    assert r.status_code == 200
    assert load_workbook(BytesIO(r.content)).active["C3"].value == "Q/DZJG 9101—2023"
    assert client.get(f"/standards/frameworks/{small['b_fw'].pk}/").status_code == 404
    html = client.get(f"/standards/coverage/?agency={world['A'].pk}").content.decode()
    for text in ("66.67%", "覆盖缺口", "公务用车管理", "覆盖矩阵"):
        assert text in html
    assert client.get(f"/standards/coverage/?agency={world['B'].pk}").status_code == 404
