"""质量把控: the fixtures' findings written out by hand, a crafted bad draft with every
kind of finding, each check on its own, the library callable, the CLI."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from guanjia.standards.document import ClauseDoc, ReferenceDoc, StandardDoc, TermDoc
from guanjia.standards.quality import REFERENCES_LEAD_IN, TERMS_LEAD_IN, check

from .textdoc import FIXTURES, load_fixture, parse_text

UNCITED = (
    "列于规范性引用文件，但正文中没有引用它（该章只列出正文中规范性引用的文件，否则移至参考文献）"
)
REF_LEAD_IN = "规范性引用文件的引导语不完整，GB/T 1.1—2020 的表述为：" + REFERENCES_LEAD_IN
TERM_LEAD_IN = (
    f"术语和定义一章缺少引导语，如“{TERMS_LEAD_IN}”"
    "或“GB/T ××××界定的以及下列术语和定义适用于本文件。”"
)


def findings(doc, library=None):
    return [(f.kind, f.clause, f.message) for f in check(doc, library)]


def kinds(doc, library=None):
    return [(f.kind, f.clause) for f in check(doc, library)]


# -- the fixtures ---------------------------------------------------------------------------


def test_quality_db50_9001():
    """Well drafted; only its three references are never cited in the text."""
    assert findings(load_fixture("DB50-T-9001-2022.txt")) == [
        ("uncited-reference", "2", f"GB 31654 {UNCITED}"),
        ("uncited-reference", "2", f"GB/T 2589 {UNCITED}"),
        ("uncited-reference", "2", f"DB50/T 9003—2023 {UNCITED}"),
    ]


def test_quality_db50_9003():
    """Chapter 2's lead-in stops after its first sentence, chapter 3 has none, and neither
    reference is cited (GB/T 1.1 is named in the foreword only, which is not the text)."""
    assert findings(load_fixture("DB50-T-9003-2023.txt")) == [
        ("lead-in", "2", REF_LEAD_IN),
        ("uncited-reference", "2", f"GB/T 1.1—2020 {UNCITED}"),
        ("uncited-reference", "2", f"GB/T 13016 {UNCITED}"),
        ("lead-in", "3", TERM_LEAD_IN),
    ]


def test_quality_db51_9002():
    """JT/T 808—2019 is cited (5.2, dated); GB/T 19056 is not; 公车私用 is defined but never
    used (the text says 违规用车)."""
    assert findings(load_fixture("DB51-T-9002-2021.txt")) == [
        ("lead-in", "2", REF_LEAD_IN),
        ("uncited-reference", "2", f"GB/T 19056 {UNCITED}"),
        ("lead-in", "3", TERM_LEAD_IN),
        ("term-unused", "3.2", "术语“公车私用”已定义，但正文中没有使用"),
    ]


def test_quality_fixture_against_a_library():
    library = {
        "GB/T2589": ("in_force", None),  # undated: the newest edition is in force
        "DB50/T9003-2023": ("in_force", None),
        "GB31654": ("superseded", "GB 31654—2030"),
    }.get
    found = [f for f in check(load_fixture("DB50-T-9001-2022.txt"), library)]
    assert [(f.kind, f.clause, f.message) for f in found if f.kind == "withdrawn-reference"] == [
        ("withdrawn-reference", "2", "引用的 GB 31654 已被代替，应改为引用 GB 31654—2030")
    ]


# -- a bad draft ----------------------------------------------------------------------------

BAD_DRAFT = """\
DB50/T 9999—2026
机关会议服务规范（征求意见稿）

前 言
本文件按照GB/T 1.1—2020给出的规则起草。

1 总则
本文件规定了机关会议服务的要求。

2 规范性引用文件
下列文件中的内容通过文中的规范性引用而构成本文件必不可少的条款。
GB 31654 食品安全国家标准 餐饮服务通用卫生规范
GB/T 2589 综合能耗计算通则
DB50/T 9003—2019 机关事务标准体系编制指南
GB/T 19056 汽车行驶记录仪

3 术语和定义
下列术语和定义适用于本文件。
3.1
会议服务 conference service
为机关会议提供的场地、设备、茶歇和接待服务。
3.2
茶歇 tea break
会议间隙提供的饮品和点心。
3.3
会标 conference banner
会场主席台上方悬挂的会议名称标识。

