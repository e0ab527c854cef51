"""NISO STS XML: export → import gives back the same StandardDoc (the fixtures, and
generated documents), the XML carries the GB/T 1.1 ↔ STS mapping, and STS written by others
(ISO STS with iso-meta, term-display) is read."""

import dataclasses
import re
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from guanjia.standards.document import ClauseDoc, ReferenceDoc, StandardDoc, TermDoc
from guanjia.standards.parsing import UnreadableFile, read_bytes
from guanjia.standards.sts import export_sts, parse_sts

from .library_fixtures import FIXTURES, doc


def roundtrip(d: StandardDoc) -> StandardDoc:
    return parse_sts(export_sts(d))


@pytest.mark.parametrize("key", sorted(FIXTURES))
def test_fixtures_round_trip(key):
    d = doc(key)
    assert roundtrip(d) == dataclasses.replace(d, source_format="sts")


def test_export_follows_the_mapping():
    xml = etree.fromstring(export_sts(doc("9001")))
    meta = xml.find("front/std-meta")
    assert meta.findtext("std-ident/originator") == "DB50"
    assert meta.findtext("std-ident/doc-type") == "T"
    assert meta.findtext("std-ident/doc-number") == "9001"
    assert meta.findtext("std-ident/version") == "2022"
    assert meta.find("std-ref").get("type") == "dated"
    assert meta.findtext("std-ref") == "DB50/T 9001—2022"
    assert meta.findtext("pub-date") == "2022-06-01"
    assert meta.findtext("ics") == "03.080"
    custom = {
        cm.findtext("meta-name"): cm.findtext("meta-value")
        for cm in meta.iterfind("custom-meta-group/custom-meta")
    }
    assert custom == {
        "ccs": "A 12",
        "issuer": "重庆市市场监督管理局",
        "effective-date": "2022-09-01",
    }
    body = xml.find("body")
    assert [s.get("sec-type") for s in body.findall("sec")[:3]] == ["scope", "norm-refs", "terms"]
    refs = body.findall("sec/ref-list[@content-type='norm-refs']/ref/std/std-ref")
    assert [(r.text, r.get("type")) for r in refs] == [
        ("GB 31654", "undated"),
        ("GB/T 2589", "undated"),
        ("DB50/T 9003—2023", "dated"),
    ]
    tbx = "{urn:iso:std:iso:30042:ed-2}"
    entry = body.find(f"sec/term-sec/{tbx}termEntry")
    assert entry.findtext(f"{tbx}langSet/{tbx}tig/{tbx}term") == "光盘率"
    assert [s.get("specific-use") for s in body.findall("sec[4]/sec")] == ["requirement"] * 3


def test_annex_and_bibliography_go_to_back():
    d = StandardDoc(
        code="DB50/T 9901—2024",
        title="示例",
        clauses=[
            ClauseDoc("1", "范围", "本文件规定了示例。", "scope"),
            ClauseDoc("A", "记录表格式", "", "heading", "normative"),
            ClauseDoc("A.1", "", "记录表应包括日期。", "requirement"),
            ClauseDoc("", "参考文献", "[1] 反食品浪费法", "informative"),
        ],
    )
    xml = etree.fromstring(export_sts(d))
    app = xml.find("back/app-group/app")
    assert (app.get("content-type"), app.findtext("annex-type")) == ("norm-annex", "(规范性)")
    assert app.findtext("sec/label") == "A.1"
    assert xml.find("back/ref-list").get("content-type") == "bibl"
    assert roundtrip(d) == dataclasses.replace(d, source_format="sts")


# -- generated documents --------------------------------------------------------------------

CJK = "机关事务标准食堂公务用车节能应宜可能不得范围术语定义要求规定管理服务评价记录统计"
TEXT_CHARS = CJK + "abcXYZ0123456789 %，。；：、（）《》“”<>&'\"—-/."


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


