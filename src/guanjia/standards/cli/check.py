"""`guanjia standards check FILE_OR_CODE [--json]`: GB/T 1.1 quality check of a draft file
or a standard in the library; references are checked against the library's statuses."""

from ..analysis import library_lookup, load_document
from ..quality import check


def add_arguments(parser):
    parser.add_argument("source", help="草案文件路径或标准编号（库内）")


def run(options) -> dict:
    doc = load_document(options["source"])
    findings = check(doc, library=library_lookup())
    return {
        "code": doc.code,
        "title": doc.title,
        "findings": [f.to_dict() for f in findings],
    }


def render(result: dict) -> str:
    head = f"{result['code']} {result['title']}：{len(result['findings'])} 个问题"
    lines = [head]
    for f in result["findings"]:
        lines.append(f"{f['clause'] or '—':<8} {f['kind']:<20} {f['message']}")
    return "\n".join(lines)
