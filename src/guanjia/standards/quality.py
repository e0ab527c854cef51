"""质量把控: checks a draft or a stored standard against GB/T 1.1—2020's drafting rules.

Findings (kind, clause, message), in document order:

- numbering-gap       4.1 then 4.3 (4.2 missing); chapter 5 then 7; 5.2.1 without 5.2
- numbering-order     a number lower than the one before it at the same level, or a line
                      inside a clause's text that starts with a number of its chapter (a
                      reader that follows the numbering took the out-of-order clause for text)
- duplicate-number    the same clause number twice
- modal-verb          必须, 严禁, 一律, 务必, 不得 … instead of GB/T 1.1 Annex C's 应/不应/宜/
                      不宜/可/不必/能/不能; the message names the form to use
- withdrawn-reference a cited standard the library knows as withdrawn or superseded, with
                      its replacement
- undated-reference   an undated reference to a specific part of a standard ("GB/T 2589
                      第3章", "按GB 31654的4.2"): GB/T 1.1 allows undated references only to
                      a whole document whose future changes are all acceptable
- uncited-reference   listed in 规范性引用文件 but never cited in the text
- unlisted-reference  cited in the text but not listed in 规范性引用文件
- missing-chapter     范围, 规范性引用文件, 术语和定义 (mandatory, as chapters 1, 2, 3, even
                      when empty: "本文件没有规范性引用文件。")
- chapter-order       one of those three not at its chapter number
- lead-in             chapter 2 or 3 without GB/T 1.1's lead-in sentence
- term-unused         a term defined but never used outside its own entry
- term-undefined-use  a term used before the entry that defines it (the scope, chapter 1,
                      may name terms before they are defined and is not counted)

`library(code_key) -> (status, replacement_code) | None` answers for the library, so the
checks run without a database; the CLI and API build it from the Standard table.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .codes import CODE_IN_TEXT, Code, parse_code
from .document import ClauseDoc, StandardDoc
from .quantities import normalise

Library = Callable[[str], "tuple[str, str | None] | None"]


@dataclass(frozen=True)
class Finding:
    kind: str
    clause: str  # the clause number the finding is about ("" for the document as a whole)
    message: str

    def to_dict(self) -> dict:
        return {"kind": self.kind, "clause": self.clause, "message": self.message}


# GB/T 1.1—2020 Annex C's forms: 应/不应 (要求), 宜/不宜 (推荐), 可/不必 (允许), 能/不能;
# what drafts write instead, most specific first ("服务必须" holds 必须, not 务必).
MODAL_FIXES = {
    "必须": "应",
    "不允许": "不应",
    "不需要": "不必",
    "应当": "应",
    "应该": "应",
    "严禁": "不应",
    "禁止": "不应",
    "不得": "不应",
    "不准": "不应",
    "不许": "不应",
    "一律": "应",
    "无须": "不必",
    "无需": "不必",
    "最好": "宜",
    "务必": "应",
    "须": "应",
}
_MODAL_PATTERNS = [
    (word, re.compile(r"(?<![必无])须(?!知)" if word == "须" else re.escape(word)))
    for word in MODAL_FIXES
]
_MODAL_ROLE = {"应": "要求", "不应": "要求", "宜": "推荐", "可": "允许", "不必": "允许"}

# A specific part of a cited document right after its code: 第3章, 的4.2, 中表1, 附录A …
_SPECIFIC_PART = re.compile(
    r"^\s*(?:的|中|之)?\s*(?:第\s*\d+\s*[章条部分]|\d+(?:\.\d+)+|\d+\s*章|"
    r"(?:表|图)\s*[A-Z]?\.?\d+|附录\s*[A-Z])"
)
_YEAR = re.compile(r"[-—–]\s*\d{4}$")
_NUMBER = re.compile(r"^(?:[A-Z]|\d+)(?:\.\d+)*$")

MANDATORY_CHAPTERS = (("1", "范围"), ("2", "规范性引用文件"), ("3", "术语和定义"))
REFERENCES_LEAD_IN = (
    "下列文件中的内容通过文中的规范性引用而构成本文件必不可少的条款。其中，注日期的引用文件，"
    "仅该日期对应的版本适用于本文件；不注日期的引用文件，其最新版本（包括所有的修改单）适用于本文件。"
)
TERMS_LEAD_IN = "下列术语和定义适用于本文件。"
WITHDRAWN_STATUSES = {"withdrawn": "已废止", "superseded": "已被代替"}


def check(doc: StandardDoc, library: Library | None = None) -> list[Finding]:
    findings: list[Finding] = []
    findings += _numbering(doc)
    findings += _chapters(doc)
    findings += _modal_verbs(doc)
    findings += _references(doc, library)
    findings += _terms(doc)
    order = {c.number: n for n, c in reversed(list(enumerate(doc.clauses)))}
    return sorted(findings, key=lambda f: order.get(f.clause, -1 if not f.clause else len(order)))


# -- numbering ------------------------------------------------------------------------------


def _parts(number: str) -> tuple | None:
    if not _NUMBER.match(number):
        return None
    return tuple(int(p) if p.isdigit() else p for p in number.split("."))


def _successor(part: int | str) -> int | str:
    return part + 1 if isinstance(part, int) else chr(ord(part) + 1)


def _first(part: int | str) -> int | str:
    return 1 if isinstance(part, int) else "A"


def _join(parts: tuple) -> str:
    return ".".join(str(p) for p in parts)


def _numbering(doc: StandardDoc) -> list[Finding]:
    findings = []
    seen: dict[str, int] = {}
    last_child: dict[tuple, int | str] = {}  # parent → last child part seen
    present: set[tuple] = set()
    for clause in doc.clauses:
        number = clause.number.strip()
        if not number:
            continue
        parts = _parts(number)
        if number in seen:
            findings.append(
                Finding(
                    "duplicate-number",
                    number,
                    f"条款编号 {number} 重复出现（第 {seen[number] + 1} 次）",
                )
            )
            seen[number] += 1
            if parts is not None:
                findings += _buried_numbers(clause, parts)
            continue
        seen[number] = 1
        if parts is None:
            continue
        parent, last = parts[:-1], parts[-1]
        if parent and parent not in present:
            findings.append(
                Finding("numbering-gap", number, f"{number} 之前缺少上一层条款 {_join(parent)}")
            )
            present.add(parent)  # reported once
        previous = last_child.get(parent)
        if isinstance(last, int) != isinstance(previous, int) and previous is not None:
            previous = None  # annexes (A, B) after chapters (1, 2 …): a new sequence
        expected = _first(last) if previous is None else _successor(previous)
        if previous is not None and _key(last) < _key(expected):
            findings.append(
                Finding(
                    "numbering-order",
                    number,
                    f"编号 {number} 出现在 {_join((*parent, previous))} 之后，顺序颠倒",
                )
            )
        elif _key(last) > _key(expected):
            missing = []
            step = expected
            while _key(step) < _key(last) and len(missing) < 10:
                missing.append(_join((*parent, step)))
                step = _successor(step)
            after = f"{_join((*parent, previous))} 之后" if previous is not None else "开头"
            findings.append(
                Finding(
                    "numbering-gap",
                    number,
                    f"编号不连续：{after}缺少 {'、'.join(missing)}（接着是 {number}）",
                )
            )
        if previous is None or _key(last) > _key(previous):
            last_child[parent] = last
        present.add(parts)
        findings += _buried_numbers(clause, parts)
    return findings


_LINE_NUMBER = re.compile(r"^(\d+(?:\.\d+)+)\s+\S")


def _buried_numbers(clause: ClauseDoc, parts: tuple) -> list[Finding]:
    """A line inside a clause's text that starts with a clause number of the same chapter:
    a reader took it for text because it is out of sequence (4.3 … then a line "4.2 …")."""
    found = []
    for line in clause.text.split("\n")[1:]:
        m = _LINE_NUMBER.match(line.strip())
        if m and m.group(1).split(".")[0] == str(parts[0]) and m.group(1) != clause.number:
            found.append(
                Finding(
                    "numbering-order",
                    clause.number,
                    f"{clause.number} 的正文中有一行以“{m.group(1)}”开头：编号不在顺序中"
                    "（按顺序编号，或将该条移到正确位置）",
                )
            )
    return found


def _key(part: int | str) -> int:
    return part if isinstance(part, int) else ord(part)


# -- chapters -------------------------------------------------------------------------------


def _chapter_titles(doc: StandardDoc) -> dict[str, str]:
    return {
        c.number: normalise(c.title).replace(" ", "")
        for c in doc.clauses
        if c.number.isdigit() and c.title
    }


def _chapter_text(doc: StandardDoc, chapter: str) -> str:
    """The chapter's own text and that of its unnumbered paragraphs."""
    text, inside = [], False
    for c in doc.clauses:
        if c.number == chapter:
            inside = True
        elif c.number:
            if inside:
                break
            continue
        if inside:
            text.append(c.text)
    return normalise("".join(text)).replace(" ", "")


