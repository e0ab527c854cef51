"""Quantitative requirements in clause text: subject, comparison, value, unit, strength.

    "人均餐厨垃圾量不应超过150克每人次"      → 人均餐厨垃圾量 <= 150 克每人次, shall
    "预估偏差率不宜超过10%"                 → 预估偏差率 <= 10 %, should
    "单次采购金额超过5000元的，询价供应商不少于3家"
                                           → 询价供应商 >= 3 家, condition 单次采购金额 > 5000 元
    "违规用车预警应在24小时内核查处理"        → 违规用车预警核查处理 <= 24 小时

The comparison comes from the comparative word (不少于, 不超过, 超过, 低于 …), a suffix
(以上, 以下, 以内, 内) or a symbol (≥, ≤ …); a negative verbal form right before it turns
it round (不应超过 → "<=", 不应低于 → ">="). The strength is GB/T 1.1's verbal form: the one
right before the comparison, else the nearest one earlier in the sentence (4.2 "食堂应按日
记录…，记录保存不少于2年"), else the clause's kind. A number followed by 的/时 ("超过5000元
的，") is a condition of the requirements after it in the sentence, not a requirement; a
sentence with only conditions ("满5年的应开展复审") has no quantitative requirement.

`suggest_indicator` proposes indicator keys from the registry by term similarity; a person
confirms the link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from rapidfuzz import fuzz

from .document import ClauseDoc, StandardDoc
from .quantities import (
    CN_NUMBER_RE,
    NUMBER_RE,
    UNIT_RE,
    chinese_number,
    json_number,
    mask,
    normalise,
)

SHALL, SHOULD, MAY = "shall", "should", "may"

_MODAL_STRENGTH = {
    "应": SHALL, "应当": SHALL, "应该": SHALL, "必须": SHALL, "务必": SHALL, "须": SHALL,
    "不应": SHALL, "不得": SHALL, "不可": SHALL, "不准": SHALL, "严禁": SHALL, "禁止": SHALL,
    "宜": SHOULD, "不宜": SHOULD,
    "可": MAY, "可以": MAY, "不必": MAY,
}  # fmt: skip
_NEGATIVE = {"不应", "不得", "不可", "不准", "严禁", "禁止", "不宜"}
# The modal written right before a comparison: no guards needed there.
_MODAL_ADJACENT = "不应|不宜|不得|不可|不必|不准|严禁|禁止|必须|务必|应当|应该|应|宜|可以|可|须"
# A modal anywhere in a sentence: not inside words like 应急, 供应, 便宜, 可能, 许可.
MODAL_ANY = re.compile(
    r"不应|不宜|不得|不可|不必|不准|严禁|禁止|必须|务必|应当|应该"
    r"|(?<![供响相对适反效答回])应(?![急用季届收付税聘变])"
    r"|(?<![便适事])宜(?!人|居)"
    r"|可以|(?<![许认不])可(?!能|靠|行|视|控|追溯|持续|回收|再生|燃|信|比|观)"
    r"|(?<![必无])须(?!知)"
)
_KIND_STRENGTH = {"requirement": SHALL, "recommendation": SHOULD, "permission": MAY}
_SKIP_KINDS = {"scope", "references", "term", "heading"}

_GE = ["不少于", "不低于", "不小于", "不短于", "至少", "最少", "达到", "达", "满", "≥", ">=", "⩾"]
_LE = ["不超过", "不大于", "不高于", "不多于", "不长于", "至多", "最多", "≤", "<=", "⩽"]
_GT = ["超过", "大于", "高于", "多于", "长于", ">"]
_LT = ["低于", "少于", "小于", "短于", "不足", "<"]
_EQ = ["等于", "为", "="]
_OPS = {w: op for op, words in ((">=", _GE), ("<=", _LE), (">", _GT), ("<", _LT), ("==", _EQ))
        for w in words}  # fmt: skip
_CMP = "|".join(re.escape(w) for w in sorted(_OPS, key=len, reverse=True))
_SUFFIX_OPS = {"及以上": ">=", "以上": ">=", "及以下": "<=", "以下": "<=", "以内": "<=",
               "之内": "<=", "内": "<="}  # fmt: skip
_NEGATED = {">=": "<", "<": ">=", ">": "<=", "<=": ">"}

_PATTERN = re.compile(
    rf"(?P<modal>{_MODAL_ADJACENT})?\s*(?P<at>控制在|保持在|在|于)?\s*"
    rf"(?P<cmp>{_CMP})?\s*(?:(?<=[少多高低大小过于到])为\s*)?"
    rf"(?P<value>{NUMBER_RE}|{CN_NUMBER_RE})(?:\s*(?P<unit_a>{UNIT_RE}))?"
    rf"(?:\s*[~～至到]\s*(?P<upper>{NUMBER_RE})(?:\s*(?P<unit>{UNIT_RE}))?)?"
    r"\s*(?P<suffix>及以上|及以下|以上|以下|以内|之内|内(?!容|部|涵|设|置|外))?"
)
_CONDITION_AFTER = re.compile(r"\s*(?:的|时|者)")
_JOINED_AFTER = re.compile(r"\s*(?:且|或|并且|以及|和|及|、)")
_SENTENCES = re.compile(r"[^。;!?\n]+")
_SEGMENT_END = re.compile(r"[,:;，：；]")
_LEADING = re.compile(r"^(?:且|并且|而且|同时|其中|其|并|和|及|或|以及|当|对于|对|在|原则上)+")
_TRAILING = re.compile(r"(?:应|宜|可|须|的|在|控制|保持|将|使|一般|原则上|通常)+$")


@dataclass
class Condition:
    subject: str
    op: str
    value: Decimal
    unit: str

    def __str__(self) -> str:
        return f"{self.subject} {self.op} {json_number(self.value)} {self.unit}".strip()

    def to_dict(self) -> dict:
        return {
            "subject": self.subject,
            "op": self.op,
            "value": json_number(self.value),
            "unit": self.unit,
        }


@dataclass
class Requirement:
    clause: str
    subject: str
    op: str  # >=, >, <=, <, == (models.Requirement.Op)
    value: Decimal
    unit: str
    strength: str  # shall, should, may
    conditions: list[Condition] = field(default_factory=list)
    text: str = ""  # the sentence it was read from

    def to_dict(self) -> dict:
        return {
            "clause": self.clause,
            "subject": self.subject,
            "op": self.op,
            "value": json_number(self.value),
            "unit": self.unit,
            "strength": self.strength,
            "conditions": [c.to_dict() for c in self.conditions],
            "text": self.text,
        }


@dataclass
class _Found:
    subject: str
    op: str
    value: Decimal
    unit: str
    strength: str | None
    start: int
    end: int
    condition: bool = False


def extract(doc: StandardDoc) -> list[Requirement]:
    """Every quantitative requirement of a standard, in document order."""
    found: list[Requirement] = []
    for clause in doc.clauses:
        found += extract_clause(clause)
    return found


def extract_clause(clause: ClauseDoc) -> list[Requirement]:
    if clause.kind in _SKIP_KINDS and not (clause.kind == "heading" and clause.text):
        return []
    text = clause.text
    masked = mask(normalise(text))
    fallback = _KIND_STRENGTH.get(clause.kind)
    if clause.kind == "heading":  # a titled clause with text: judge the text itself
        fallback = None
    requirements: list[Requirement] = []
    for sentence in _SENTENCES.finditer(masked):
        s0 = sentence.start()
        original = text[s0 : sentence.end()]
        items = _scan(sentence.group(0), original)
        conditions: list[Condition] = []
        for item in items:
            if item.condition:
                conditions.append(Condition(item.subject, item.op, item.value, item.unit))
                continue
            strength = item.strength or _modal_before(original, item.start) or fallback
            if strength is None:
                continue
            subject = item.subject or (requirements[-1].subject if requirements else "")
            requirements.append(
                Requirement(
                    clause.number,
                    subject or clause.title,
                    item.op,
                    item.value,
                    item.unit,
                    strength,
                    list(conditions),
                    original.strip(),
                )
            )
    return requirements


def _scan(masked: str, original: str) -> list[_Found]:
    items: list[_Found] = []
    for m in _PATTERN.finditer(masked):
        cmp, suffix, modal = m.group("cmp"), m.group("suffix"), m.group("modal")
        raw_value = m.group("value")
        if not cmp and not suffix:
            continue  # a bare number: not a comparison
        if cmp in _EQ and not modal and not suffix:
            continue  # "单位为…": 为 compares only after a verbal form (应为30秒)
        if suffix == "内" and not cmp and not (modal or m.group("at")):
            head = _SEGMENT_END.split(original[: m.start()])[-1]
            if not (MODAL_ANY.search(head) or re.search("[在于]", head)):
                continue  # "近3年内未发生…": a period, not a time limit (应在30日内 is one)
        if not raw_value[0].isdigit() and not cmp:
            continue  # Chinese numerals only after a comparative word (不少于三家)
        value = Decimal(raw_value) if raw_value[0].isdigit() else chinese_number(raw_value)
        if value is None:
            continue
        op = _OPS[cmp] if cmp else _SUFFIX_OPS[suffix]
        if suffix and op == "==":
            op = _SUFFIX_OPS[suffix]
        if modal in _NEGATIVE:
            if op not in _NEGATED:
                continue
            op = _NEGATED[op]
        unit = m.group("unit") or m.group("unit_a") or ""
        start = m.start("modal") if modal else m.start()
        subject = _subject(original, start, m.end(), trailing=suffix in ("内", "以内", "之内"))
        strength = _MODAL_STRENGTH.get(modal) if modal else None
        if m.group("upper") and op in ("==", ">="):  # 26~28℃, 达到2%~3%: both bounds
            items.append(_Found(subject, ">=", value, unit, strength, start, m.end()))
            value, op = Decimal(m.group("upper")), "<="
        items.append(_Found(subject, op, value, unit, strength, start, m.end()))
    # Conditions: "…超过5000元的，" and whatever is joined to one by 且/或.
    for n in range(len(items) - 1, -1, -1):
        rest = masked[items[n].end :]
        if _CONDITION_AFTER.match(rest):
            items[n].condition = True
        elif n + 1 < len(items) and items[n + 1].condition and _JOINED_AFTER.match(rest):
            gap = masked[items[n].end : items[n + 1].start]
            if not _SEGMENT_END.search(gap):
                items[n].condition = True
    return items


def _subject(sentence: str, start: int, end: int, trailing: bool) -> str:
    """The words before the comparison back to the last comma or clause boundary, without
    verbal forms; for a time limit ("应在30日内核查处理") the action after it too."""
    head = sentence[:start]
    cut = max((m.end() for m in _SEGMENT_END.finditer(head)), default=0)
    head = re.split(r"且|或者|或|并且", head[cut:])[-1]
    words = MODAL_ANY.sub("", head).strip()
    if trailing:
        tail = _SEGMENT_END.split(sentence[end:], maxsplit=1)[0]
        words += MODAL_ANY.sub("", tail).strip()
    words = _LEADING.sub("", words.strip())
    return _TRAILING.sub("", words).strip()


def _modal_before(sentence: str, position: int) -> str | None:
    found = None
    for m in MODAL_ANY.finditer(sentence[:position]):
        found = _MODAL_STRENGTH.get(m.group(0))
    return found


# -- indicator suggestions ------------------------------------------------------------------

_STOP = set("的 了 和 与 及 或 在 中 内 按 对 较 上 下 年度 每 其 应 宜 可 不 为 是 以".split())


def _tokens(text: str) -> set[str]:
    import rjieba

    return {t for t in rjieba.cut(text) if t.strip() and t not in _STOP}


def _same_unit(a: str, b: str) -> bool:
    return normalise(a).strip().lower() == normalise(b).strip().lower()


def suggest_indicator(
    requirement: Requirement, indicators=None, limit: int = 3, cutoff: float = 50.0
) -> list[tuple[str, float]]:
    """Registry indicators whose label or description resembles the requirement's subject,
    best first, as (key, score 0–100): the subject against the label (rapidfuzz ratio and
    partial ratio, "光盘率" inside "就餐光盘率") and shared jieba words with label and
    description; a matching unit adds a little. A suggestion only: a person confirms it."""
    if indicators is None:
        from guanjia.core.indicator_registry import all_indicators

        indicators = all_indicators()
    subject = normalise(requirement.subject)
    words = _tokens(subject)
    scored = []
    for ind in indicators:
        label = normalise(ind.label)
        by_label = max(
            fuzz.ratio(subject, label),
            0.9 * fuzz.partial_ratio(label, subject) if len(label) >= 2 else 0,
        )
        described = _tokens(label) | _tokens(normalise(ind.description))
        overlap = 100 * len(words & described) / len(words) if words else 0
        score = 0.7 * by_label + 0.3 * overlap
        if requirement.unit and _same_unit(requirement.unit, ind.unit):
            score += 10
        score = round(min(score, 100.0), 1)
        if score >= cutoff:
            scored.append((ind.key, score))
    scored.sort(key=lambda ks: (-ks[1], ks[0]))
    return scored[:limit]
