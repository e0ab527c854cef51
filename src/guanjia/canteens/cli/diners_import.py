"""`guanjia canteen diners-import FILE [--canteen C] [--json]`: diner counts from a
card-swipe export (.xlsx or .csv with 食堂, 日期, 餐次, 就餐人数; 食堂 may be left out with
`--canteen`).

All or nothing: any invalid row (unknown canteen, negative count, a date after today, an
unknown meal, a day twice) and nothing is imported, the exit status is 1, and
{"errors": [{"row", "column", "message"}], "imported": 0} names each error with its row as
in the sheet (the header is row 1). Re-importing a day corrects its count.
"""

from pathlib import Path

from guanjia.core.context import acting_as

from ..diners_io import import_diners
from ..services import find_canteen

SUMMARY = "从刷卡系统导出的 .xlsx/.csv 导入就餐人数（全部成功或全部不导入）"


def add_arguments(parser):
    parser.add_argument("file", metavar="FILE", help="表头：食堂, 日期, 餐次, 就餐人数")
    parser.add_argument("--canteen", help="导入到该食堂（编码或全称），文件可不含“食堂”列")


def run(options) -> dict:
    path = Path(options["file"])
    if not path.is_file():
        raise LookupError(f"找不到文件：{path}")
    canteen = find_canteen(options["canteen"]) if options.get("canteen") else None
    with acting_as(source="import"), path.open("rb") as f:
        result = import_diners(None, f, path.name, canteen=canteen)
    result["file"] = path.name
    result["failed"] = bool(result["errors"])
    result["message"] = (
        "文件有误，未导入" if result["failed"] else f"已导入 {result['imported']} 条就餐人数"
    )
    return result


def render(result: dict) -> str:
    lines = [f"第{e['row']}行 {e['column']}：{e['message']}" for e in result["errors"]]
    lines.append(result["message"])
    return "\n".join(lines)