def _chapters(doc: StandardDoc) -> list[Finding]:
    findings = []
    titles = _chapter_titles(doc)
    for number, title in MANDATORY_CHAPTERS:
        at = [
            n
            for n, t in titles.items()
            if t == title or (title == "术语和定义" and t == "术语与定义")
        ]
        if not at:
            findings.append(
                Finding(
                    "missing-chapter",
                    "",
                    f"缺少第 {number} 章“{title}”（GB/T 1.1—2020 规定的必备要素"
                    + ("，无内容时也应保留并说明“本文件没有……”" if number != "1" else "")
                    + "）",
                )
            )
        elif number not in at:
            findings.append(
                Finding("chapter-order", at[0], f"“{title}”应为第 {number} 章，现为第 {at[0]} 章")
            )
    if "规范性引用文件" in titles.values():
        chapter = next(n for n, t in titles.items() if t == "规范性引用文件")
        text = _chapter_text(doc, chapter)
        if "没有规范性引用文件" not in text and normalise(REFERENCES_LEAD_IN) not in text:
            findings.append(
                Finding(
                    "lead-in",
                    chapter,
                    "规范性引用文件的引导语不完整，GB/T 1.1—2020 的表述为：" + REFERENCES_LEAD_IN,
                )
            )
    for chapter, title in titles.items():
        if title in ("术语和定义", "术语与定义"):
            text = _chapter_text(doc, chapter)
            if not re.search(r"术语和定义适用于本文件|没有需要界定的术语", text):
                findings.append(
                    Finding(
                        "lead-in",
                        chapter,
                        f"术语和定义一章缺少引导语，如“{TERMS_LEAD_IN}”"
                        "或“GB/T ××××界定的以及下列术语和定义适用于本文件。”",
                    )
                )
    return findings


