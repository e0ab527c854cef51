"""`guanjia standards requirements CODE|FILE [--json]`: the quantitative requirements of a
standard, each with the registry indicators it may measure (suggestions, to be confirmed)."""

from ..analysis import load_document
from ..requirements import extract, suggest_indicator


def add_arguments(parser):
    parser.add_argument("source", help="标准编号（库内）或文件路径（草案）")


def run(options) -> dict:
    doc = load_document(options["source"])
    rows = []
    for requirement in extract(doc):
        row = requirement.to_dict()
        row["indicator_suggestions"] = [
            {"key": key, "score": score} for key, score in suggest_indicator(requirement)
        ]
        rows.append(row)
    return {"code": doc.code, "title": doc.title, "requirements": rows}


STRENGTH = {"shall": "应", "should": "宜", "may": "可"}
OPS = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "==": "="}


def render(result: dict) -> str:
    lines = [f"{result['code']} {result['title']}：{len(result['requirements'])} 项量化要求"]
    for r in result["requirements"]:
        when = "；".join(
            f"{c['subject']} {OPS[c['op']]} {c['value']}{c['unit']}" for c in r["conditions"]
        )
        line = (
            f"{r['clause']:<8} [{STRENGTH[r['strength']]}] {r['subject']} "
            f"{OPS[r['op']]} {r['value']}{r['unit']}"
        )
        if when:
            line += f"（条件：{when}）"
        if r["indicator_suggestions"]:
            line += f"  → 指标建议 {r['indicator_suggestions'][0]['key']}"
        lines.append(line)
    return "\n".join(lines)
