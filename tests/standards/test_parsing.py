"""Reading standards' text: the three fixtures, and the variants real files bring (full-width
characters, any dash, "GB/T2589", wrapped lines, page headers and footers, blank lines,
Markdown, Word, GBK), GB/T 1.1 clause types, unreadable files."""

import io
from datetime import date

import pytest

from guanjia.standards.document import ReferenceDoc, TermDoc
from guanjia.standards.parsing import (
    UnreadableFile,
    kind_of,
    parse_docx,
    parse_markdown,
    parse_text,
    read_bytes,
    read_file,
)

from .library_fixtures import FIXTURES, doc, text

# -- the fixtures ---------------------------------------------------------------------------


def test_fixture_9001_cover_and_foreword():
    d = doc("9001")
    assert d.code == "DB50/T 9001—2022"
    assert d.title == "机关食堂反食品浪费工作规范"
    assert d.english_title == "Specification for anti-food-waste work of government canteens"
    assert (d.ics, d.ccs) == ("03.080", "A 12")
    assert d.issue_date == date(2022, 6, 1) and d.effective_date == date(2022, 9, 1)
    assert d.issuer == "重庆市市场监督管理局"
    assert d.foreword.startswith("本文件按照GB/T 1.1—2020《标准化工作导则")
    assert d.foreword.count("\n") == 2  # three sentences, three paragraphs
    assert d.replaces == [] and d.stage == ""


def test_fixture_9001_clauses():
    d = doc("9001")
    assert len(d.clauses) == 29
    numbers = [c.number for c in d.clauses]
    assert numbers[:6] == ["1", "2", "3", "3.1", "3.2", "3.3"]
    assert numbers[-1] == "9.3"
    by = {c.number: c for c in d.clauses}
    assert (by["1"].title, by["1"].kind) == ("范围", "scope")
    assert by["1"].text.count("\n") == 1
    assert (by["2"].title, by["2"].kind) == ("规范性引用文件", "references")
    assert "GB 31654" not in by["2"].text  # the reference lines are references, not text
    assert (by["3"].kind, by["3"].text) == ("term", "下列术语和定义适用于本文件。")
    assert (by["4"].title, by["4"].text, by["4"].kind) == ("基本要求", "", "heading")
    assert (
        by["4.2"].text == "食堂应按日记录就餐人数、供餐量、剩余量和餐厨垃圾量，记录保存不少于2年。"
    )
    assert by["4.3"].kind == "requirement"  # 应 … 不宜: the stronger form
    assert by["6.1"].kind == "recommendation"
    assert by["8.2"].kind == "requirement"
    assert [c.depth for c in d.clauses[:4]] == [1, 1, 1, 2]


def test_fixture_9001_terms_and_references():
    d = doc("9001")
    assert d.terms[0] == TermDoc(
        "3.1",
        "光盘率",
        "clean plate rate",
        "统计期内就餐后餐盘中无剩余食物的就餐人次占就餐总人次的百分比。",
    )
    assert [t.term for t in d.terms] == ["光盘率", "人均餐厨垃圾量", "倾销量"]
    by = {c.number: c for c in d.clauses}
    assert (by["3.1"].title, by["3.1"].kind) == ("光盘率", "term")
    assert d.references == [
        ReferenceDoc(
            "GB 31654 食品安全国家标准 餐饮服务通用卫生规范",
            "GB 31654",
            False,
            "食品安全国家标准 餐饮服务通用卫生规范",
        ),
        ReferenceDoc("GB/T 2589 综合能耗计算通则", "GB/T 2589", False, "综合能耗计算通则"),
        ReferenceDoc(
            "DB50/T 9003—2023 机关事务标准体系编制指南",
            "DB50/T 9003—2023",
            True,
            "机关事务标准体系编制指南",
        ),
    ]


def test_fixture_9003_and_9002():
    d3 = doc("9003")
    assert (d3.code, d3.title, len(d3.clauses), len(d3.terms)) == (
        "DB50/T 9003—2023",
        "机关事务标准体系编制指南",
        29,
        2,
    )
    assert d3.foreword == ""
    assert d3.effective_date == date(2023, 4, 10)
    by = {c.number: c for c in d3.clauses}
    assert (by["5.1"].title, by["5.1"].kind) == ("总体结构", "informative")
    assert by["5.1"].text.startswith("机关事务标准体系由")
    assert (by["5.2"].title, by["5.2"].kind) == ("基础子体系", "heading")
    assert by["5.3.7"].text == "机关运行经费管理。"
    assert by["6.2"].kind == "recommendation"
    assert [(r.code, r.dated) for r in d3.references] == [
        ("GB/T 1.1—2020", True),
        ("GB/T 13016", False),
    ]
    d2 = doc("9002")
    assert (d2.code, d2.title, len(d2.clauses), len(d2.terms)) == (
        "DB51/T 9002—2021",
        "党政机关公务用车使用管理规范",
        28,
        3,
    )
    assert d2.issuer == "四川省市场监督管理局"
    by = {c.number: c for c in d2.clauses}
    assert by["4.3"].kind == "requirement"  # 应急保障用车 … 不应超过
    assert by["4.4"].kind == "requirement"  # 新能源 is not 能
    assert by["7.1"].kind == "permission"
    assert by["3.1"].title == "公务用车" and "应急保障用车" in by["3.1"].text
    assert [(r.code, r.dated) for r in d2.references] == [
        ("JT/T 808—2019", True),
        ("GB/T 19056", False),
    ]


