"""Joint drafting in the demo world (order 40, after the frameworks).

Two joint drafts, group standards numbered in the 9900s with "（示例）" clause text:
《川渝区域一体化公务用车社会化保障管理规范》 drafted by 重庆市机关事务管理局 and open for
comments to the first collaboration group, 《川渝地区机关食堂反食品浪费评价规范》 drafted by
四川省机关事务管理局 and open to the second. The periods run around the day the demo is
loaded (so they are open), each has a handful of comments from member agencies' users,
some of them already disposed.
"""

from __future__ import annotations

from datetime import date, timedelta

from guanjia.core.models import User
from guanjia.demo.registry import DemoContext, demo_part

from . import drafting, services
from .parsing import parse_text

# (code, title, drafting agency, group index, clauses, comments)
# comments: (clause, text, disposition or "", reason)
DRAFTS = (
    (
        "T/CYJG 9981—2026",
        "川渝区域一体化公务用车社会化保障管理规范",
        "重庆市机关事务管理局",
        0,
        (
            (
                "4 基本要求",
                (
                    "4.1 （示例）跨区域公务出行宜优先使用社会化租赁车辆。",
                    "4.2 （示例）保障单位应具备川渝两地的经营许可。",
                ),
            ),
            (
                "5 服务要求",
                (
                    "5.1 （示例）用车申请应在出行前1个工作日提交。",
                    "5.2 （示例）车辆调度响应时间不应超过30分钟。",
                    "5.3 （示例）费用结算宜按月统一办理。",
                ),
            ),
        ),
        (
            ("5.2", "建议将调度响应时间调整为20分钟。", "partly", "区县差异较大，调整为25分钟。"),
            ("4.2", "建议明确经营许可互认的依据。", "adopted", ""),
            ("5.1", "紧急公务出行应允许事后补办申请。", "", ""),
            ("", "建议增加新能源车辆使用比例要求。", "", ""),
        ),
    ),
    (
        "T/CYJG 9982—2026",
        "川渝地区机关食堂反食品浪费评价规范",
        "四川省机关事务管理局",
        1,
        (
            (
                "4 评价指标",
                (
                    "4.1 （示例）人均餐厨垃圾量不应超过150克每人次。",
                    "4.2 （示例）食材损耗率宜低于3%。",
                ),
            ),
            (
                "5 评价方法",
                (
                    "5.1 （示例）评价每年开展一次，采用自评与抽查相结合的方式。",
                    "5.2 （示例）评价结果分为优秀、良好、合格、不合格四个等级。",
                ),
            ),
        ),
        (
            ("4.1", "建议区分自助餐与桌餐分别设定限值。", "adopted", ""),
            ("5.1", "抽查比例应予明确。", "rejected", "抽查比例由各地实施细则规定。"),
            ("4.2", "建议补充食材损耗率的计算方法。", "", ""),
        ),
    ),
)


def _text(code: str, title: str, clauses) -> str:
    lines = [
        "T/CYJG",
        "团体标准",
        code,
        title,
        "川渝机关事务协作联盟（示例）    发 布",
        "",
        "前 言",
        "本文件为演示数据，不是真实标准。",
        "",
        "1 范围",
        f"本文件规定了{title.removesuffix('规范')}的要求（示例）。",
        "",
    ]
    for chapter, items in clauses:
        lines += [chapter, *items, ""]
    return "\n".join(lines)


def _commenters(group, drafter_agency_id) -> list[User]:
    members = group.members.exclude(pk=drafter_agency_id).order_by("path")
    users = User.objects.filter(agency__in=members, is_active=True).select_related("agency")
    seen, out = set(), []
    for user in users.order_by("agency__path", "pk"):
        if user.agency_id not in seen and user.can("standards.view"):
            seen.add(user.agency_id)
            out.append(user)
    return out


@demo_part("standards_drafting", order=40)
def build_drafting(ctx: DemoContext) -> dict[str, int]:
    """联合起草：2 项川渝联合起草草案，向协作小组征求意见，含意见及处理"""
    today = date.today()
    ctx.stage("联合起草", total=len(DRAFTS))
    counts = {"drafts": 0, "draft_comments": 0, "draft_comments_disposed": 0}
    for code, title, owner_name, group_index, clauses, comments in DRAFTS:
        owner, group = ctx.agencies_by_name[owner_name], ctx.groups[group_index]
        doc = parse_text(_text(code, title, clauses))
        doc.stage = "drafting"
        draft, _created = services.import_document(None, doc, owner)
        drafting.save_version(None, draft, "讨论稿")
        period = drafting.open_comment_period(
            None, draft, group, today - timedelta(days=10), today + timedelta(days=20)
        )
        commenters = _commenters(group, owner.pk)
        for i, (clause, text, disposition, reason) in enumerate(comments):
            if not commenters:
                break
            author = commenters[i % len(commenters)]
            comment = drafting.add_comment(author, period, clause, text, today=today)
            counts["draft_comments"] += 1
            if disposition:
                drafting.dispose(None, comment, disposition, reason)
                counts["draft_comments_disposed"] += 1
        counts["drafts"] += 1
        ctx.tick()
    return counts