words = st.text(alphabet=TEXT_CHARS, min_size=1, max_size=30).map(_norm).filter(bool)
cjk_words = st.text(alphabet=CJK, min_size=1, max_size=12)
english = st.lists(
    st.sampled_from(["clean", "plate", "rate", "official", "vehicle"]), max_size=3
).map(" ".join)
paragraphs = st.lists(words, min_size=0, max_size=3).map("\n".join)
kinds = st.sampled_from(
    ["requirement", "recommendation", "permission", "possibility", "informative", "heading"]
)
dates = st.one_of(st.none(), st.dates(min_value=date(1990, 1, 1), max_value=date(2035, 12, 31)))


@st.composite
def codes(draw, year=None):
    prefix = draw(st.sampled_from(["GB", "GB/T", "DB50/T", "DB51", "JT/T", "T/CQXH"]))
    number = draw(st.integers(1, 99999))
    dash = draw(st.sampled_from(["—", "-"]))
    dated = draw(st.booleans()) if year is None else year
    y = draw(st.integers(1990, 2030))
    return f"{prefix} {number}" + (f"{dash}{y}" if dated else "")


@st.composite
def standard_docs(draw):
    clauses, terms, references = [], [], []
    clauses.append(ClauseDoc("1", "范围", draw(paragraphs), "scope"))
    n = 2
    if draw(st.booleans()):
        clauses.append(ClauseDoc(str(n), "规范性引用文件", draw(paragraphs), "references"))
        for _ in range(draw(st.integers(0, 4))):
            code = draw(codes())
            title = draw(st.one_of(st.just(""), words))
            raw = draw(st.one_of(st.just(f"{code} {title}".strip()), words))
            references.append(ReferenceDoc(raw, code, "—" in code or "-" in code, title))
        n += 1
    if draw(st.booleans()):
        clauses.append(ClauseDoc(str(n), "术语和定义", draw(paragraphs), "term"))
        for j in range(1, draw(st.integers(0, 3)) + 1):
            term, definition = draw(cjk_words), draw(st.lists(words, min_size=1, max_size=2))
            definition = "\n".join(definition)
            terms.append(TermDoc(f"{n}.{j}", term, draw(english), definition))
            clauses.append(ClauseDoc(f"{n}.{j}", term, definition, "term"))
        n += 1
    for _ in range(draw(st.integers(0, 4))):
        clauses.append(ClauseDoc(str(n), draw(cjk_words), "", "heading"))
        for j in range(1, draw(st.integers(0, 3)) + 1):
            clauses.append(ClauseDoc(f"{n}.{j}", "", draw(paragraphs), draw(kinds)))
            for k in range(1, draw(st.integers(0, 2)) + 1):
                clauses.append(ClauseDoc(f"{n}.{j}.{k}", "", draw(words), draw(kinds)))
        n += 1
    for letter in "AB"[: draw(st.integers(0, 2))]:
        annex = draw(st.sampled_from(["normative", "informative", ""]))
        clauses.append(ClauseDoc(letter, draw(cjk_words), draw(paragraphs), "heading", annex))
        for j in range(1, draw(st.integers(0, 2)) + 1):
            clauses.append(ClauseDoc(f"{letter}.{j}", "", draw(words), draw(kinds)))
    if draw(st.booleans()):
        clauses.append(ClauseDoc("", "参考文献", draw(paragraphs), "informative"))
    return StandardDoc(
        code=draw(codes(year=True)),
        title=draw(words),
        english_title=draw(english),
        ics=draw(st.sampled_from(["", "03.080", "03.120.10"])),
        ccs=draw(st.sampled_from(["", "A 12", "A 00"])),
        issuer=draw(st.one_of(st.just(""), cjk_words)),
        issue_date=draw(dates),
        effective_date=draw(dates),
        replaces=draw(st.lists(codes(year=True), max_size=2)),
        foreword=draw(paragraphs),
        clauses=clauses,
        terms=terms,
        references=references,
        source_format="sts",
        stage=draw(st.sampled_from(["", "drafting", "soliciting"])),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(standard_docs())
def test_export_then_import_is_the_identity(d):
    assert roundtrip(d) == d


# -- STS written elsewhere ------------------------------------------------------------------

DOCTYPE = (
    b'<!DOCTYPE standard PUBLIC "-//NISO//DTD NISO STS Interchange Tag Set (NISO STS) DTD'
    b' with MathML 2.0 v1.0//EN" "NISO-STS-interchange-1-mathml2.dtd">'
)
ISO_STS = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    + DOCTYPE
    + b"""
<standard xmlns:xlink="http://www.w3.org/1999/xlink"
          xmlns:tbx="urn:iso:std:iso:30042:ed-1">
  <front>
    <iso-meta>
      <title-wrap xml:lang="en">
        <main>Quality management systems &#8212; Requirements</main>
      </title-wrap>
      <std-ident><originator>ISO</originator><doc-type>is</doc-type>
        <doc-number>9001</doc-number><edition>5</edition></std-ident>
      <std-ref type="dated">ISO 9001:2015</std-ref>
      <pub-date>2015-09-15</pub-date>
    </iso-meta>
  </front>
  <body>
    <sec id="sec_1" sec-type="scope"><label>1</label><title>Scope</title>
      <p>This document specifies requirements for a
         <italic>quality management system</italic>.</p></sec>
    <sec id="sec_2" sec-type="norm-refs"><label>2</label><title>Normative references</title>
      <ref-list content-type="norm-refs">
        <ref><std><std-ref>ISO 9000:2015</std-ref>, <title>Fundamentals</title></std></ref>
      </ref-list></sec>
    <sec id="sec_3" sec-type="terms"><label>3</label><title>Terms and definitions</title>
      <term-sec id="sec_3.1"><label>3.1</label>
        <tbx:termEntry id="t1"><tbx:langSet xml:lang="en">
          <tbx:definition>reference level for soundings</tbx:definition>
          <tbx:tig><tbx:term>chart datum</tbx:term></tbx:tig>
        </tbx:langSet></tbx:termEntry></term-sec>
      <term-sec id="sec_3.2"><label>3.2</label>
        <term-display><term>ANSI</term><def><p>American National Standards Institute</p></def>
        </term-display></term-sec>
    </sec>
    <sec id="sec_4"><label>4</label><title>Context</title>
      <sec id="sec_4.1"><label>4.1</label><p>The organization shall determine issues.</p></sec>
    </sec>
  </body>
</standard>"""
)


