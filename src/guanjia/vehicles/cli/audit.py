"""`guanjia vehicles audit [--agency X] [--only] [--json]`: cars above their configuration
standard and agencies above their quota.

{"over_standard": [{"plate", "reasons": [{"rule", "field", "limit", "value", "source",
"message", …}], …}], "over_quota": [{"category", "quota", "actual", "agency", …}],
"no_quota": [agency names], "checked": N}. `--agency` includes the agencies below it unless
`--only`. The exit status is 0 whatever is found (findings are data, not failures).
"""

from .. import audit
from ..services import find_agency

SUMMARY = "配备审计：超标准车辆与超编制类别（含依据）"


def add_arguments(parser):
    parser.add_argument("--agency", help="单位名称或统一社会信用代码（含下级单位）")
    parser.add_argument("--only", action="store_true", help="只审计该单位本身")


def run(options) -> dict:
    agency = find_agency(options["agency"]) if options.get("agency") else None
    return audit.audit_for(None, agency, include_below=not options.get("only"))


def render(result: dict) -> str:
    lines = []
    for car in result["over_standard"]:
        for r in car["reasons"]:
            lines.append(f"超标准 {car['plate']}（{car['agency']}）：{r['message']}——{r['source']}")
    for q in result["over_quota"]:
        lines.append(
            f"超编制 {q['agency']} {q['category_label']}：编制{q['quota']}辆，实有{q['actual']}辆"
        )
    for name in result["no_quota"]:
        lines.append(f"未核定编制：{name}")
    lines.append(
        f"审计 {result['checked']} 辆：超标准 {len(result['over_standard'])} 辆，"
        f"超编制 {len(result['over_quota'])} 项"
    )
    return "\n".join(lines)