# -- verbal forms ---------------------------------------------------------------------------


def _body(doc: StandardDoc) -> list[ClauseDoc]:
    return [c for c in doc.clauses if c.kind not in ("references",)]


def _modal_verbs(doc: StandardDoc) -> list[Finding]:
    findings = []
    for clause in _body(doc):
        text = normalise(f"{clause.title} {clause.text}")
        found = []  # (position, word)
        for word, pattern in _MODAL_PATTERNS:
            for m in pattern.finditer(text):
                found.append((m.start(), word))
            text = pattern.sub(lambda m: "□" * len(m.group(0)), text)
        for word in dict.fromkeys(word for _at, word in sorted(found)):
            fix = MODAL_FIXES[word]
            how = (
                "删去“一律”，用“应”表述要求"
                if word == "一律"
                else f"宜改为“{fix}”（{_MODAL_ROLE[fix]}）"
            )
            findings.append(
                Finding(
                    "modal-verb",
                    clause.number,
                    f"“{word}”不是 GB/T 1.1—2020 附录C 的能愿动词（首选表述），{how}",
                )
            )
    return findings


# -- references -----------------------------------------------------------------------------


def _code(text: str) -> Code | None:
    try:
        return parse_code(text)
    except ValueError:
        return None


def _cited(doc: StandardDoc) -> list[tuple[ClauseDoc, Code, str, str]]:
    """(clause, code, code as written, what follows it) for each code in the body."""
    cited = []
    for clause in _body(doc):
        text = normalise(clause.text)
        for m in CODE_IN_TEXT.finditer(text):
            code = _code(m.group(0))
            if code is not None and code.prefix not in ("ICS", "CCS"):
                cited.append((clause, code, m.group(0).strip(), text[m.end() :]))
    return cited