# -- verbal forms ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("食堂应建立制度。", "requirement"),
        ("排气量不应超过1.8升。", "requirement"),
        ("公务用车不得私用。", "requirement"),
        ("偏差率不宜超过10%。", "recommendation"),
        ("午餐宜按三荤两素配置。", "recommendation"),
        ("可申请更新。", "permission"),
        ("不必每日上报。", "permission"),
        ("系统能够自动预警。", "possibility"),
        ("该设备不能在低温下工作。", "possibility"),
        ("应急保障用车的配备情况。", "informative"),
        ("新能源汽车与节能管理。", "informative"),
        ("适宜的温度与可靠的供应。", "informative"),
        ("可能影响供餐。", "possibility"),
        ("食堂应提供小份菜，宜提供半份。", "requirement"),
        ("统计方法见附录A。\n注：本条可参照执行。", "informative"),  # notes do not count
    ],
)
def test_kind_of_follows_gbt_1_1_annex_c(text, kind):
    assert kind_of(text) == kind


# -- variants -------------------------------------------------------------------------------

FULL_WIDTH = str.maketrans(
    {
        **{chr(0x30 + i): chr(0xFF10 + i) for i in range(10)},
        **{chr(0x41 + i): chr(0xFF21 + i) for i in range(26)},
        " ": "\u3000",
        "/": "／",
        ".": "．",
    }
)


def _same_content(a, b):
    assert [(c.number, c.title, c.text, c.kind) for c in a.clauses] == [
        (c.number, c.title, c.text, c.kind) for c in b.clauses
    ]
    assert a.terms == b.terms
    assert (a.code, a.title, a.issue_date, a.effective_date) == (
        b.code,
        b.title,
        b.issue_date,
        b.effective_date,
    )


@pytest.mark.parametrize("key", sorted(FIXTURES))
def test_full_width_digits_letters_and_spaces(key):
    original = doc(key)
    # English stays half-width (it is not what full-width conversion touches in practice).
    lines = [
        line if line.isascii() and line[:1].isalpha() else line.translate(FULL_WIDTH)
        for line in text(key).splitlines()
    ]
    variant = parse_text("\n".join(lines))
    _same_content(variant, original)
    assert [(r.code.replace(" ", ""), r.dated) for r in variant.references] == [
        (r.code.replace(" ", ""), r.dated) for r in original.references
    ]


def test_hyphen_instead_of_em_dash_and_no_space_after_gbt():
    source = text("9001").replace("—", "-").replace("GB/T 2589", "GB/T2589")
    d = parse_text(source)
    assert d.code == "DB50/T 9001—2022"  # stored in the printed form
    assert [(r.code, r.dated) for r in d.references] == [
        ("GB 31654", False),
        ("GB/T2589", False),
        ("DB50/T 9003-2023", True),
    ]
    _same_content(d, doc("9001"))


def _wrap(line: str, width: int) -> list[str]:
    return [line[i : i + width] for i in range(0, len(line), width)] or [""]


def test_wrapped_lines_are_joined():
    lines = []
    for line in text("9002").splitlines():
        # A PDF wraps body text, never the number lines or the term lines.
        if (line[:1].isdigit() and "。" in line) or line.endswith("。"):
            lines += _wrap(line, 17)
        else:
            lines.append(line)
    d = parse_text("\n".join(lines))
    _same_content(d, doc("9002"))


def test_page_headers_footers_and_blank_lines_are_dropped():
    out = []
    for i, line in enumerate(text("9001").splitlines()):
        out += [line, ""]
        if i > 12 and i % 9 == 0:  # after the cover: a page break
            out += ["", f"- {i // 9} -", "", "DB50/T 9001—2022", ""]
    d = parse_text("\n".join(out))
    _same_content(d, doc("9001"))
    assert d.foreword == doc("9001").foreword


