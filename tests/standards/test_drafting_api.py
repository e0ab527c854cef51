"""Joint drafting through the API: a draft, a comment period for a group, a member's
comments, disposition, the 意见汇总处理表 read back, approval and publication."""

import json
from datetime import date, timedelta
from io import BytesIO

import pytest
from docx import Document
from openpyxl import load_workbook

from guanjia.core import services as core
from guanjia.core.scope import DataScope
from guanjia.standards import services
from guanjia.standards.models import Comment, Standard
from guanjia.standards.parsing import parse_text

from ..conftest import api_client, make_role, make_user

pytestmark = pytest.mark.django_db
V1 = "/api/v1/standards/drafts"
DRAFT = (
    "DB50\n重庆市地方标准\nDB50/T 9971—2026\n川渝机关接待服务规范（征求意见稿）\n"
    "1 范围\n本文件规定了接待服务要求。\n4 要求\n4.1 接待应提前1天准备。\n"
    "4.2 用餐宜简朴。\n"
)


def send(client, method, url, body=None):
    if body is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json")


@pytest.fixture
def setup(world, regions):
    a, b = world["A"], world["B"]
    outsider = core.create_agency(None, name="沙坪坝区机关事务管理局", region=regions["500106"])
    doc = parse_text(DRAFT)
    doc.stage = "drafting"
    draft, _ = services.import_document(None, doc, a)
    group = core.save_group(None, name="川渝接待服务标准起草组", agency=a, members=[a, b])
    drafter = make_role("drafter", DataScope.AGENCY_AND_BELOW, ["standards.*", "org.view"])
    reader = make_role("reader", DataScope.AGENCY, ["standards.view", "org.view"])
    return {
        "draft": draft,
        "group": group,
        "drafter": api_client(make_user("drafter", a, drafter)),
        "member": api_client(make_user("member_b", b, reader)),
        "outsider": api_client(make_user("outsider", outsider, reader)),
    }


def test_drafting_flow(setup):
    draft, drafter, member = setup["draft"], setup["drafter"], setup["member"]
    outsider = setup["outsider"]
    items = send(drafter, "get", V1).json()["items"]
    assert [(i["id"], i["stage"]) for i in items] == [(draft.pk, "drafting")]
    assert send(member, "get", V1).json()["items"] == []  # not yet shared

    r = send(drafter, "post", f"{V1}/{draft.pk}/versions", {"note": "讨论稿"})
    assert r.status_code == 201, r.content
    assert r.json()["number"] == 1 and ["4.1", "", "接待应提前1天准备。"] in r.json()["clauses"]
    assert send(member, "post", f"{V1}/{draft.pk}/versions", {}).status_code == 404

    today = date.today()
    period_in = {
        "group_id": setup["group"].pk,
        "opens": str(today - timedelta(days=1)),
        "closes": str(today + timedelta(days=20)),
    }
    assert send(member, "post", f"{V1}/{draft.pk}/periods", period_in).status_code == 404
    r = send(drafter, "post", f"{V1}/{draft.pk}/periods", period_in)
    assert r.status_code == 201, r.content
    period = r.json()
    assert (period["version_number"], period["group_name"]) == (1, "川渝接待服务标准起草组")
    # The member agency now reads the draft, its versions and the period.
    assert [i["stage"] for i in send(member, "get", V1).json()["items"]] == ["soliciting"]
    assert len(send(member, "get", f"{V1}/{draft.pk}/versions").json()) == 1
    assert [p["id"] for p in send(member, "get", f"{V1}/{draft.pk}/periods").json()] == [
        period["id"]
    ]
    assert send(outsider, "get", f"{V1}/{draft.pk}/periods").status_code == 404

    comments = f"{V1}/periods/{period['id']}/comments"
    r = send(member, "post", comments, {"clause_number": "4.1", "text": "建议提前2天准备。"})
    assert r.status_code == 201, r.content
    c1 = r.json()
    r = send(member, "post", comments, {"text": "建议增加少数民族饮食要求。"})
    c2 = r.json()
    r = send(drafter, "post", comments, {"clause_number": "4.2", "text": "用餐标准应量化。"})
    c3 = r.json()
    assert send(member, "post", comments, {"clause_number": "9.9", "text": "x"}).status_code == 422
    assert send(outsider, "post", comments, {"text": "越权意见"}).status_code == 404
    assert Comment.objects.count() == 3
    # The member sees its own comments, the drafters all of them.
    assert {c["id"] for c in send(member, "get", comments).json()} == {c1["id"], c2["id"]}
    assert len(send(drafter, "get", comments).json()) == 3

    dispose = f"{V1}/comments/{{}}"
    r = send(member, "patch", dispose.format(c1["id"]), {"disposition": "adopted"})
    assert r.status_code in (403, 404)
    r = send(drafter, "patch", dispose.format(c1["id"]), {"disposition": "rejected"})
    assert r.status_code == 422  # no reason
    partly = {"disposition": "partly", "reason": "改为提前1.5天。"}
    r = send(drafter, "patch", dispose.format(c1["id"]), partly)
    assert r.status_code == 200 and r.json()["disposition"] == "partly"
    assert send(drafter, "post", f"{V1}/{draft.pk}/approve").status_code == 422  # pending
    send(drafter, "patch", dispose.format(c2["id"]), {"disposition": "adopted"})
    rejected = {"disposition": "rejected", "reason": "另行规定。"}
    send(drafter, "patch", dispose.format(c3["id"]), rejected)

    r = send(drafter, "get", f"{V1}/periods/{period['id']}/export.xlsx")
    assert r.status_code == 200 and r["Content-Type"].endswith("spreadsheetml.sheet")
    ws = load_workbook(BytesIO(r.content)).active
    rows = [tuple(c.value for c in row) for row in ws.iter_rows(min_row=3)]
    assert [(r[1], r[4]) for r in rows] == [
        ("总体", "采纳"),
        ("4.1", "部分采纳"),
        ("4.2", "未采纳"),
    ]
    r = send(drafter, "get", f"{V1}/periods/{period['id']}/export.docx")
    assert r.status_code == 200
    doc = Document(BytesIO(r.content))
    assert doc.tables[0].rows[2].cells[2].text == "建议提前2天准备。"
    assert "共收到意见 3 条" in doc.paragraphs[-1].text
    assert send(member, "get", f"{V1}/periods/{period['id']}/export.xlsx").status_code == 404

    r = send(drafter, "post", f"{V1}/{draft.pk}/publish", {"issue_date": "2026-05-01"})
    assert r.status_code == 422  # not approved
    assert send(member, "post", f"{V1}/{draft.pk}/submit").status_code == 404
    assert send(drafter, "post", f"{V1}/{draft.pk}/submit").json()["stage"] == "under_review"
    assert send(drafter, "post", f"{V1}/{draft.pk}/approve").json()["stage"] == "approved"
    r = send(
        drafter,
        "post",
        f"{V1}/{draft.pk}/publish",
        {"issue_date": "2026-05-01", "effective_date": "2026-06-01"},
    )
    assert r.status_code == 200 and r.json()["stage"] == "published", r.content
    draft = Standard.objects.get(pk=draft.pk)
    assert (draft.stage, draft.effective_date) == ("published", date(2026, 6, 1))
    # A published standard is no longer a draft.
    assert send(drafter, "get", V1).json()["items"] == []
    assert send(drafter, "get", f"{V1}/{draft.pk}/versions").status_code == 404


