"""Numbers with units in clause text: "不少于3家", "150克每人次", "1.6升", "12万元", "85%".

Shared by comparison (which numbers changed between two editions) and requirement
extraction (subject op value unit). Standard codes, dates, years and clause references
("GB/T 2589—2020", "2022-06-01", "2020年", "按5.3.1", "第3章", "表1") are not quantities and
are masked before numbers are read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from .codes import CODE_IN_TEXT

# Longest first, so "克每人次" wins over "克" and "个工作日" over "日".
UNITS = sorted(
    {
        # shares
        "%",
        "‰",
        "个百分点",
        "百分点",
        # per-capita and composite units
        "克每人次",
        "克/人次",
        "克/人·餐",
        "克/人",
        "g/人次",
        "千克每人次",
        "千克/人",
        "kg/人",
        "升每人日",
        "升/人·日",
        "升/人",
        "L/人",
        "kgce/m²",
        "kgce/人",
        "kgce",
        "tce",
        "千克标准煤",
        "吨标准煤",
        "kW·h",
        "kWh",
        "千瓦时",
        "km/h",
        "公里/小时",
        "m/s",
        "m²/人",
        "平方米/人",
        "mg/L",
        "mg/m³",
        # money, length, area, volume, mass
        "万元",
        "亿元",
        "元",
        "万公里",
        "公里",
        "千米",
        "km",
        "厘米",
        "cm",
        "毫米",
        "mm",
        "米",
        "m³",
        "立方米",
        "m²",
        "平方米",
        "m",
        "毫升",
        "mL",
        "升",
        "L",
        "吨",
        "t",
        "千克",
        "公斤",
        "kg",
        "克",
        "g",
        # time
        "个工作日",
        "工作日",
        "小时",
        "h",
        "分钟",
        "min",
        "秒",
        "s",
        "日",
        "天",
        "周",
        "个月",
        "月",
        "年",
        "岁",
        # counts
        "家",
        "人次",
        "人",
        "次",
        "辆",
        "台",
        "套",
        "个",
        "项",
        "份",
        "张",
        "名",
        "所",
        "间",
        "层",
        "级",
        "倍",
        "分",
        "户",
        "座",
        "处",
        "批",
        "本",
        "册",
        "篇",
        "期",
        "轮",
        "万",
        # physical
        "℃",
        "°C",
        "dB(A)",
        "dB",
        "lx",
        "kW",
        "W",
        "MPa",
        "Pa",
        "V",
        "度",
    },
    key=len,
    reverse=True,
)
UNIT_RE = "(?:" + "|".join(re.escape(u) for u in UNITS) + r")(?![A-Za-z])"
NUMBER_RE = r"\d+(?:\.\d+)?"

# Not quantities: masked with a character that is neither a digit nor a unit.
_MASKS = [
    CODE_IN_TEXT,
    re.compile(r"\d{4}\s*[-—/.年]\s*\d{1,2}\s*[-—/.月]\s*\d{1,2}\s*日?"),  # dates
    re.compile(r"(?:19|20)\d{2}\s*年(?!\s*(?:内|以|及))(?:度)?"),  # calendar years
    re.compile(r"第\s*\d+\s*[章条款项部分]"),
    re.compile(r"(?:表|图|公式|附录|注)\s*[A-Z]?\.?\d+(?:\.\d+)*"),
    re.compile(r"(?<![\d.])\d+(?:\.\d+){2,}(?![\d.])"),  # clause numbers 5.3.1
    re.compile(r"(?<=[按见照依据和与及、])\s*\d+\.\d+(?=\s*(?:的|条|中|规定|要求|、|和|或|及))"),
]


_HALF_WIDTH = {0xFF01 + i: 0x21 + i for i in range(0x5E)} | {0x3000: " "}


def normalise(text: str) -> str:
    """Full-width forms (Ａ-Ｚ, ０-９, ％, ，, ．, the ideographic space …) to their half-width
    twins, one character for one, so positions stay those of the text as written (and m²
    stays m², which NFKC would make m2)."""
    return (text or "").translate(_HALF_WIDTH)


def mask(text: str) -> str:
    """`text` (already normalised) with codes, dates and clause references blanked out,
    keeping every other character at its position."""
    for pattern in _MASKS:
        text = pattern.sub(lambda m: "□" * len(m.group(0)), text)
    return text


@dataclass(frozen=True)
class Quantity:
    value: Decimal
    unit: str
    start: int  # position in the normalised text
    end: int

    @property
    def json_value(self) -> int | float:
        return json_number(self.value)


def json_number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


_QUANTITY = re.compile(
    rf"(?<![\d.A-Za-z□])(?P<value>{NUMBER_RE})"
    rf"(?:\s*[~～至到]\s*(?P<upper>{NUMBER_RE}))?"
    rf"\s*(?P<unit>{UNIT_RE})?"
)


def quantities(text: str) -> list[Quantity]:
    """Every number in the text, with its unit when one follows ("" otherwise); a range
    "3~5天" gives two quantities with the same unit."""
    masked = mask(normalise(text))
    found = []
    for m in _QUANTITY.finditer(masked):
        unit = m.group("unit") or ""
        found.append(Quantity(Decimal(m.group("value")), unit, m.start("value"), m.end()))
        if m.group("upper"):
            found.append(Quantity(Decimal(m.group("upper")), unit, m.start("upper"), m.end()))
    return found


_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}  # fmt: skip
CN_NUMBER_RE = r"[零一二两三四五六七八九十百]+"


def chinese_number(text: str) -> Decimal | None:
    """一 … 九百九十九 in the everyday form ("三", "十二", "二十", "一百零五"); None otherwise."""
    total, current = 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return Decimal(total + current) if text else None
