"""Reading the spreadsheets offices exchange: the first sheet of an .xlsx, or a .csv in
UTF-8 or GB18030 (what Excel on a Chinese Windows saves), as rows of cell values.

Every import of the platform (vehicle register, refuelling statements, diner counts, waste
weighings) reads through here, so they accept the same files and refuse unreadable ones with
the same Chinese message, before any row is looked at.
"""

from __future__ import annotations

import csv
import io
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

ENCODINGS = ("utf-8-sig", "gb18030")


class UnreadableSheet(ValidationError):
    """The file is not a readable .xlsx or .csv (nothing in it was looked at)."""


def read_table(name: str, content: bytes) -> list[list]:
    """Rows of the first sheet of an .xlsx/.xlsm or of a .csv, the header included; cells as
    stored (numbers, dates and datetimes from Excel; strings from CSV)."""
    lower = (name or "").lower()
    if lower.endswith((".xlsx", ".xlsm")):
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises several kinds for a broken file
            raise UnreadableSheet(_("无法读取 Excel 文件：%(e)s") % {"e": exc}) from None
        try:
            return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
        finally:
            book.close()
    if lower.endswith(".csv"):
        for encoding in ENCODINGS:
            try:
                text = content.decode(encoding)
            except UnicodeDecodeError:
                continue
            return [list(r) for r in csv.reader(io.StringIO(text))]
        raise UnreadableSheet(_("无法识别 CSV 文件的编码（应为 UTF-8 或 GBK）"))
    raise UnreadableSheet(_("只支持 .xlsx 和 .csv 文件"))


def norm_header(text) -> str:
    """A header cell as compared with the expected names: full-width brackets made
    half-width, spaces dropped (「重量（千克）」 and 「重量 (千克)」 are the same column)."""
    text = str(text or "").strip().replace("（", "(").replace("）", ")")
    return re.sub(r"\s+", "", text)
