"""Reading a standard's text into a `StandardDoc`: the GB/T 1.1 layout as it comes out of a
PDF or a Word file (.txt, .md, .docx; NISO STS XML is in `sts.py`).

The layout (see the fixtures): a cover block (ICS, CCS, level, code, title, English title,
"YYYY-MM-DD发布 … YYYY-MM-DD实施", "… 发 布"), an optional table of contents, the foreword
(前言, whose "代替…" sentences name the editions this one replaces), an optional introduction
(引言), then numbered clauses: "1 范围", "4.2 text", "3.1" on its own line followed by the
term line "光盘率 clean plate rate" and the definition; annexes "附录A" with "A.1"…; 参考文献.

Real files bend that layout: full-width digits, letters and spaces, any dash in codes, "GB/T"
with or without a space, clause numbers followed by a title or by text, page headers and
footers and blank lines left by PDF conversion, text wrapped over several lines. The reader
is line based: it normalises each line, drops page furniture, recognises clause numbers only
where they continue the numbering plausibly (so "2.5倍" at the start of a wrapped line is not
clause 2.5), and joins wrapped lines by punctuation.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.utils.translation import gettext as _

from .codes import CODE_IN_TEXT, parse_code
from .document import ClauseDoc, ReferenceDoc, StandardDoc, TermDoc

SUPPORTED_SUFFIXES = {
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
    ".docx": "docx",
    ".xml": "sts",
}


class UnreadableFile(ValueError):
    """The file cannot be read as a standard; the message says why, in Chinese."""


# -- verbal forms (GB/T 1.1—2020 附录C) ---------------------------------------------------

# Words that contain 应/宜/可/能 without being the verbal form: 应急, 适宜, 许可, 能源 …
_NOT_VERBAL = re.compile(
    "|".join(
        [
            # 应
            r"应急|供应|相应|适应|对应|反应|响应|效应|回应|感应|呼应|顺应|答应|照应|报应",
            r"应收(?:账款|款)|应付(?:账款|款|职工)|应届|应聘|应邀|应征|应变|应试|应酬|应运",
            r"(?:推广|技术|信息化|集成|示范|创新)应用|应用(?:程序|系统|软件|场景|平台|领域|技术)",
            # 宜
            r"适宜|便宜|事宜|因地制宜|宜居|权宜|时宜|宜宾|宜昌|宜春|宜兴|宜良",
            # 可
            r"许可|认可|可靠|可行|可持续|可回收|可追溯|可视化?|可控|可用性|可用率|可再生|可燃",
            r"可比|可读|可信|可操作|可及性?|不可或缺|可见|可观|可调节?|可达|可移动|可拆卸|可逆",
            r"可替代|可降解|可循环|可吸入|可食用|可识别|可扩展|可量化|可测量?|即可|宁可|可是",
            r"可口|可爱|可怜|可疑|可惜|可谓|可喜|可贵|可笑|可乐|可塑|可溶|可变|可能性",
            # 能
            r"能源|节能|功能|能耗|能效|职能|智能|性能|技能|效能|动能|热能|电能|太阳能|储能",
            r"赋能|能量|能级|体能|本能|才能|能力|产能|核能|风能|潜能|机能|全能|万能|光能",
            r"能手|能人|用能|耗能|低能|高能",
        ]
    )
)
# Strongest first: a clause with 应 and 不宜 is a requirement.
_VERBAL_FORMS = (
    ("possibility", re.compile(r"不可能|可能|能够|不能|能")),
    ("requirement", re.compile(r"不应|应当|应该|应|不得|必须|严禁|禁止|不准许|不允许|不可|须")),
    ("recommendation", re.compile(r"不宜|宜")),
    ("permission", re.compile(r"不必|无须|无需|不需要|可以|允许|可")),
)
_STRENGTH = ("requirement", "recommendation", "permission", "possibility")
_NOTE = re.compile(r"^(?:注\s*\d*\s*[:：]|示例\s*\d*\s*[:：]|\[来源|【来源)")


def verbal_forms(text: str) -> set[str]:
    """The clause types whose verbal forms occur in `text` (notes and examples left out)."""
    body = "\n".join(p for p in (text or "").split("\n") if not _NOTE.match(p.strip()))
    body = _NOT_VERBAL.sub("□", body)
    found = set()
    for kind, pattern in _VERBAL_FORMS:
        if pattern.search(body):
            found.add(kind)
            if kind == "possibility":  # 可能/不能 must not count again as 可 or 不…
                body = pattern.sub("□", body)
            if kind == "requirement":  # 不允许/不可 are not 允许/可
                body = pattern.sub("□", body)
    return found


def kind_of(text: str) -> str:
    """A clause's type from its verbal forms: 应/不应 requirement, 宜/不宜 recommendation,
    可/不必 permission, 能/不能 possibility; none of them: a statement (informative)."""
    found = verbal_forms(text)
    return next((k for k in _STRENGTH if k in found), "informative")


# -- lines --------------------------------------------------------------------------------

_WIDTH = {0x3000: " ", 0x00A0: " ", 0x2002: " ", 0x2003: " ", 0x2009: " ", 0xFEFF: None}
_WIDTH |= {0xFF10 + i: chr(0x30 + i) for i in range(10)}  # ０-９
_WIDTH |= {0xFF21 + i: chr(0x41 + i) for i in range(26)}  # Ａ-Ｚ
_WIDTH |= {0xFF41 + i: chr(0x61 + i) for i in range(26)}  # ａ-ｚ
_WIDTH |= {0xFF0F: "/", 0xFF0E: "."}  # ／ ．
_CJK = r"\u3400-\u9fff\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{_CJK}]")
_SPACE_BETWEEN_CJK = re.compile(f"(?<=[{_CJK}])\\s+(?=[{_CJK}])")


def normalize_line(line: str) -> str:
    """Full-width digits, letters, slash, dot and spaces to half-width (Chinese punctuation
    stays as written), whitespace runs to one space, trimmed."""
    line = line.translate(_WIDTH)
    return re.sub(r"[ \t\r\f\v]+", " ", line).strip()


def _squeezed(line: str) -> str:
    return re.sub(r"\s+", "", line)


def _title_text(text: str) -> str:
    """A heading as printed, without the letter-spacing of PDFs ("范 围" → "范围")."""
    return _SPACE_BETWEEN_CJK.sub("", text).strip()


_PAGE_NUMBER = re.compile(
    r"^(?:[-—–\s]*\d{1,3}[-—–\s]*|[IVXLivxl]{1,6}|第\s*\d+\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?"
    r"|\d+\s*/\s*\d+)$"
)
_TOC_ENTRY = re.compile(r"(?:\.{3,}|…{2,}|·{3,}|-{4,})\s*[IVXivx\d]*\s*$")
_SENTENCE_END = tuple("。；：！？;:!?")
_NEW_PARAGRAPH = re.compile(
    r"^(?:\||[a-z][)）]|\d{1,2}[)）]|[（(][a-z\d]{1,2}[)）]|——|—|·|•|-\s|[*+]\s"
    r"|注\s*\d*\s*[:：]|示例\s*\d*\s*[:：]|\[来源|【来源|表\s*[A-Z]?\.?\d|图\s*[A-Z]?\.?\d)"
)


def _join(paragraphs: list[str], line: str, *, code_starts: bool = False) -> None:
    """Add `line` to the paragraphs: a continuation of the last one when that did not end
    a sentence (PDF line wrapping), else a new paragraph."""
    if paragraphs:
        last = paragraphs[-1]
        new = (
            last.endswith(_SENTENCE_END)
            or _NEW_PARAGRAPH.match(line)
            or (code_starts and _code_at_start(line) is not None)
        )
        if not new:
            a, b = last[-1:], line[:1]
            # English words wrap at spaces (the space is lost); numbers wrap anywhere.
            words = a.isascii() and b.isascii() and a.isalnum() and b.isalnum()
            glue = " " if words and not (a.isdigit() and b.isdigit()) else ""
            paragraphs[-1] = last + glue + line
            return
    paragraphs.append(line)


def _code_at_start(line: str):
    """(code as written, rest) when `line` begins with a standard code."""
    m = CODE_IN_TEXT.match(line)
    if not m:
        return None
    written = m.group(0).strip()
    rest = line[m.end() :]
    iso_year = re.match(r"\s*:\s*(\d{4})", rest)  # ISO 9001:2015
    if iso_year:
        written += f":{iso_year.group(1)}"
        rest = rest[iso_year.end() :]
    if rest and rest[0].isascii() and rest[0].isalnum():
        return None  # "GB/T 2589a", "GBX…": not a code followed by a title
    try:
        code = reference_code(written)
    except ValueError:
        return None
    return written, code, rest.strip(" \t:：,，")


def reference_code(written: str):
    """Parse a code as written in a reference ("ISO 9001:2015" included)."""
    return parse_code(re.sub(r":\s*(\d{4})$", r"-\1", written))


# -- clause numbers -----------------------------------------------------------------------

_NUMBER = re.compile(
    r"^(?P<num>\d{1,3}(?:\.\d{1,3}){0,5}|[A-Z](?:\.\d{1,3}){1,5})"
    rf"(?:\s+(?P<rest>.+)|(?P<glued>[{_CJK}].*))?$"
)
_TITLE_PUNCT = re.compile(r"[。，；：、,;:！？!?]")


def _as_tuple(number: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in number.split("."))


def _title_like(text: str, *, chapter: bool = False) -> bool:
    """A heading rather than a sentence: short, no sentence punctuation; below chapter level
    also no verbal form (so "4.2 食堂应建立台账" is text, "5.1 总体结构" a title)."""
    return (
        0 < len(text) <= 40
        and not _TITLE_PUNCT.search(text)
        and bool(_CJK_CHAR.search(text))
        and (chapter or kind_of(text) == "informative")
    )


def _plausible(prev: tuple | None, cand: tuple, annex: str | None) -> bool:
    """Does `cand` continue the numbering after `prev`? Siblings and children, and the next
    number of an ancestor, with small gaps (a gap is a drafting error to report, not a
    reason to lose the clause); a repeated number too (a duplicate to report)."""
    if isinstance(cand[0], str) != bool(annex) or (annex and cand[0] != annex):
        return False
    if prev is None:
        return True
    if isinstance(prev[0], str) != isinstance(cand[0], str):
        return False
    k = len(cand)
    if k == len(prev) + 1:
        return cand[:-1] == prev and 1 <= cand[-1] <= 3
    if k <= len(prev) and cand[: k - 1] == prev[: k - 1]:
        if isinstance(cand[k - 1], str):
            return False
        return prev[k - 1] <= cand[k - 1] <= prev[k - 1] + 3 and (
            cand[k - 1] != prev[k - 1] or k == len(prev)
        )
    return False


# -- cover --------------------------------------------------------------------------------

_DATE = r"(\d{4})\s*[-—－.年/]\s*(\d{1,2})\s*[-—－.月/]\s*(\d{1,2})\s*日?"
_ISSUED = re.compile(_DATE + r"\s*发\s*布")
_EFFECTIVE = re.compile(_DATE + r"\s*实\s*施")
_ISSUER = re.compile(r"^(?P<who>\D+?)\s*发\s*布$")
_STAGES = (
    ("征求意见稿", "soliciting"),
    ("送审稿", "under_review"),
    ("报批稿", "approved"),
    ("工作组讨论稿", "drafting"),
    ("草案", "drafting"),
)
_LEVEL_TEXT = re.compile(r"(?:国家标准|行业标准|地方标准|团体标准|企业标准|标准化指导性技术文件)$")
_PREFIX_ONLY = re.compile(
    r"^(?:GB(?:/[TZ])?|DB\d{2,6}(?:/T)?|[A-Z]{2,4}(?:/T)?|T/[A-Z]+|Q/[A-Z]+)$"
)


def _date(m) -> date | None:
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _whole_code(line: str) -> str | None:
    """The line is a standard code and nothing else (the cover's code line)."""
    squeezed = _squeezed(line)
    try:
        code = parse_code(squeezed)
    except ValueError:
        return None
    return line.strip() if code.number else None


def _replaced_in(text: str) -> list[str]:
    """Codes named after "代替" in `text` ("本文件代替DB50/T 9001—2019《…》，与…相比")."""
    found = []
    for m in re.finditer(r"代\s*替", text):
        span = re.split(r"[。；;]|，\s*与|,\s*与|相比", text[m.end() :], maxsplit=1)[0]
        for c in CODE_IN_TEXT.finditer(span):
            written = c.group(0).strip()
            try:
                parse_code(written)
            except ValueError:
                continue
            found.append(written)
    return found


def _dedupe_codes(codes: list[str]) -> list[str]:
    seen, out = set(), []
    for code in codes:
        key = parse_code(code).key
        if key not in seen:
            seen.add(key)
            out.append(code)
    return out


@dataclass
class _Cover:
    doc: StandardDoc
    title_lines: list[str] = field(default_factory=list)
    english_lines: list[str] = field(default_factory=list)
    seen_code: bool = False

    def read(self, line: str) -> None:
        if line.startswith("|") and line.endswith("|"):  # a cover laid out in a Word table
            for cell in line.strip("|").split(" | "):
                if cell.strip():
                    self.read(cell.strip())
            return
        doc, squeezed = self.doc, _squeezed(line)
        if m := re.match(r"^ICS\s*[:：]?\s*(.+)$", line, re.I):
            doc.ics = m.group(1).strip()
            return
        if m := re.match(r"^CCS\s*[:：]?\s*(.+)$", line, re.I):
            doc.ccs = m.group(1).strip()
            return
        if not self.seen_code and not doc.ccs and re.match(r"^[A-Z]\s?\d{2}$", line):
            doc.ccs = line  # pre-2020 covers print the CCS (中国标准文献分类号) bare
            return
        if squeezed.startswith("备案号"):
            return
        for marker, stage in _STAGES:
            if marker in squeezed and len(squeezed) <= len(marker) + 4:
                doc.stage = stage
                return
        issued, effective = _ISSUED.search(line), _EFFECTIVE.search(line)
        if issued or effective:
            doc.issue_date = (_date(issued) if issued else None) or doc.issue_date
            doc.effective_date = (_date(effective) if effective else None) or doc.effective_date
            return
        if squeezed.startswith("代替"):
            doc.replaces += _replaced_in(line)
            return
        if not self.seen_code:
            if _PREFIX_ONLY.match(squeezed) or _LEVEL_TEXT.search(squeezed):
                return
            if code := _whole_code(line):
                doc.code, self.seen_code = parse_code(code).display, True
                return
        if (m := _ISSUER.match(line)) and (self.title_lines or doc.issue_date):
            if not _CJK_CHAR.search(m.group("who") or ""):
                return
            doc.issuer = m.group("who").strip()
            return
        if _PREFIX_ONLY.match(squeezed) or _LEVEL_TEXT.fullmatch(squeezed):
            return
        if _CJK_CHAR.search(line) and not self.english_lines:
            self.title_lines.append(line)
        elif re.match(r"^[A-Za-z]", line) and (self.title_lines or self.seen_code):
            self.english_lines.append(line)

    def finish(self) -> None:
        title = ""
        for line in self.title_lines:
            if title and (re.match(r"^第\s*\d+\s*部分", line) or title.endswith("标准")):
                title += " "
            title += line
        self.doc.title = title
        self.doc.english_title = " ".join(self.english_lines)


# -- the body -----------------------------------------------------------------------------


@dataclass
class _Clause:
    number: str
    title: str = ""
    paragraphs: list[str] = field(default_factory=list)
    chapter: str = ""  # scope / references / terms / other / annex / bibliography
    term_line: str | None = None
    wants_term_line: bool = False
    annex: str = ""


def _chapter_of(title: str) -> str:
    t = _squeezed(title)
    if t == "范围":
        return "scope"
    if t.startswith("规范性引用文件"):
        return "references"
    if t.startswith("术语"):
        return "terms"
    return "other"


_TERM_LINE = re.compile(r"^(?P<zh>.*?[^\x00-\x7f].*?)\s+(?P<en>[A-Za-z][\x20-\x7e]*)$")


def split_term(line: str) -> tuple[str, str]:
    """ "光盘率 clean plate rate" → ("光盘率", "clean plate rate")."""
    m = _TERM_LINE.match(line.strip())
    if m:
        return m.group("zh").strip(), m.group("en").strip()
    return line.strip(), ""


class _Reader:
    def __init__(self, source_format: str):
        self.doc = StandardDoc(code="", title="", source_format=source_format)
        self.cover = _Cover(self.doc)
        self.phase = "cover"  # cover → toc → foreword → intro → body
        self.foreword: list[str] = []
        self.intro: list[str] = []
        self.clauses: list[_Clause] = []
        self.prev: tuple | None = None
        self.chapter = ""
        self.annex: str | None = None
        self.pending_annex: _Clause | None = None
        self.noise: set[str] = set()
        self.wrap_width: int | None = None

    # -- phases -----------------------------------------------------------------------

    def feed(self, line: str) -> None:
        line = normalize_line(line)
        if not line:
            return
        squeezed = _squeezed(line)
        if self.phase != "cover" and self._furniture(line, squeezed):
            return
        if _TOC_ENTRY.search(line) and self.phase in ("cover", "toc", "foreword"):
            return
        if squeezed == "目次":
            self._end_cover()
            self.phase = "toc"
            return
        if squeezed in ("前言", "引言", "0引言"):
            self._end_cover()
            self.phase = "foreword" if squeezed == "前言" else "intro"
            return
        if self.phase == "toc":
            if self._chapter_one(line) and not re.search(r"\s[IVXivx\d]+$", line):
                self.phase = "body"
            else:
                return
        if self.phase in ("cover", "foreword", "intro") and self._chapter_one(line):
            self._end_cover()
            self.phase = "body"
        if self.phase == "cover":
            self.cover.read(line)
        elif self.phase == "foreword":
            _join(self.foreword, line)
        elif self.phase == "intro":
            _join(self.intro, line)
        else:
            self._body(line, squeezed)

    def _chapter_one(self, line: str) -> bool:
        m = _NUMBER.match(line)
        if not m or m.group("num") not in ("1",):
            return False
        rest = (m.group("rest") or m.group("glued") or "").strip()
        return _title_like(rest, chapter=True)

    def _furniture(self, line: str, squeezed: str) -> bool:
        """Page headers (the code, the title) and footers (page numbers) of a PDF's pages."""
        if _PAGE_NUMBER.match(line) or squeezed in self.noise:
            return True
        code = _whole_code(line)
        return code is not None and parse_code(code).key in self.noise

    def _end_cover(self) -> None:
        if self.phase != "cover":
            return
        self.cover.finish()
        if self.doc.code:
            self.noise.add(parse_code(self.doc.code).key)
        if self.doc.title:
            self.noise.add(_squeezed(self.doc.title))

    # -- clauses ----------------------------------------------------------------------

    def _body(self, line: str, squeezed: str) -> None:
        if self._annex_heading(line, squeezed):
            return
        if self.pending_annex is not None:
            if self._annex_detail(line, squeezed):
                return
            self.pending_annex = None
        if squeezed in ("参考文献", "索引"):
            self._open(_Clause("", title=squeezed, chapter="bibliography"))
            self.chapter = "bibliography"
            return
        if self._numbered(line):
            return
        current = self.clauses[-1] if self.clauses else None
        if current is None:
            return
        if current.wants_term_line and current.term_line is None:
            current.term_line = line
            return
        if (
            current.wants_term_line
            and not current.paragraphs
            and re.fullmatch(r"[A-Za-z ,;'()/-]+", line)
        ):
            current.term_line += " " + line  # the English term wrapped onto the next line
            return
        _join(
            current.paragraphs, line, code_starts=current.chapter in ("references", "bibliography")
        )

    def _annex_heading(self, line: str, squeezed: str) -> bool:
        m = re.match(
            r"^附录([A-Z])(?:[（(](规范性|资料性|标准的|提示的)(?:附录)?[)）])?(.*)$", squeezed
        )
        if not m or (self.annex and m.group(1) <= self.annex):
            return False
        rest = m.group(3)
        if rest and (_TITLE_PUNCT.search(rest) or len(rest) > 40):
            return False
        letter = m.group(1)
        title = ""
        if rest:  # the title as written (keep its spaces), after the letter and type
            title = _title_text(re.sub(r"^.*?附\s*录\s*[A-Z]\s*(?:[（(][^)）]*[)）])?", "", line))
        clause = _Clause(letter, title=title, chapter="annex", annex=_annex_kind(m.group(2)))
        self._open(clause)
        self.annex, self.prev, self.chapter = letter, (letter,), "annex"
        self.pending_annex = clause
        return True

    def _annex_detail(self, line: str, squeezed: str) -> bool:
        """The lines under "附录A": "（规范性）" and the annex title."""
        clause = self.pending_annex
        m = re.match(r"^[（(](规范性|资料性|标准的|提示的)(?:附录)?[)）](.*)$", squeezed)
        if m and not clause.annex:
            clause.annex = _annex_kind(m.group(1))
            if m.group(2) and not clause.title:
                clause.title = m.group(2)
                self.pending_annex = None
            return True
        if not clause.title and _title_like(line) and not _NUMBER.match(line):
            clause.title = _title_text(line)
            self.pending_annex = None
            return True
        return False

    def _numbered(self, line: str) -> bool:
        m = _NUMBER.match(line)
        if not m:
            return False
        number = m.group("num")
        rest = (m.group("rest") or m.group("glued") or "").strip()
        cand = _as_tuple(number)
        if len(cand) == 1:
            if not rest or not _title_like(rest, chapter=True):
                return False
        elif m.group("glued") and not self.clauses:
            return False
        if not _plausible(self.prev, cand, self.annex):
            return False
        if len(cand) == 1:
            self.chapter = _chapter_of(rest)
            clause = _Clause(number, title=_title_text(rest), chapter=self.chapter)
        elif self.chapter == "terms":
            clause = _Clause(number, chapter="terms", wants_term_line=True)
            if rest:
                clause.term_line = rest
        else:
            clause = _Clause(number, chapter=self.chapter)
            wrapped = self.wrap_width is not None and len(line) >= self.wrap_width - 1
            if rest and _title_like(rest) and not wrapped:
                clause.title = _title_text(rest)
            elif rest:
                clause.paragraphs.append(rest)
        self._open(clause)
        self.prev = cand
        return True

    def _open(self, clause: _Clause) -> None:
        self.clauses.append(clause)

    # -- the document -----------------------------------------------------------------

    def finish(self) -> StandardDoc:
        self._end_cover()
        doc = self.doc
        doc.foreword = "\n".join(self.foreword)
        doc.replaces = _dedupe_codes(doc.replaces + _replaced_in(doc.foreword))
        if self.intro:
            doc.clauses.append(ClauseDoc("0", "引言", "\n".join(self.intro), "informative"))
        for c in self.clauses:
            self._emit(c)
        return doc

    def _emit(self, c: _Clause) -> None:
        doc = self.doc
        if c.chapter == "references":
            text = []
            for p in c.paragraphs:
                found = _code_at_start(p)
                if found is None:
                    text.append(p)
                    continue
                written, code, title = found
                doc.references.append(
                    ReferenceDoc(raw=p, code=written, dated=code.year is not None, title=title)
                )
            doc.clauses.append(ClauseDoc(c.number, c.title, "\n".join(text), "references"))
            return
        text = "\n".join(c.paragraphs)
        if c.chapter == "terms" and c.wants_term_line:
            if c.term_line and text:
                term, english = split_term(c.term_line)
                doc.terms.append(TermDoc(c.number, term, english, text))
                doc.clauses.append(ClauseDoc(c.number, term, text, "term"))
            else:  # a group heading inside the terms chapter ("3.1 通用术语")
                title = _title_text(c.term_line or "")
                doc.clauses.append(ClauseDoc(c.number, title, text, "heading"))
            return
        if c.chapter == "scope":
            kind = "scope"
        elif c.chapter == "terms":
            kind = "term"
        elif c.chapter == "bibliography":
            kind = "informative"
        elif c.chapter == "annex" and "." not in c.number:
            kind = "heading"
        elif not text:
            kind = "heading" if c.title else "informative"
        else:
            kind = kind_of(text)
        doc.clauses.append(ClauseDoc(c.number, c.title, text, kind, c.annex))


def _annex_kind(word: str | None) -> str:
    if not word:
        return ""
    return "normative" if word in ("规范性", "标准的") else "informative"


# -- entry points -------------------------------------------------------------------------


def _wrap_width(lines: list[str]) -> int | None:
    """The width at which a PDF wrapped its lines: most lines cut mid-sentence have the
    same length. None when the text shows no such wrapping."""
    counts = Counter(
        len(line) for line in lines if len(line) >= 12 and not line.endswith(_SENTENCE_END)
    )
    if not counts:
        return None
    width, n = counts.most_common(1)[0]
    return width if n >= 3 else None


def parse_lines(lines, source_format: str = "txt") -> StandardDoc:
    reader = _Reader(source_format)
    parts = [normalize_line(part) for line in lines for part in str(line).split("\n")]
    reader.wrap_width = _wrap_width(parts)
    for part in parts:
        reader.feed(part)
    return reader.finish()


def parse_text(text: str, source_format: str = "txt") -> StandardDoc:
    """A standard from text in the fixtures' layout (as turned out of a PDF or Word file)."""
    return parse_lines(text.splitlines(), source_format)


_MD_LINE = [
    (re.compile(r"^\s{0,3}#{1,6}\s*"), ""),  # headings
    (re.compile(r"^\s{0,3}>\s?"), ""),  # quotes
    (re.compile(r"\*\*|__|`"), ""),  # bold, code
    (re.compile(r"^\s*\|?\s*:?-{3,}.*$"), ""),  # table rules
    (re.compile(r"\\([\\`*_{}\[\]()#+\-.!|])"), r"\1"),  # escapes
]


def parse_markdown(text: str) -> StandardDoc:
    """Markdown in the same layout: heading marks, emphasis and escapes are dropped."""
    lines = []
    for line in text.splitlines():
        for pattern, repl in _MD_LINE:
            line = pattern.sub(repl, line)
        lines.append(line)
    return parse_lines(lines, "md")


def decode_text(data: bytes) -> str:
    """Text files come in UTF-8 (with or without BOM), UTF-16 with BOM, or GB 18030/GBK."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    if b"\x00" in data[:4096]:
        raise UnreadableFile(_("不是文本文件（含有二进制内容），无法读取"))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile(_("无法识别文件编码（支持 UTF-8 与 GB18030/GBK）"))


def docx_lines(data: bytes) -> list[str]:
    """The paragraphs (and table rows) of a Word file in document order, with the numbers
    Word adds by automatic numbering ("4.1", "附录A") written back in front of the text."""
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several kinds for a broken package
        raise UnreadableFile(_("不是有效的 Word（.docx）文件：%(e)s") % {"e": exc}) from None
    numbering = _Numbering(document)
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells = []
                for cell in row.cells:
                    text = " ".join(cell.text.split())
                    if text and (not cells or cells[-1] != text):  # merged cells repeat
                        cells.append(text)
                if cells:
                    lines.append("| " + " | ".join(cells) + " |")
            continue
        text = block.text
        label = numbering.label(block)
        if label and not text.lstrip().startswith(label.strip()):
            text = f"{label} {text}" if not label.endswith((" ", "\t")) else label + text
        lines.extend(text.split("\n"))
    return lines


def parse_docx(data: bytes) -> StandardDoc:
    return parse_lines(docx_lines(data), "docx")


class _Numbering:
    """Word's automatic numbering, counted as Word does: per abstract numbering, each level
    counts up and restarts the levels below it; lvlText "%1.%2" is filled from the counters."""

    _FORMATS = {
        "decimal": str,
        "upperLetter": lambda n: chr(64 + n) if 1 <= n <= 26 else str(n),
        "lowerLetter": lambda n: chr(96 + n) if 1 <= n <= 26 else str(n),
        "chineseCounting": lambda n: "〇一二三四五六七八九十"[n] if 0 <= n <= 10 else str(n),
    }

    def __init__(self, document):
        from docx.oxml.ns import qn

        self.qn = qn
        self.nums: dict[str, str] = {}
        self.levels: dict[tuple[str, int], tuple[int, str, str]] = {}
        self.counters: dict[str, list[int | None]] = {}
        self.style_numpr: dict[str, tuple[str | None, int | None]] = {}
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        for abstract in root.findall(qn("w:abstractNum")):
            aid = abstract.get(qn("w:abstractNumId"))
            for lvl in abstract.findall(qn("w:lvl")):
                ilvl = int(lvl.get(qn("w:ilvl")))
                start = self._val(lvl, "w:start")
                fmt = self._val(lvl, "w:numFmt") or "decimal"
                text = self._val(lvl, "w:lvlText") or ""
                self.levels[(aid, ilvl)] = (int(start or 1), fmt, text)
        for num in root.findall(qn("w:num")):
            ref = num.find(qn("w:abstractNumId"))
            if ref is not None:
                self.nums[num.get(qn("w:numId"))] = ref.get(qn("w:val"))

    def _val(self, el, tag):
        child = el.find(self.qn(tag))
        return child.get(self.qn("w:val")) if child is not None else None

    def _numpr(self, paragraph):
        qn = self.qn
        ppr = paragraph._p.pPr
        num_id = ilvl = None
        if ppr is not None and ppr.numPr is not None:
            if ppr.numPr.numId is not None:
                num_id = str(ppr.numPr.numId.val)
            if ppr.numPr.ilvl is not None:
                ilvl = int(ppr.numPr.ilvl.val)
        style = paragraph.style
        depth = 0
        while (num_id is None or ilvl is None) and style is not None and depth < 10:
            spr = style.element.find(qn("w:pPr"))
            numpr = spr.find(qn("w:numPr")) if spr is not None else None
            if numpr is not None:
                if num_id is None and numpr.find(qn("w:numId")) is not None:
                    num_id = numpr.find(qn("w:numId")).get(qn("w:val"))
                if ilvl is None and numpr.find(qn("w:ilvl")) is not None:
                    ilvl = int(numpr.find(qn("w:ilvl")).get(qn("w:val")))
            style, depth = style.base_style, depth + 1
        return num_id, ilvl or 0

    def label(self, paragraph) -> str:
        if not self.nums:
            return ""
        num_id, ilvl = self._numpr(paragraph)
        aid = self.nums.get(num_id or "")
        if aid is None or (aid, ilvl) not in self.levels:
            return ""
        counters = self.counters.setdefault(aid, [None] * 9)
        start = self.levels[(aid, ilvl)][0]
        counters[ilvl] = start if counters[ilvl] is None else counters[ilvl] + 1
        for deeper in range(ilvl + 1, 9):
            counters[deeper] = None
        _start, fmt, text = self.levels[(aid, ilvl)]
        if fmt == "bullet":
            return text

        def fill(m):
            level = int(m.group(1)) - 1
            lstart, lfmt, _t = self.levels.get((aid, level), (1, "decimal", ""))
            value = counters[level] if counters[level] is not None else lstart
            return self._FORMATS.get(lfmt, str)(value)

        return re.sub(r"%(\d)", fill, text)


def read_bytes(data: bytes, filename: str) -> StandardDoc:
    """A standard from a file's content; the suffix of `filename` says the format."""
    suffix = Path(filename).suffix.lower()
    kind = SUPPORTED_SUFFIXES.get(suffix)
    if kind is None:
        raise UnreadableFile(
            _("不支持的文件类型“%(suffix)s”（支持 .txt、.md、.docx 与 NISO STS .xml）")
            % {"suffix": suffix or _("无扩展名")}
        )
    if not data.strip():
        raise UnreadableFile(_("文件为空"))
    if kind == "docx":
        return parse_docx(data)
    if kind == "sts":
        from .sts import parse_sts

        return parse_sts(data)
    text = decode_text(data)
    return parse_markdown(text) if kind == "md" else parse_text(text, kind)


def read_file(path) -> StandardDoc:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UnreadableFile(_("文件不存在")) from None
    except IsADirectoryError:
        raise UnreadableFile(_("这是一个目录，不是文件")) from None
    except OSError as exc:
        raise UnreadableFile(_("无法读取文件：%(e)s") % {"e": exc.strerror or exc}) from None
    return read_bytes(data, path.name)