def test_iso_sts_is_read():
    d = read_bytes(ISO_STS, "iso-9001.xml")
    assert (d.code, d.title, d.issue_date) == (
        "ISO 9001:2015",
        "Quality management systems — Requirements",
        date(2015, 9, 15),
    )
    assert [(c.number, c.kind) for c in d.clauses] == [
        ("1", "scope"),
        ("2", "references"),
        ("3", "term"),
        ("3.1", "term"),
        ("3.2", "term"),
        ("4", "heading"),
        ("4.1", "informative"),
    ]
    assert (
        d.clauses[0].text == "This document specifies requirements for a quality management system."
    )
    assert d.terms == [
        TermDoc("3.1", "chart datum", "", "reference level for soundings"),
        TermDoc("3.2", "ANSI", "", "American National Standards Institute"),
    ]
    assert d.references == [
        ReferenceDoc("ISO 9000:2015 Fundamentals", "ISO 9000:2015", True, "Fundamentals")
    ]


def test_entities_and_dtds_are_not_resolved():
    evil = (
        b'<?xml version="1.0"?><!DOCTYPE standard [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<standard><front><std-meta><std-ref>GB 1-2020</std-ref>"
        b"<title-wrap><main>&x;</main></title-wrap></std-meta></front></standard>"
    )
    d = parse_sts(evil)
    assert "root" not in d.title


def test_sts_without_a_code_is_refused():
    with pytest.raises(UnreadableFile, match="标准编号"):
        parse_sts(b"<standard><front><std-meta/></front><body/></standard>")
