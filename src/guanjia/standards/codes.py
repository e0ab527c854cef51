"""Standard codes as people write them, and the one key they all share.

`DB51/T 9101—2020`, `DB51/T9101-2020`, `ＤＢ５１／Ｔ　９１０１－２０２０` and `db51/t 9101-2020`
are one standard: `code_key()` gives all of them `DB51/T9101-2020`. GB/T 1.1 writes the
year after an em dash; files turned into text use any dash, spaces or full-width forms.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

DASHES = "—–―‐‑‒−－-"  # em, en, horizontal bar, hyphens, minus, full-width hyphen-minus
_DASH_RE = re.compile(f"[{re.escape(DASHES)}]+")
# Prefix: GB, GB/T, GB/Z, industry (two or more letters, optional /T), local DB + 2-6 digits
# (optional /T), group T/ + organisation code, enterprise Q/.
_CODE_RE = re.compile(
    r"^(?P<prefix>GB(?:/[TZ])?|DB\d{2}(?:\d{2}){0,2}?(?:/T)?|T/[A-Z]+|Q/[A-Z]+|[A-Z]{2,4}(?:/T)?)"
    r"(?P<number>\d+(?:\.\d+)?)"
    r"(?:-(?P<year>\d{4}))?$"
)
# A code inside running text, e.g. in a reference list or "代替 DB50/T 9001—2019".
CODE_IN_TEXT = re.compile(
    r"(?:GB(?:\s*/\s*[TZ])?|DB\s*\d{2}(?:\d{2}){0,2}(?:\s*/\s*T)?|T\s*/\s*[A-Z]+|Q\s*/\s*[A-Z]+"
    r"|[A-Z]{2,4}(?:\s*/\s*T)?)\s*\d+(?:\.\d+)?(?:\s*[" + re.escape(DASHES) + r"]\s*\d{4})?"
)


@dataclass(frozen=True)
class Code:
    prefix: str  # "DB51/T"
    number: str  # "9101"
    year: int | None  # 2020, or None for an undated code

    @property
    def key(self) -> str:
        return f"{self.prefix}{self.number}" + (f"-{self.year}" if self.year else "")

    @property
    def undated_key(self) -> str:
        return f"{self.prefix}{self.number}"

    @property
    def display(self) -> str:
        """As GB/T 1.1 prints it: a space after the prefix, an em dash before the year."""
        return f"{self.prefix} {self.number}" + (f"—{self.year}" if self.year else "")

    @property
    def mandatory(self) -> bool:
        return not self.prefix.endswith(("/T", "/Z")) and not self.prefix.startswith(("T/", "Q/"))

    @property
    def level(self) -> str:
        if self.prefix.startswith("GB"):
            return "national"
        if self.prefix.startswith("DB"):
            return "local"
        if self.prefix.startswith("T/"):
            return "group"
        if self.prefix.startswith("Q/"):
            return "internal"
        return "industry"

    @property
    def region_code(self) -> str | None:
        """GB/T 2260 code of a local standard's region: DB50 → 500000, DB5101 → 510100."""
        m = re.match(r"DB(\d{2,6})", self.prefix)
        return m.group(1).ljust(6, "0") if m else None


def _squash(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").upper()
    text = _DASH_RE.sub("-", text)
    return re.sub(r"\s+", "", text)


def parse_code(text: str) -> Code:
    """Parse a standard code in any of its written forms; ValueError if it is not one."""
    m = _CODE_RE.match(_squash(text))
    if not m:
        raise ValueError(f"无法识别的标准编号：{text!r}")
    year = int(m.group("year")) if m.group("year") else None
    return Code(m.group("prefix"), m.group("number"), year)


def code_key(text: str) -> str:
    return parse_code(text).key


def looks_like_code(text: str) -> bool:
    try:
        parse_code(text)
    except ValueError:
        return False
    return True
