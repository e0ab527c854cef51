"""`guanjia canteen evaluate --canteen C --period 2026Q3 [--kind self|spot_check] [--json]`:
the canteen's anti-food-waste evaluation of a quarter, its indicator items computed (and
stored) now.

Output: {"canteen", "period", "kind", "status", "score", "grade", "template",
"items": [{"code", "title", "indicator", "value", "score", "weight", "note"}]}. Reviewer
items keep the points a reviewer gave (null until marked). Run as the system: every
canteen's data counts. A submitted evaluation is shown as it stands, not recomputed.
"""

from django.core.exceptions import ValidationError

from .. import evaluation
from ..services import find_canteen

SUMMARY = "反食品浪费工作成效评估：计算指标项并输出得分与等级"
ITEM_KEYS = ("code", "section", "title", "method", "indicator", "value", "score", "weight",
             "note")  # fmt: skip


def add_arguments(parser):
    parser.add_argument("--canteen", required=True, help="食堂编码或全称")
    parser.add_argument("--period", required=True, help="季度，如 2026Q3")
    parser.add_argument(
        "--kind", choices=("self", "spot_check"), default="self", help="季度自评或抽查评估"
    )


def run(options) -> dict:
    canteen = find_canteen(options["canteen"])
    try:
        ev = evaluation.start_evaluation(None, canteen, options["period"], options["kind"])
    except ValidationError as exc:
        return {"failed": True, "message": "；".join(exc.messages)}
    data = evaluation.as_dict(ev)
    return {
        "canteen": data["canteen"],
        "canteen_name": data["canteen_name"],
        "period": data["period"],
        "kind": data["kind"],
        "status": data["status"],
        "template": data["template"],
        "score": data["score"],
        "grade": data["grade"],
        "items": [{k: item[k] for k in ITEM_KEYS} for item in data["items"]],
    }


def render(result: dict) -> str:
    lines = [
        f"{result['canteen_name']} {result['period']} {result['kind']}（{result['template']}）"
    ]
    for i in result["items"]:
        value = "" if i["value"] is None else f" 指标值 {i['value']}"
        score = "未评分" if i["score"] is None else f"{i['score']:g}"
        lines.append(f"  {i['code']} {i['title']}：{score}/{i['weight']:g}{value} {i['note']}")
    lines.append(f"总分 {result['score']:g}，等级 {result['grade']}")
    return "\n".join(lines)
