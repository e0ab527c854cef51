"""The standards library's part of the demo world.

The three sample local standards (data/sample-*.txt, the test fixtures: DB50/T 9001—2022,
DB50/T 9003—2023, DB51/T 9002—2021) and generated sample standards — every one titled
"（示例）…" and numbered in the 9100–9999 range, so none can be mistaken for a real
standard — written out in the GB/T 1.1 text layout and read by the same importer users
use. They are public and owned by the two provincial bureaus (DB50 and the group standards
by 重庆市机关事务管理局, DB51 by 四川省机关事务管理局). Some are older editions replaced
by a newer sample ("代替…"), a few are withdrawn, so every status shows.

Size: `sample_standards` (small 50, province 300).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from guanjia.demo.registry import DemoContext, demo_part

from . import (
    demo_drafting,  # noqa: F401  (registers the joint drafting part, order 40)
    demo_frameworks,  # noqa: F401  (registers the frameworks part, order 30)
    services,
)
from .parsing import parse_text

DATA = Path(__file__).resolve().parent / "data"
CQ_BUREAU = "重庆市机关事务管理局"
SC_BUREAU = "四川省机关事务管理局"

SUBJECTS = (
    ("办公用房", "办公用房", ("使用面积", "平方米", 9, 54), "调剂"),
    ("公务用车", "公务用车", ("百公里油耗", "升", 6, 12), "派车"),
    ("公共机构节能", "用能单位", ("人均综合能耗", "千克标准煤", 200, 400), "计量"),
    ("机关食堂", "食堂", ("人均餐厨垃圾量", "克每人次", 100, 180), "留样"),
    ("会议服务", "会议服务", ("会场准备时间", "小时", 1, 4), "签到"),
    ("公务接待", "接待", ("陪餐人数", "人", 2, 5), "审批"),
    ("国有资产", "资产", ("账实相符率", "%", 95, 100), "盘点"),
    ("物业服务", "物业", ("报修响应时间", "分钟", 15, 60), "巡查"),
    ("安全保卫", "安保", ("巡逻间隔", "小时", 1, 4), "值守"),
    ("绿化养护", "绿化", ("绿地完好率", "%", 90, 99), "养护"),
    ("档案管理", "档案", ("归档及时率", "%", 90, 100), "借阅"),
    ("后勤服务质量", "后勤服务", ("满意度", "%", 85, 95), "测评"),
    ("公物仓管理", "公物仓", ("入仓登记时限", "个工作日", 2, 7), "调剂"),
    ("机关运行经费", "经费", ("预算执行率", "%", 85, 98), "核算"),
)
KINDS = ("管理规范", "服务规范", "评价指南", "工作指南", "运行要求")
CHAPTERS = ("基本要求", "管理要求", "服务要求", "监督与评价")
ISSUERS = {"DB50": "重庆市市场监督管理局", "DB51": "四川省市场监督管理局"}


@demo_part("standards", order=20)
def build_standards(ctx: DemoContext) -> dict[str, int]:
    """标准库：3 项样例地方标准与生成的（示例）标准，含代替与废止关系"""
    owners = {
        "DB50": ctx.agencies_by_name[CQ_BUREAU],
        "DB51": ctx.agencies_by_name[SC_BUREAU],
        "T": ctx.agencies_by_name[CQ_BUREAU],
    }
    n = ctx.amount("sample_standards", small=50, province=300)
    samples = sorted(DATA.glob("sample-*.txt"))
    plan = _plan(ctx, n)
    ctx.stage("标准库", total=len(samples) + len(plan))
    imported = clauses = 0
    for path in samples:
        doc = parse_text(path.read_text(encoding="utf-8"))
        owner = owners["DB51" if doc.code.startswith("DB51") else "DB50"]
        services.import_document(None, doc, owner, source_file=(path.name[7:], path.read_bytes()))
        imported, clauses = imported + 1, clauses + len(doc.clauses)
        ctx.tick()
    withdrawn = 0
    for item in plan:
        doc = parse_text(item["text"])
        standard, _created = services.import_document(None, doc, owners[item["owner"]])
        if item["withdrawn"]:
            services.update_standard(None, standard, withdrawn_date=item["withdrawn"])
            withdrawn += 1
        imported, clauses = imported + 1, clauses + len(doc.clauses)
        ctx.tick()
    return {"standards": imported, "standard_clauses": clauses, "standards_withdrawn": withdrawn}


def _plan(ctx: DemoContext, n: int) -> list[dict]:
    """What to generate, oldest edition first (so that "代替" finds what it replaces)."""
    rng = ctx.derive("plan")
    plan: list[dict] = []
    number = 9100
    while len(plan) < n:
        subject = SUBJECTS[len(plan) % len(SUBJECTS)]
        kind = KINDS[rng.randrange(len(KINDS))]
        family = rng.choice(("DB50", "DB50", "DB51", "DB51", "T"))
        prefix = {"DB50": "DB50/T", "DB51": "DB51/T", "T": "T/CYJG"}[family]
        number += rng.randint(1, 2)
        year = rng.randint(2016, 2023)
        editions = 2 if rng.random() < 0.25 and len(plan) + 2 <= n else 1
        previous = None
        for e in range(editions):
            edition_year = year + e * rng.randint(2, 3)
            code = f"{prefix} {number}—{edition_year}"
            issued = date(edition_year, rng.randint(1, 10), rng.randint(1, 28))
            effective = issued + timedelta(days=rng.choice((30, 60, 90)))
            gone = None
            if previous is None and editions == 1 and rng.random() < 0.06:
                gone = date(edition_year + rng.randint(3, 5), rng.randint(1, 12), 1)
            plan.append(
                {
                    "owner": family,
                    "withdrawn": gone,
                    "text": _text(
                        rng, code, subject, kind, family, issued, effective, previous, e + 1
                    ),
                }
            )
            previous = code
    return plan[:n]


def _text(rng, code, subject, kind, family, issued, effective, previous, edition) -> str:
    topic, who, (measure, unit, low, high), act = subject
    title = f"（示例）{topic}{kind}"
    level = {"DB50": "重庆市地方标准", "DB51": "四川省地方标准", "T": "团体标准"}[family]
    issuer = ISSUERS.get(family, "川渝机关事务协作联盟（示例）")
    lines = [
        "ICS 03.080",
        "CCS A 12",
        family if family != "T" else "T/CYJG",
        level,
        code,
    ]
    if previous:
        lines.append(f"代替 {previous}")
    lines += [
        title,
        f"Sample specification No. {code.split()[1].split('—')[0]} (for demonstration only)",
        f"{issued:%Y-%m-%d}发布    {effective:%Y-%m-%d}实施",
        f"{issuer}    发 布",
        "",
        "前 言",
        "本文件按照GB/T 1.1—2020《标准化工作导则 第1部分：标准化文件的结构和起草规则》的规定起草。",
        "本文件为演示数据，不是真实标准。",
    ]
    if previous:
        lines.append(f"本文件代替{previous}，与{previous}相比，主要技术变化为调整了量化指标。")
    else:
        lines.append("本文件为首次发布。")
    lines += [
        "",
        "1 范围",
        f"本文件规定了{topic}的基本要求、管理要求、服务要求和监督与评价。",
        f"本文件适用于党政机关{topic}工作。",
        "",
        "2 规范性引用文件",
        "下列文件中的内容通过文中的规范性引用而构成本文件必不可少的条款。",
        "GB/T 1.1—2020 标准化工作导则 第1部分：标准化文件的结构和起草规则",
        "DB50/T 9003—2023 机关事务标准体系编制指南",
    ]
    if rng.random() < 0.5:
        lines.append("GB/T 13016 标准体系构建原则和要求")
    lines += [
        "",
        "3 术语和定义",
        "下列术语和定义适用于本文件。",
        "3.1",
        f"{measure} sample indicator",
        f"统计期内{who}{measure}的统计值，单位为{unit}。",
        "",
    ]
    for i, chapter in enumerate(CHAPTERS, start=4):
        lines.append(f"{i} {chapter}")
        for j in range(1, rng.randint(2, 5) + 1):
            value = rng.randint(low, high) - (edition - 1) * max(1, (high - low) // 10)
            value = max(value, 1)
            form = rng.random()
            if form < 0.45:
                text = f"{who}{measure}不应超过{value}{unit}。"
                if unit == "%":
                    text = f"{who}{measure}不应低于{value}{unit}。"
            elif form < 0.7:
                text = f"{who}应建立{act}制度，明确责任人并每年检查一次。"
            elif form < 0.85:
                text = f"{who}{act}记录宜保存不少于{rng.randint(1, 5)}年。"
            else:
                text = f"{who}可结合实际采用信息化手段开展{act}。"
            lines.append(f"{i}.{j} {text}")
        lines.append("")
    return "\n".join(lines)