def _references(doc: StandardDoc, library: Library | None) -> list[Finding]:
    findings = []
    ref_chapter = next(
        (n for n, t in _chapter_titles(doc).items() if t == "规范性引用文件"),
        next((c.number for c in doc.clauses if c.kind == "references"), "2"),
    )
    listed = []  # (code, written, raw)
    for ref in doc.references:
        code = _code(ref.code)
        if code is not None:
            listed.append((code, ref.code.strip(), ref.raw))
    cited = _cited(doc)
    own = _code(doc.code)
    cited = [c for c in cited if own is None or c[1].undated_key != own.undated_key]

    # Undated references to a specific part, in the list or in the text.
    for code, written, raw in listed:
        rest = normalise(raw).split(normalise(written), 1)[-1]
        if code.year is None and _SPECIFIC_PART.match(rest):
            findings.append(_undated(ref_chapter, written, rest))
    for clause, code, written, rest in cited:
        if code.year is None and _SPECIFIC_PART.match(rest):
            findings.append(_undated(clause.number, written, rest))

    # Listed but never cited / cited but never listed.
    cited_keys = {c[1].undated_key for c in cited}
    for code, written, _raw in listed:
        if code.undated_key not in cited_keys:
            findings.append(
                Finding(
                    "uncited-reference",
                    ref_chapter,
                    f"{written} 列于规范性引用文件，但正文中没有引用它"
                    "（该章只列出正文中规范性引用的文件，否则移至参考文献）",
                )
            )
    listed_keys = {c.undated_key for c, _w, _r in listed}
    reported = set()
    for clause, code, written, _rest in cited:
        if code.undated_key not in listed_keys and code.undated_key not in reported:
            reported.add(code.undated_key)
            findings.append(
                Finding(
                    "unlisted-reference",
                    clause.number,
                    f"正文引用了 {written}，但它未列入规范性引用文件",
                )
            )

    # Withdrawn or superseded in the library.
    if library is not None:
        asked = set()  # each code once: at the list when it is listed, else where first cited
        for clause_number, code, written in [(ref_chapter, c, w) for c, w, _r in listed] + [
            (cl.number, c, w) for cl, c, w, _r in cited
        ]:
            if code.key in asked:
                continue
            asked.add(code.key)
            answer = library(code.key)
            if not answer:
                continue
            status, replacement = answer
            if status not in WITHDRAWN_STATUSES:
                continue
            message = f"引用的 {written} {WITHDRAWN_STATUSES[status]}"
            if replacement:
                message += f"，应改为引用 {replacement}"
            elif status == "withdrawn":
                message += "，且没有替代标准，应删除或改用其他文件"
            findings.append(Finding("withdrawn-reference", clause_number, message))
    return findings


def _undated(clause: str, written: str, rest: str) -> Finding:
    part = _SPECIFIC_PART.match(rest).group(0).strip().lstrip("的中之").strip()
    return Finding(
        "undated-reference",
        clause,
        f"{written} 未注日期却引用了其具体内容（{part}）：引用具体章条、图表时应注日期，"
        f"如“{written}—20××”",
    )


# -- terms ----------------------------------------------------------------------------------


def _terms(doc: StandardDoc) -> list[Finding]:
    if not doc.terms:
        return []
    findings = []
    term_numbers = {t.number for t in doc.terms}
    position = {c.number: n for n, c in reversed(list(enumerate(doc.clauses)))}
    # Where each piece of text sits: body clauses, and each term's definition at its entry.
    texts: list[tuple[int, str, str]] = []  # (position, clause number, text)
    for n, clause in enumerate(doc.clauses):
        if clause.kind in ("scope", "references") or clause.number == "1":
            continue
        if clause.kind == "term" or clause.number in term_numbers:
            continue
        texts.append((n, clause.number, normalise(f"{clause.title} {clause.text}")))
    for term in doc.terms:
        texts.append((position.get(term.number, -1), term.number, normalise(term.definition)))
    for term in doc.terms:
        word = normalise(term.term).strip()
        if not word:
            continue
        defined_at = position.get(term.number, -1)
        uses = [(p, number) for p, number, text in texts if number != term.number and word in text]
        if not uses:
            findings.append(
                Finding("term-unused", term.number, f"术语“{term.term}”已定义，但正文中没有使用")
            )
            continue
        early = [number for p, number in uses if defined_at >= 0 and p < defined_at]
        if early:
            findings.append(
                Finding(
                    "term-undefined-use",
                    early[0],
                    f"术语“{term.term}”在 {early[0]} 中使用时尚未定义（定义见 {term.number}）",
                )
            )
    return findings
