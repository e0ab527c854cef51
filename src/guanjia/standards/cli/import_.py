"""`guanjia standards import PATH... [--agency X] [--private] [--json]`.

Each file is imported on its own: all of it or nothing of it. A directory stands for the
.txt/.md/.docx/.xml files in it. The owner of new standards is the agency given by name,
short name or credit code, else the first root agency (the system's own bureau). With
--json: {"files": [{file, code, title, created, updated, clauses, terms, references,
linked, error}], "imported", "failed", "message"}; the exit status is 1 when a file failed.
"""

from django.core.management.base import CommandError

from guanjia.core.services import find_agency

from .. import services


def add_arguments(parser):
    parser.add_argument("paths", nargs="+", metavar="PATH", help="标准文件或目录")
    parser.add_argument(
        "--agency", help="维护单位（名称、简称或统一社会信用代码），默认第一个顶级单位"
    )
    parser.add_argument(
        "--private", action="store_true", help="新导入的标准不公开（仅本单位及共享小组可见）"
    )


def run(options) -> dict:
    agency = find_agency(options["agency"]) if options.get("agency") else services.default_agency()
    if agency is None:
        raise CommandError("尚无任何单位：请先创建单位（或运行 guanjia demo）再导入标准")
    report = services.import_files(
        None, options["paths"], agency, is_public=False if options.get("private") else None
    )
    report["agency"] = agency.name
    return report


def render(report: dict) -> str:
    lines = []
    for f in report["files"]:
        if f["error"]:
            lines.append(f"✗ {f['file']}：{f['error']}")
            continue
        action = "新增" if f["created"] else "更新"
        lines.append(
            f"✓ {f['file']}：{action} {f['code']} {f['title']}"
            f"（条款 {f['clauses']}，术语 {f['terms']}，引用 {f['references']}，"
            f"已关联 {f['linked']}）"
        )
    lines.append(f"{report['message']}（维护单位：{report['agency']}）")
    return "\n".join(lines)