def test_clause_number_followed_by_title_or_text_and_term_on_one_line():
    d = parse_text(
        "DB50/T 9901—2024\n示例标准\n1 范围\n本文件规定了示例。\n3 术语和定义\n"
        "3.1 光盘率 clean plate rate\n就餐后无剩余的比例。\n4 要求\n4.1 总体要求\n"
        "4.1.1 食堂应建立制度。\n4.2食堂宜公示。\n"
    )
    assert [(c.number, c.title, c.kind) for c in d.clauses] == [
        ("1", "范围", "scope"),
        ("3", "术语和定义", "term"),
        ("3.1", "光盘率", "term"),
        ("4", "要求", "heading"),
        ("4.1", "总体要求", "heading"),
        ("4.1.1", "", "requirement"),
        ("4.2", "", "recommendation"),
    ]
    assert d.terms == [TermDoc("3.1", "光盘率", "clean plate rate", "就餐后无剩余的比例。")]


def test_numbers_in_wrapped_text_are_not_clauses():
    d = parse_text(
        "DB50/T 9902—2024\n示例标准\n1 范围\n本文件规定了示例。\n4 要求\n"
        "4.1 库存周转天数不应超过\n7 天。\n4.2 单次采购超过5000元的，询价不少于\n3 家供应商。\n"
        "4.3 高度不应超过\n2.5 米。\n"
    )
    assert [c.number for c in d.clauses] == ["1", "4", "4.1", "4.2", "4.3"]
    by = {c.number: c for c in d.clauses}
    assert by["4.1"].text == "库存周转天数不应超过7 天。"
    assert by["4.3"].text == "高度不应超过2.5 米。"


def test_toc_foreword_replaces_annex_and_bibliography():
    d = parse_text(
        "ICS 03.080\nCCS A 12\nDB50\n重庆市地方标准\nDB50/T 9001—2025\n代替DB50/T 9001—2022\n"
        "机关食堂反食品浪费\n工作规范\nSpecification for anti-food-waste work\nof canteens\n"
        "2025-06-01发布 2025-09-01实施\n重庆市市场监督管理局 发 布\n"
        "目 次\n前言 .......... II\n1 范围 .......... 1\n附录A（资料性）记录表 ..... 5\n"
        "前 言\n本文件代替DB50/T 9001—2022《机关食堂反食品浪费工作规范》，与DB50/T 9001—2022"
        "相比，主要技术变化如下：\n——更改了光盘率要求。\n"
        "1 范围\n本文件规定了要求。\n2 规范性引用文件\n本文件没有规范性引用文件。\n"
        "3 要求\n3.1 食堂应记录。\n"
        "附 录 A\n（资料性）\n记录表格式\nA.1 记录表应包括日期。\nA.2 记录表宜按月装订。\n"
        "附录B（规范性）计算方法\nB.1 光盘率按月计算。\n参 考 文 献\n[1] 反食品浪费法\n"
    )
    assert d.code == "DB50/T 9001—2025"
    assert d.title == "机关食堂反食品浪费工作规范"
    assert d.english_title == "Specification for anti-food-waste work of canteens"
    assert d.replaces == ["DB50/T 9001—2022"]
    assert d.foreword.endswith("——更改了光盘率要求。")
    assert [(c.number, c.title, c.kind, c.annex) for c in d.clauses] == [
        ("1", "范围", "scope", ""),
        ("2", "规范性引用文件", "references", ""),
        ("3", "要求", "heading", ""),
        ("3.1", "", "requirement", ""),
        ("A", "记录表格式", "heading", "informative"),
        ("A.1", "", "requirement", ""),
        ("A.2", "", "recommendation", ""),
        ("B", "计算方法", "heading", "normative"),
        ("B.1", "", "informative", ""),
        ("", "参考文献", "informative", ""),
    ]
    assert d.references == []
    assert d.clauses[-1].text == "[1] 反食品浪费法"


def test_drafts_carry_their_stage():
    d = parse_text("DB50/T 9903—2026\n示例标准\n（征求意见稿）\n1 范围\n本文件规定了示例。\n")
    assert (d.stage, d.title) == ("soliciting", "示例标准")


def test_markdown():
    md = "\n".join(
        ("## " + line if line[:1].isdigit() and " " in line[:5] else line)
        for line in text("9003").splitlines()
    ).replace("机关事务标准体系编制指南\n", "**机关事务标准体系编制指南**\n", 1)
    d = parse_markdown(md)
    _same_content(d, doc("9003"))
    assert d.source_format == "md"


def test_gbk_encoded_text():
    d = read_bytes(text("9002").encode("gb18030"), "DB51-T-9002-2021.txt")
    _same_content(d, doc("9002"))