4 基本要求
4.1 会议服务必须实行预约制度。
4.3 严禁超标准布置会场，会议用品一律从定点单位采购。
4.3 会务人员不得擅自离岗。
4.2 会议材料应提前1个工作日送达。

5 服务保障
5.1 会场设备应符合GB/T 2589 第3章的要求。
5.2 会场卫生应按GB 31654的4.2执行。
5.4 会议用餐应执行DB50/T 9001—2022。

7 评价
7.1 服务质量评价应按DB50/T 9003—2019进行。
"""
NO_REPLACEMENT = "且没有替代标准，应删除或改用其他文件"
REPLACE_2023 = "应改为引用 DB50/T 9003—2023"
OUT_OF_ORDER = "编号不在顺序中（按顺序编号，或将该条移到正确位置）"


def undated(code, part):
    return (
        f"{code} 未注日期却引用了其具体内容（{part}）：引用具体章条、图表时应注日期，"
        f"如“{code}—20××”"
    )


LIBRARY = {
    "GB/T2589": ("withdrawn", None),
    "DB50/T9003-2019": ("superseded", "DB50/T 9003—2023"),
    "GB31654": ("in_force", None),
    "DB50/T9001-2022": ("in_force", None),
}


def test_quality_bad_draft_every_kind():
    got = findings(parse_text(BAD_DRAFT), LIBRARY.get)
    modal = "不是 GB/T 1.1—2020 附录C 的能愿动词（首选表述），"
    assert got == [
        ("missing-chapter", "", "缺少第 1 章“范围”（GB/T 1.1—2020 规定的必备要素）"),
        ("lead-in", "2", REF_LEAD_IN),
        ("uncited-reference", "2", f"GB/T 19056 {UNCITED}"),
        ("withdrawn-reference", "2", f"引用的 GB/T 2589 已废止，{NO_REPLACEMENT}"),
        ("withdrawn-reference", "2", f"引用的 DB50/T 9003—2019 已被代替，{REPLACE_2023}"),
        ("term-undefined-use", "3.1", "术语“茶歇”在 3.1 中使用时尚未定义（定义见 3.2）"),
        ("term-unused", "3.3", "术语“会标”已定义，但正文中没有使用"),
        ("modal-verb", "4.1", f"“必须”{modal}宜改为“应”（要求）"),
        ("numbering-gap", "4.3", "编号不连续：4.1 之后缺少 4.2（接着是 4.3）"),
        ("duplicate-number", "4.3", "条款编号 4.3 重复出现（第 2 次）"),
        ("numbering-order", "4.3", f"4.3 的正文中有一行以“4.2”开头：{OUT_OF_ORDER}"),
        ("modal-verb", "4.3", f"“严禁”{modal}宜改为“不应”（要求）"),
        ("modal-verb", "4.3", f"“一律”{modal}删去“一律”，用“应”表述要求"),
        ("modal-verb", "4.3", f"“不得”{modal}宜改为“不应”（要求）"),
        ("undated-reference", "5.1", undated("GB/T 2589", "第3章")),
        ("undated-reference", "5.2", undated("GB 31654", "4.2")),
        ("numbering-gap", "5.4", "编号不连续：5.2 之后缺少 5.3（接着是 5.4）"),
        ("unlisted-reference", "5.4", "正文引用了 DB50/T 9001—2022，但它未列入规范性引用文件"),
        ("numbering-gap", "7", "编号不连续：5 之后缺少 6（接着是 7）"),
    ]  # fmt: skip
    required = {
        "numbering-gap", "duplicate-number", "modal-verb", "withdrawn-reference",
        "undated-reference", "missing-chapter", "term-unused", "term-undefined-use",
    }  # fmt: skip
    assert required <= {kind for kind, _c, _m in got}


# -- each check on its own ------------------------------------------------------------------


def doc(*clauses, terms=(), references=(), code="DB50/T 1—2026"):
    base = [
        ClauseDoc("1", "范围", "本文件规定了……", "scope"),
        ClauseDoc("2", "规范性引用文件", "本文件没有规范性引用文件。", "references"),
        ClauseDoc("3", "术语和定义", "本文件没有需要界定的术语和定义。", "term"),
    ]
    return StandardDoc(
        code, "测试", clauses=base + list(clauses), terms=list(terms), references=list(references)
    )


def test_clean_document_has_no_findings():
    assert findings(doc(ClauseDoc("4", "要求"), ClauseDoc("4.1", "", "食堂应建立制度。"))) == []


def test_numbering_gaps_at_every_level_and_in_annexes():
    d = doc(
        ClauseDoc("4", "要求"),
        ClauseDoc("4.2", "", "甲应。"),  # 4.1 missing
        ClauseDoc("4.2.2", "", "乙应。"),  # 4.2.1 missing
        ClauseDoc("6", "评价"),  # 5 missing
        ClauseDoc("6.1.1", "", "丙应。"),  # parent 6.1 missing
        ClauseDoc("A", "附录A"),
        ClauseDoc("A.1", "", "丁。"),
        ClauseDoc("A.3", "", "戊。"),  # A.2 missing
        ClauseDoc("C", "附录C"),  # B missing
    )
    assert kinds(d) == [
        ("numbering-gap", "4.2"),
        ("numbering-gap", "4.2.2"),
        ("numbering-gap", "6"),
        ("numbering-gap", "6.1.1"),
        ("numbering-gap", "A.3"),
        ("numbering-gap", "C"),
    ]
    messages = [f.message for f in check(d)]
    assert messages[0] == "编号不连续：开头缺少 4.1（接着是 4.2）"
    assert messages[3] == "6.1.1 之前缺少上一层条款 6.1"
    assert messages[5] == "编号不连续：A 之后缺少 B（接着是 C）"


def test_numbering_order_and_duplicates():
    d = doc(
        ClauseDoc("4", "要求"),
        ClauseDoc("4.1", "", "甲应。"),
        ClauseDoc("4.2", "", "乙应。"),
        ClauseDoc("4.1", "", "丙应。"),  # duplicate (and back in order)
        ClauseDoc("5", "评价"),
        ClauseDoc("5.2", "", "丁应。\n5.1 戊应。"),  # a reader buried 5.1 in 5.2's text
    )
    assert kinds(d) == [
        ("duplicate-number", "4.1"),
        ("numbering-gap", "5.2"),
        ("numbering-order", "5.2"),
    ]


def test_modal_verbs_suggest_the_gb_t_1_1_form():
    d = doc(
        ClauseDoc("4", "要求"),
        ClauseDoc("4.1", "", "会议服务必须预约；各单位务必按时报送。"),
        ClauseDoc("4.2", "", "应当公示，禁止转借，无须审批，最好当日办结。"),
        ClauseDoc("4.3", "", "应急车辆应优先保障，供应商宜本地化，便宜的也可以。"),  # all fine
    )
    got = [(f.clause, f.message.split("”")[0].lstrip("“"), f.message.split("“")[-1][:-1])
           for f in check(d)]  # fmt: skip
    assert got == [
        ("4.1", "必须", "应”（要求"),
        ("4.1", "务必", "应”（要求"),
        ("4.2", "应当", "应”（要求"),
        ("4.2", "禁止", "不应”（要求"),
        ("4.2", "无须", "不必”（允许"),
        ("4.2", "最好", "宜”（推荐"),
    ]


def test_references_dated_undated_listed_cited():
    refs = [
        ReferenceDoc("GB/T 2589—2020 综合能耗计算通则", "GB/T 2589—2020", True),
        ReferenceDoc("GB 31654 餐饮服务通用卫生规范", "GB 31654", False),
        ReferenceDoc("GB/T 13016 第4章 标准体系构建原则", "GB/T 13016", False),
    ]
    d = doc(
        ClauseDoc("4", "要求"),
        ClauseDoc("4.1", "", "综合能耗按GB/T 2589—2020的第4章计算。"),  # dated: fine
        ClauseDoc("4.2", "", "卫生应符合GB 31654。"),  # whole document, undated: fine
        ClauseDoc("4.3", "", "体系表见GB/T 13016中表1。"),
        ClauseDoc("4.4", "", "车辆应符合GB/T 19056—2021。"),
        references=refs,
    )
    d.clauses[1].text = "下列文件……" + REFERENCES_LEAD_IN
    assert kinds(d) == [
        ("undated-reference", "2"),  # "GB/T 13016 第4章" in the list
        ("undated-reference", "4.3"),  # "GB/T 13016中表1"
        ("unlisted-reference", "4.4"),
    ]


def test_withdrawn_and_superseded_references_name_the_replacement():
    refs = [
        ReferenceDoc("GB/T 2589—2008 综合能耗计算通则", "GB/T 2589—2008", True),
        ReferenceDoc("GB/T 1 旧标准", "GB/T 1", False),
    ]
    d = doc(
        ClauseDoc("4", "要求"),
        ClauseDoc("4.1", "", "按GB/T 2589—2008计算，并符合GB/T 1。"),
        references=refs,
    )
    d.clauses[1].text = REFERENCES_LEAD_IN
    library = {
        "GB/T2589-2008": ("superseded", "GB/T 2589—2020"),
        "GB/T1": ("withdrawn", None),
    }.get
    assert findings(d, library) == [
        ("withdrawn-reference", "2", "引用的 GB/T 2589—2008 已被代替，应改为引用 GB/T 2589—2020"),
        ("withdrawn-reference", "2", "引用的 GB/T 1 已废止，且没有替代标准，应删除或改用其他文件"),
    ]
    assert findings(d, None) == []  # no library, no opinion


def test_missing_and_misplaced_mandatory_chapters():
    d = StandardDoc(
        "DB50/T 1—2026",
        "测试",
        clauses=[
            ClauseDoc("1", "范围", "本文件规定了……", "scope"),
            ClauseDoc("2", "术语和定义", TERMS_LEAD_IN, "term"),
            ClauseDoc("3", "要求"),
            ClauseDoc("3.1", "", "甲应。"),
        ],
    )
    assert findings(d) == [
        (
            "missing-chapter",
            "",
            "缺少第 2 章“规范性引用文件”（GB/T 1.1—2020 规定的必备要素，"
            "无内容时也应保留并说明“本文件没有……”）",
        ),
        ("chapter-order", "2", "“术语和定义”应为第 3 章，现为第 2 章"),
    ]


def test_terms_unused_and_used_before_definition():
    terms = [
        TermDoc("3.1", "标准明细表", "", "按标准体系框架列出的标准清单。"),  # uses 3.2
        TermDoc("3.2", "标准体系", "", "标准按其内在联系形成的有机整体。"),
        TermDoc("3.3", "复审", "", "对标准的适用性进行的评审。"),
    ]
    d = doc(
        ClauseDoc("4", "要求"),
        ClauseDoc("4.1", "", "标准明细表应每年更新。"),
        terms=terms,
    )
    d.clauses[0].text = "本文件规定了标准体系的构建。"  # the scope may name a term first
    d.clauses[2].text = TERMS_LEAD_IN
    d.clauses[3:3] = [ClauseDoc(t.number, t.term, t.definition, "term") for t in terms]
    assert findings(d) == [
        ("term-undefined-use", "3.1", "术语“标准体系”在 3.1 中使用时尚未定义（定义见 3.2）"),
        ("term-unused", "3.3", "术语“复审”已定义，但正文中没有使用"),
    ]


# -- the CLI and the library from the database ----------------------------------------------


def _cli(*args):
    out = StringIO()
    call_command("standards", "check", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.django_db
def test_check_cli_on_a_file(tmp_path):
    body = _cli(str(FIXTURES / "DB51-T-9002-2021.txt"))
    assert [(f["kind"], f["clause"]) for f in body["findings"]] == [
        ("lead-in", "2"),
        ("uncited-reference", "2"),
        ("lead-in", "3"),
        ("term-unused", "3.2"),
    ]
    draft = tmp_path / "草案.txt"
    draft.write_text(BAD_DRAFT, encoding="utf-8")
    kinds_found = {f["kind"] for f in _cli(str(draft))["findings"]}
    assert {"numbering-gap", "duplicate-number", "modal-verb", "missing-chapter"} <= kinds_found
    assert "withdrawn-reference" not in kinds_found  # the library is empty


@pytest.mark.django_db
def test_check_cli_unknown_source():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="既不是文件，也不是标准编号"):
        _cli("/nowhere/草案.txt")
    with pytest.raises(CommandError, match="标准库中没有"):
        _cli("DB50/T 9999—2030")