def test_draft_pages(setup, world):
    from django.test import Client

    from guanjia.core.models import User
    from guanjia.standards import drafting

    def login(user):
        client = Client()
        client.force_login(user)
        return client

    draft, group = setup["draft"], setup["group"]
    drafter, member = User.objects.get(username="drafter"), User.objects.get(username="member_b")
    drafting.save_version(drafter, draft, "讨论稿")
    page = login(drafter).get(f"/standards/drafts/{draft.pk}/").content.decode()
    assert "尚未发起征求意见" in page and "接待应提前1天准备。" in page
    today = date.today()
    period = drafting.open_comment_period(
        drafter, draft, group, today - timedelta(days=1), today + timedelta(days=5)
    )
    first = drafting.add_comment(drafter, period, "4.1", "建议提前2天准备。")

    m, d = login(member), login(drafter)
    page = m.get("/standards/drafts/").content.decode()
    assert "川渝机关接待服务规范" in page and "川渝接待服务标准起草组" in page
    page = m.get(f"/standards/drafts/{draft.pk}/").content.decode()
    assert "提出意见" in page and "导出意见汇总处理表" not in page
    assert "建议提前2天准备。" not in page  # another agency's comment
    r = m.post(
        f"/standards/drafts/periods/{period.pk}/comments/",
        {"clause_number": "4.2", "text": "用餐标准应量化。"},
    )
    assert r.status_code == 302
    assert Comment.objects.filter(period=period, agency=world["B"]).count() == 1
    r = m.post(f"/standards/drafts/comments/{first.pk}/dispose/", {"disposition": "adopted"})
    assert r.status_code in (403, 404)

    page = d.get(f"/standards/drafts/{draft.pk}/").content.decode()
    assert "用餐标准应量化。" in page and "建议提前2天准备。" in page
    assert "导出意见汇总处理表（Excel）" in page and 'name="disposition"' in page
    d.post(f"/standards/drafts/comments/{first.pk}/dispose/", {"disposition": "adopted"})
    assert Comment.objects.get(pk=first.pk).disposition == "adopted"
    r = d.get(f"/standards/drafts/periods/{period.pk}/export.xlsx")
    assert r.status_code == 200 and load_workbook(BytesIO(r.content)).active["C3"].value
    assert d.get(f"/standards/drafts/periods/{period.pk}/export.docx").status_code == 200
    assert m.get(f"/standards/drafts/periods/{period.pk}/export.xlsx").status_code in (403, 404)
    outsider = login(User.objects.get(username="outsider"))
    assert outsider.get(f"/standards/drafts/{draft.pk}/").status_code == 404
    assert "川渝机关接待服务规范" not in outsider.get("/standards/drafts/").content.decode()