def test_read_file_from_disk():
    d = read_file(FIXTURES["9001"])
    assert (d.code, d.source_format) == ("DB50/T 9001—2022", "txt")


# -- Word -----------------------------------------------------------------------------------


def _docx_bytes(lines, table=None) -> bytes:
    import docx

    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    if table:
        t = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                t.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_docx_in_the_same_layout(tmp_path):
    path = tmp_path / "DB50-T-9001-2022.docx"
    path.write_bytes(_docx_bytes(text("9001").splitlines()))
    d = read_file(path)
    _same_content(d, doc("9001"))
    assert d.references == doc("9001").references
    assert d.source_format == "docx"


def test_docx_automatic_numbering_is_written_back():
    """Word's own numbering ("%1", "%1.%2" on heading styles) is not in the paragraph text;
    the reader counts it as Word does and puts the number back."""
    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = docx.Document()
    numbering = document.part.numbering_part.element
    numbering.append(
        parse_xml(
            f'<w:abstractNum {nsdecls("w")} w:abstractNumId="90">'
            '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/>'
            '<w:lvlText w:val="%1"/></w:lvl>'
            '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/>'
            '<w:lvlText w:val="%1.%2"/></w:lvl></w:abstractNum>'
        )
    )
    numbering.append(
        parse_xml(f'<w:num {nsdecls("w")} w:numId="90"><w:abstractNumId w:val="90"/></w:num>')
    )

    def numbered(text_, level):
        p = document.add_paragraph(text_)
        p._p.get_or_add_pPr().append(
            parse_xml(
                f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{level}"/><w:numId w:val="90"/></w:numPr>'
            )
        )

    for line in ("DB50/T 9904—2024", "自动编号示例"):
        document.add_paragraph(line)
    numbered("范围", 0)
    document.add_paragraph("本文件规定了示例。")
    numbered("要求", 0)
    numbered("食堂应建立制度。", 1)
    numbered("食堂宜公示。", 1)
    out = io.BytesIO()
    document.save(out)
    d = parse_docx(out.getvalue())
    assert [(c.number, c.title, c.kind) for c in d.clauses] == [
        ("1", "范围", "scope"),
        ("2", "要求", "heading"),
        ("2.1", "", "requirement"),
        ("2.2", "", "recommendation"),
    ]


def test_docx_tables_become_lines():
    data = _docx_bytes(
        [
            "DB50/T 9905—2024",
            "表格示例",
            "1 范围",
            "本文件规定了示例。",
            "2 要求",
            "2.1 应按下表配置：",
        ],
        table=[["车型", "排气量"], ["轿车", "1.6升"]],
    )
    d = parse_docx(data)
    assert d.clauses[-1].text == "应按下表配置：\n| 车型 | 排气量 |\n| 轿车 | 1.6升 |"


# -- unreadable -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.txt", b"\x00\x01\x02binary\x00" * 10, "二进制"),
        ("a.txt", b"\xff\xfe\xfa" + bytes(range(128, 256)) * 3, "编码"),
        ("a.docx", b"PK\x03\x04 not really a zip", "Word"),
        ("a.xml", b"<standard><front>", "XML"),
        ("a.xml", b"<html><body/></html>", "NISO STS"),
        ("a.pdf", b"%PDF-1.7", "不支持"),
        ("a.txt", b"   \n  ", "为空"),
    ],
)
def test_unreadable_files_say_why_in_chinese(name, content, message):
    with pytest.raises(UnreadableFile, match=message):
        read_bytes(content, name)


def test_missing_file(tmp_path):
    with pytest.raises(UnreadableFile, match="不存在"):
        read_file(tmp_path / "nope.txt")


def test_docx_cover_in_a_table():
    data = _docx_bytes(
        ["1 范围", "本文件规定了示例。"],
        table=[["ICS 03.080", "CCS A 12"], ["2024-01-10发布", "2024-03-01实施"]],
    )
    import docx

    document = docx.Document(io.BytesIO(data))
    body = document.element.body
    table = body.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}tbl")
    body.remove(table)
    body.insert(0, table)  # the cover table first, then code and title, then the clauses
    first = document.paragraphs[0]
    first.insert_paragraph_before("DB50/T 9906—2024")
    first.insert_paragraph_before("表格封面示例")
    out = io.BytesIO()
    document.save(out)
    d = parse_docx(out.getvalue())
    assert (d.ics, d.ccs, d.code, d.title) == ("03.080", "A 12", "DB50/T 9906—2024", "表格封面示例")
    assert (d.issue_date, d.effective_date) == (date(2024, 1, 10), date(2024, 3, 1))
    assert [c.number for c in d.clauses] == ["1"]
