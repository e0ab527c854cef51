"""`guanjia standards show CODE [--json | --sts]`: one standard with its status, clauses,
terms and references. CODE in any written form (`DB50/T 9001—2022`, `db50/t9001-2022`,
full-width); without its year, the latest edition. --sts prints it as NISO STS XML.

--json: {"code", "title", "status", "level", "issue_date", "effective_date",
"withdrawn_date", "clauses": [{number, title, text, kind}], "terms": [{number, term,
english, definition}], "references": [{code, dated, title, in_library}], "replaces",
"replaced_by", …}"""

from ..document import document_from_standard
from ..queries import standard_as_dict, standard_by_code
from ..sts import export_sts


def add_arguments(parser):
    parser.add_argument("code", metavar="CODE", help="标准编号，如 DB50/T 9001—2022")
    parser.add_argument("--sts", action="store_true", help="输出 NISO STS XML")


def run(options) -> dict:
    standard = standard_by_code(options["code"])
    if options.get("sts"):
        return {"sts": export_sts(document_from_standard(standard)).decode()}
    return standard_as_dict(standard)


def render(data: dict) -> str:
    if "sts" in data:
        return data["sts"]
    lines = [
        f"{data['code']} {data['title']}",
        f"状态：{data['status_label']}  层级：{data['level_label']}  "
        f"发布：{data['issue_date'] or '—'}  实施：{data['effective_date'] or '—'}",
    ]
    if data["replaces"]:
        lines.append("代替：" + "、".join(data["replaces"]))
    if data["replaced_by"]:
        lines.append("被代替：" + "、".join(data["replaced_by"]))
    lines.append("")
    for c in data["clauses"]:
        head = " ".join(x for x in (c["number"], c["title"]) if x)
        lines.append(f"{head} {c['text']}".strip() if c["text"] else head)
    if data["references"]:
        lines.append("")
        lines.append("规范性引用文件：")
        for r in data["references"]:
            mark = "（库内）" if r["in_library"] else ""
            lines.append(f"  {r['code']} {r['title']}{mark}")
    return "\n".join(lines)
