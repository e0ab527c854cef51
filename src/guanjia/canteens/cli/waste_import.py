"""`guanjia canteen waste-import FILE [--json]`: weighings from .xlsx or .csv.

All or nothing: any invalid row (unknown canteen, negative weight, a date after today, an
unknown meal or stream …) and nothing is imported, the exit status is 1, and
{"errors": [{"row", "column", "message"}], "imported": 0, …} names each error with its row
as in the sheet (the header is row 1). Runs as the system (an operator's command); the audit
trail records the source "import".
"""

from pathlib import Path

from guanjia.core.context import acting_as

from .. import waste_io

SUMMARY = "从 .xlsx/.csv 导入餐厨垃圾称重记录（全部成功或全部不导入）"


def add_arguments(parser):
    parser.add_argument(
        "file", metavar="FILE", help="表头：食堂, 日期, 餐次, 类别, 可食, 重量(千克), 品名"
    )


def run(options) -> dict:
    path = Path(options["file"])
    if not path.is_file():
        raise LookupError(f"找不到文件：{path}")
    with acting_as(source="import"):
        result = waste_io.import_weighings(None, path.name, path.read_bytes())
    result["file"] = path.name
    if not result["failed"]:
        result["message"] = f"已导入 {result['imported']} 条称重记录"
    return result


def render(result: dict) -> str:
    lines = [f"第{e['row']}行 {e['column']}：{e['message']}" for e in result["errors"]]
    lines.append(result["message"])
    return "\n".join(lines)
