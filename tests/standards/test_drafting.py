"""Joint drafting: versions, a comment period open to a collaboration group, comments per
clause with disposition, the 意见汇总处理表 in Excel and Word, approval and publication."""

from datetime import date, timedelta
from io import BytesIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from docx import Document
from openpyxl import load_workbook

from guanjia.core import services as core
from guanjia.core.scope import DataScope
from guanjia.standards import drafting, services
from guanjia.standards.models import Comment, Standard
from guanjia.standards.parsing import parse_text

from ..conftest import make_role, make_user

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 10)
DRAFT = (
    "DB50\n重庆市地方标准\nDB50/T 9970—2026\n川渝机关会议服务规范（征求意见稿）\n"
    "1 范围\n本文件规定了会议服务要求。\n4 要求\n4.1 会场应提前2小时准备。\n"
    "4.2 茶歇宜简朴。\n"
)


@pytest.fixture
def setup(world, regions):
    a, b = world["A"], world["B"]
    outsider = core.create_agency(None, name="沙坪坝区机关事务管理局", region=regions["500106"])
    doc = parse_text(DRAFT)
    doc.stage = "drafting"
    draft, _ = services.import_document(None, doc, a)
    group = core.save_group(None, name="川渝会议服务标准起草组", agency=a, members=[a, b])
    drafter_role = make_role("drafter", DataScope.AGENCY_AND_BELOW, ["standards.*", "org.view"])
    reader_role = make_role("reader", DataScope.AGENCY, ["standards.view", "org.view"])
    return {
        "draft": draft,
        "group": group,
        "drafter": make_user("drafter", a, drafter_role),
        "member": make_user("member_b", b, reader_role),
        "outsider": make_user("outsider", outsider, reader_role),
    }


def test_versions_snapshot_the_clauses(setup):
    draft, drafter = setup["draft"], setup["drafter"]
    assert draft.stage == "drafting" and not draft.is_public
    v1 = drafting.save_version(drafter, draft, "讨论稿")
    v2 = drafting.save_version(drafter, draft, "征求意见稿")
    assert (v1.number, v2.number) == (1, 2)
    assert ["4.1", "会场应提前2小时准备。"] == [v2.clauses[-2][0], v2.clauses[-2][2]]
    with pytest.raises(PermissionDenied):
        drafting.save_version(setup["member"], draft)


def test_comment_period_comments_disposition_exports_and_publication(setup):
    draft, drafter, member = setup["draft"], setup["drafter"], setup["member"]
    period = drafting.open_comment_period(
        drafter, draft, setup["group"], TODAY - timedelta(days=5), TODAY + timedelta(days=25)
    )
    draft.refresh_from_db()
    assert draft.stage == "soliciting" and period.version.number == 1
    # The member agency reads the draft it comments on.
    assert Standard.objects.restrict(member).filter(pk=draft.pk).exists()
    c1 = drafting.add_comment(member, period, "4.1", "建议改为提前1小时。", today=TODAY)
    c2 = drafting.add_comment(member, period, "", "建议增加无障碍服务要求。", today=TODAY)
    c3 = drafting.add_comment(drafter, period, "4.2", "茶歇应明确标准。", today=TODAY)
    with pytest.raises(PermissionDenied):
        drafting.add_comment(setup["outsider"], period, "4.1", "越权意见", today=TODAY)
    with pytest.raises(ValidationError):
        drafting.add_comment(member, period, "4.1", "过期意见", today=TODAY + timedelta(days=30))
    with pytest.raises(ValidationError):
        drafting.add_comment(member, period, "9.9", "没有此条", today=TODAY)
    with pytest.raises(PermissionDenied):  # the commenter does not decide
        drafting.dispose(member, c1, "adopted")
    with pytest.raises(ValidationError):
        drafting.dispose(drafter, c1, "rejected")  # no reason
    drafting.dispose(drafter, c1, "partly", "改为提前1.5小时。")
    with pytest.raises(ValidationError):
        drafting.approve(drafter, draft)  # c2, c3 pending
    drafting.dispose(drafter, c2, "adopted")
    drafting.dispose(drafter, c3, "rejected", "属于管理细则，不纳入标准。")
    # The member sees its own comments and their disposition, not the others'.
    assert set(Comment.objects.restrict(member)) == {c1, c2}

    ws = load_workbook(BytesIO(drafting.export_comments_xlsx(period))).active
    assert "征求意见汇总处理表" in ws["A1"].value
    rows = [tuple(c.value for c in r) for r in ws.iter_rows(min_row=2)]
    assert rows[0] == ("序号", "章条编号", "意见内容", "提出单位", "处理意见", "理由")
    assert rows[1:] == [
        (1, "总体", "建议增加无障碍服务要求。", "成都市机关事务管理局", "采纳", None),
        (2, "4.1", "建议改为提前1小时。", "成都市机关事务管理局", "部分采纳", "改为提前1.5小时。"),
        (
            3,
            "4.2",
            "茶歇应明确标准。",
            "大足区机关事务管理中心",
            "未采纳",
            "属于管理细则，不纳入标准。",
        ),
    ]
    doc = Document(BytesIO(drafting.export_comments_docx(period)))
    table = doc.tables[0]
    assert [c.text for c in table.rows[0].cells] == list(drafting.TABLE_HEADER)
    assert [c.text for c in table.rows[2].cells][1:5] == [
        "4.1",
        "建议改为提前1小时。",
        "成都市机关事务管理局",
        "部分采纳",
    ]
    assert "共收到意见 3 条，其中采纳 1 条，部分采纳 1 条，未采纳 1 条" in doc.paragraphs[-1].text

    with pytest.raises(ValidationError):
        drafting.publish(drafter, draft, issue_date=TODAY)  # not approved yet
    drafting.submit_for_review(drafter, draft)
    drafting.approve(drafter, draft)
    assert Standard.objects.get(pk=draft.pk).stage == "approved"
    today = date.today()
    drafting.publish(drafter, draft, issue_date=today - timedelta(days=60), effective_date=today)
    draft = Standard.objects.get(pk=draft.pk)
    assert draft.stage == "published" and draft.is_public
    assert draft.status == "in_force"
    with pytest.raises(ValidationError):
        drafting.save_version(drafter, draft)  # no longer a draft
