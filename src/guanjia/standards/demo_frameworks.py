"""Frameworks and coverage in the demo world (order 30, after the standards library).

- 重庆 "3+7N": 3 base sub-systems and 7 business areas, after the breakdown in the sample
  DB50/T 9003—2023 (itself our reading of the seeds: the published framework was not
  found); owned by 重庆市机关事务管理局, public; the DB50 and group standards attached by
  subject.
- 四川 "8+N": 8 business areas whose names are samples made up for the demo (the
  framework's description says so); owned by 四川省机关事务管理局; DB51 standards attached.
- 大足区: 通用基础 / 运行保障 / 监督评价, 34 internal standards (Q/DZJG 9101…9134, titled
  "（示例）…"), its 12 functions 100 % covered.
- The two provincial bureaus and a few other bureaus get functions with partial coverage.
"""

from __future__ import annotations

from datetime import date

from guanjia.demo.registry import DemoContext, demo_part

from . import frameworks as svc
from . import services
from .models import Standard
from .parsing import parse_text

CQ_BUREAU = "重庆市机关事务管理局"
SC_BUREAU = "四川省机关事务管理局"
DAZU = "大足区机关事务管理中心"

# (code, name, description, children)
CQ_FRAMEWORK = (
    ("1", "通用基础标准子体系", "标准化导则、术语、符号与标识等", (
        ("1.1", "标准化导则"), ("1.2", "术语"), ("1.3", "符号与标识"))),
    ("2", "运行保障标准子体系", "管理标准、服务标准、岗位工作标准等", (
        ("2.1", "管理标准"), ("2.2", "服务标准"), ("2.3", "岗位工作标准"))),
    ("3", "监督评价标准子体系", "服务质量评价、绩效考核、满意度测评等", (
        ("3.1", "服务质量评价"), ("3.2", "绩效考核"), ("3.3", "满意度测评"))),
    ("4", "办公用房管理", "", ()),
    ("5", "公务用车管理", "", ()),
    ("6", "公共机构节能", "", ()),
    ("7", "机关食堂与后勤服务", "", ()),
    ("8", "会议与公务接待保障", "", ()),
    ("9", "国有资产管理", "", ()),
    ("10", "机关运行经费管理", "", ()),
)  # fmt: skip
CQ_TOPICS = {
    "办公用房": "4", "公务用车": "5", "公共机构节能": "6", "机关食堂": "7", "物业服务": "7",
    "绿化养护": "7", "后勤服务质量": "3.1", "会议服务": "8", "公务接待": "8", "国有资产": "9",
    "公物仓管理": "9", "机关运行经费": "10", "安全保卫": "2.2", "档案管理": "2.1",
}  # fmt: skip
SC_FRAMEWORK = (
    ("1", "办公用房管理", "", ()),
    ("2", "公务用车管理", "", ()),
    ("3", "公共机构节能", "", ()),
    ("4", "机关后勤服务", "食堂、物业、绿化等", ()),
    ("5", "会议与公务接待", "", ()),
    ("6", "国有资产与公物仓", "", ()),
    ("7", "机关运行保障经费", "", ()),
    ("8", "综合管理与监督评价", "安全保卫、档案、服务质量评价等", ()),
)
SC_TOPICS = {
    "办公用房": "1", "公务用车": "2", "党政机关公务用车": "2", "公共机构节能": "3",
    "机关食堂": "4", "物业服务": "4", "绿化养护": "4", "会议服务": "5", "公务接待": "5",
    "国有资产": "6", "公物仓管理": "6", "机关运行经费": "7", "安全保卫": "8", "档案管理": "8",
    "后勤服务质量": "8",
}  # fmt: skip
# 大足: node → (its 34 internal standards, its functions)
DAZU_FRAMEWORK = (
    ("1", "通用基础标准体系", (
        ("1.1", "标准化导则", ("标准体系管理规范", "标准编写规则", "标准实施与评价管理办法"),
         ("标准化工作组织实施",)),
        ("1.2", "术语与标识", ("机关事务术语", "图形符号与标识设置规范"), ("术语与标识管理",)),
    )),
    ("2", "运行保障标准体系", (
        ("2.1", "内部运行", ("内部运行管理规范", "公文处理工作规范", "会议组织工作规范",
                             "财务报销工作规范", "岗位职责规范", "档案管理规范"),
         ("机关内部运行管理", "公文与档案管理")),
        ("2.2", "公务接待后勤保障", ("公务接待服务规范", "接待用餐管理规范", "接待住宿安排规范",
                                     "后勤保障应急预案管理规范"), ("公务接待保障",)),
        ("2.3", "办公用房", ("办公用房使用管理规范", "办公用房维修管理规范",
                             "办公用房调剂管理规范", "会议室使用管理规范"), ("办公用房管理",)),
        ("2.4", "公务用车", ("公务用车使用管理规范", "公务用车维修保养规范", "驾驶员管理规范",
                             "公务用车平台调度规范"), ("公务用车管理",)),
        ("2.5", "后勤服务", ("机关食堂服务规范", "食品安全管理规范", "物业服务规范",
                             "安全保卫服务规范", "绿化养护规范", "公共机构节能管理规范"),
         ("机关食堂与食品安全", "物业与安全保卫", "公共机构节能")),
    )),
    ("3", "监督评价标准体系", (
        ("3.1", "服务质量评价", ("后勤服务质量评价规范", "服务满意度测评规范", "投诉处理规范"),
         ("服务质量监督",)),
        ("3.2", "绩效考核", ("绩效考核规范", "标准化工作检查规范"), ("绩效考核",)),
    )),
)  # fmt: skip
OTHER_FUNCTIONS = (
    ("办公用房管理", "办公用房"),
    ("公务用车管理", "公务用车"),
    ("公共机构节能", "公共机构节能"),
    ("机关食堂管理", "机关食堂"),
    ("会议服务保障", "会议服务"),
    ("公务接待", "公务接待"),
    ("国有资产管理", "国有资产"),
    ("物业服务监管", "物业服务"),
    ("机关事务信息化建设", None),
)


