"""`guanjia vehicles import FILE [--agency X] [--json]`: the register from .xlsx or .csv.

All or nothing: any invalid row and nothing is imported, the exit status is 1, and
{"errors": [{"row", "column", "message"}], "imported": 0, …} names each error with its row
as in the sheet (the header is row 1). A plate already in the register updates that car.
`--agency` (exact name, short name, credit code or id) fills an empty 所属单位 and limits
the sheet to that agency and the agencies below it. Runs as the system (an operator's
command); the audit trail records the source "import" and the file name.
"""

from pathlib import Path

from guanjia.core.context import acting_as

from .. import registry_io
from ..services import find_agency

SUMMARY = "从 .xlsx/.csv 导入车辆登记（全部成功或全部不导入）"


def add_arguments(parser):
    parser.add_argument("file", metavar="FILE", help=".xlsx 或 .csv 文件，表头见说明")
    parser.add_argument("--agency", help="默认所属单位（名称或统一社会信用代码），并限定范围")
    parser.add_argument("--no-progress", action="store_true", help="不显示进度条")


def run(options) -> dict:
    path = Path(options["file"])
    if not path.is_file():
        raise LookupError(f"找不到文件：{path}")
    agency = find_agency(options["agency"]) if options.get("agency") else None
    content = path.read_bytes()
    bar = None
    if not options.get("json") and not options.get("no_progress") and len(content) > 200_000:
        from tqdm import tqdm

        bar = tqdm(desc="检查", unit="行", leave=False)
    with acting_as(source="import"):
        result = registry_io.import_file(
            None, content, path.name, default_agency=agency, progress=bar.update if bar else None
        )
    if bar:
        bar.close()
    result["file"] = path.name
    return result


def render(result: dict) -> str:
    lines = [f"第{e['row']}行 {e['column']}：{e['message']}" for e in result["errors"]]
    lines.append(result["message"])
    return "\n".join(lines)