def _topic(title: str) -> str:
    title = title.removeprefix("（示例）")
    for topic in sorted({**CQ_TOPICS, **SC_TOPICS}, key=len, reverse=True):
        if title.startswith(topic):
            return topic
    if "食堂" in title:
        return "机关食堂"
    return ""


def _build(actor_agency, name, code, description, spec, is_public=True):
    root = svc.create_framework(
        None,
        agency=actor_agency,
        name=name,
        code=code,
        description=description,
        is_public=is_public,
    )
    nodes = {}
    for node_code, node_name, node_desc, children in spec:
        node = svc.add_node(None, root, name=node_name, code=node_code, description=node_desc)
        nodes[node_code] = node
        for child_code, child_name in children:
            nodes[child_code] = svc.add_node(None, node, name=child_name, code=child_code)
    return root, nodes


def _internal_text(code: str, title: str, issued: date) -> str:
    return "\n".join(
        (
            code,
            f"（示例）{title}",
            f"{issued:%Y-%m-%d}发布    {issued:%Y-%m-%d}实施",
            f"{DAZU}    发 布",
            "",
            "前 言",
            "本文件为演示数据，不是真实标准。",
            "",
            "1 范围",
            f"本文件规定了{DAZU}{title.removesuffix('规范').removesuffix('办法')}的要求。",
            "",
            "4 要求",
            "4.1 应明确责任岗位，建立工作台账。",
            "4.2 宜每年开展一次自查。",
        )
    )


@demo_part("standards_frameworks", order=30)
def build_frameworks(ctx: DemoContext) -> dict[str, int]:
    """标准体系与职能覆盖：重庆“3+7N”、四川“8+N”（示例节点）、大足 3 大类 34 项内部标准"""
    rng = ctx.derive("coverage")
    cq, sc, dazu = (ctx.agencies_by_name[n] for n in (CQ_BUREAU, SC_BUREAU, DAZU))
    ctx.stage("标准体系与职能覆盖", total=4)
    public = list(Standard.objects.filter(is_public=True).with_status().order_by("code_key"))
    counts = {"frameworks": 0, "framework_nodes": 0, "functions": 0, "internal_standards": 0}

    # 重庆 3+7N
    _cq_root, cq_nodes = _build(
        cq,
        "重庆市机关事务标准体系",
        "3+7N",
        "按 DB50/T 9003—2023（样例）“3+7N”结构：3 个基础子体系和 7 个业务领域子体系，"
        "每个业务领域下设 N 个专项标准。",
        CQ_FRAMEWORK,
    )
    _sc_root, sc_nodes = _build(
        sc,
        "四川省机关事务标准体系（示例）",
        "8+N",
        "“8+N”：8 个业务领域，每个领域下设 N 个专项标准。节点名称为演示用示例，"
        "并非正式发布的四川框架。",
        SC_FRAMEWORK,
    )
    by_node: dict[int, list[Standard]] = {}
    for s in public:
        if s.code_prefix == "DB51/T":
            node = sc_nodes.get(SC_TOPICS.get(_topic(s.title), "8"))
        elif "标准体系" in s.title:
            node = cq_nodes["1.1"]
        elif "评价" in s.title:
            node = cq_nodes["3.1"]
        else:
            node = cq_nodes.get(CQ_TOPICS.get(_topic(s.title), "2.1"))
        by_node.setdefault(node.pk, []).append(s)
    for node in [*cq_nodes.values(), *sc_nodes.values()]:
        if by_node.get(node.pk):
            svc.attach_standards(None, node, add=by_node[node.pk])
    counts["frameworks"] += 2
    counts["framework_nodes"] += len(cq_nodes) + len(sc_nodes)
    ctx.tick()

    # 大足: 3 categories, 34 internal standards, every function covered.
    dz_root = svc.create_framework(
        None,
        agency=dazu,
        name="大足区机关事务标准体系",
        code="DZ",
        description="通用基础标准体系、运行保障标准体系、监督评价标准体系 3 大类，"
        "34 项内部标准（示例），100% 覆盖管理服务职能。",
        is_public=False,
    )
    number = 9100
    for code, name, children in DAZU_FRAMEWORK:
        top = svc.add_node(None, dz_root, name=name, code=code)
        counts["framework_nodes"] += 1
        for child_code, child_name, titles, functions in children:
            node = svc.add_node(None, top, name=child_name, code=child_code)
            counts["framework_nodes"] += 1
            made = []
            for title in titles:
                number += 1
                issued = date(2022, 1 + number % 12, 1 + number % 27)
                text = _internal_text(f"Q/DZJG {number}—2022", title, issued)
                standard, _created = services.import_document(
                    None, parse_text(text), dazu, is_public=False
                )
                made.append(standard)
            svc.attach_standards(None, node, add=made)
            counts["internal_standards"] += len(made)
            for i, function in enumerate(functions):
                share = made[i :: len(functions)]
                svc.save_function(None, agency=dazu, name=function, node=node, standards=share)
                counts["functions"] += 1
    counts["frameworks"] += 1
    ctx.tick()

    # The provincial bureaus: one function per business area, covered by what is attached
    # there (an area whose standards are all superseded or withdrawn is a gap), and one
    # function no standard covers yet.
    for bureau, nodes, areas in (
        (cq, cq_nodes, [c for c, *_ in CQ_FRAMEWORK if int(c) >= 4]),
        (sc, sc_nodes, [c for c, *_ in SC_FRAMEWORK]),
    ):
        for code in areas:
            node = nodes[code]
            svc.save_function(
                None,
                agency=bureau,
                name=node.name,
                node=node,
                standards=list(node.standards.all()),
            )
            counts["functions"] += 1
        svc.save_function(None, agency=bureau, name="机关事务信息化建设")
        counts["functions"] += 1
    ctx.tick()

    # A few other bureaus: partial coverage by public standards of the function's subject.
    by_topic: dict[str, list[Standard]] = {}
    for s in public:
        by_topic.setdefault(_topic(s.title), []).append(s)
    others = [b for b in ctx.bureaus if b.pk not in (cq.pk, sc.pk, dazu.pk)][:6]
    for bureau in others:
        for name, topic in rng.sample(OTHER_FUNCTIONS, 5):
            pool = by_topic.get(topic or "", [])
            linked = [rng.choice(pool)] if pool and rng.random() < 0.6 else []
            svc.save_function(None, agency=bureau, name=name, standards=linked)
            counts["functions"] += 1
    ctx.tick()
    return counts
