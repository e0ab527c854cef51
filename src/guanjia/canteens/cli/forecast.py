"""`guanjia canteen forecast [--canteen C] [--from YYYY-MM-DD] [--days 14] [--json]`:
forecast the diners of every canteen (or one) for the coming days and store the forecasts.

Run every 6 hours by `guanjia up` (through the task queue) so each morning's kitchen plan and
purchase requests start from a fresh forecast; the page's button does the same for one
canteen. {"canteens": N, "stored": days stored, "skipped": [codes without 4 weeks of
counts], "errors": [{"canteen", "error"}], "origin": date}; a canteen whose forecast
fails is reported and the others are still forecast (exit status 1 if any failed).
"""

import logging
from datetime import date

from tqdm import tqdm

from .. import forecasts
from ..models import Canteen
from ..services import find_canteen

log = logging.getLogger(__name__)

SUMMARY = "生成未来 14 天就餐人数预测（全部食堂或指定食堂）"


def add_arguments(parser):
    parser.add_argument("--canteen", help="食堂编码或全称（默认全部启用的食堂）")
    parser.add_argument("--from", dest="origin", help="预测起始日（默认今天）")
    parser.add_argument("--days", type=int, default=14, help="预测天数（默认 14）")


def run(options) -> dict:
    origin = date.fromisoformat(options["origin"]) if options.get("origin") else date.today()
    if options.get("canteen"):
        canteens = [find_canteen(options["canteen"])]
    else:
        canteens = list(Canteen.objects.filter(is_active=True).order_by("pk"))
    stored, skipped, failed = 0, [], []
    show = not options.get("json") and len(canteens) > 1
    for canteen in tqdm(canteens, desc="预测", unit="个食堂", disable=not show):
        try:
            n = forecasts.refresh(None, canteen, origin=origin, horizon=options["days"])
        except Exception as exc:  # one canteen's bad data must not stop the others' forecasts
            log.exception("forecast of canteen %s failed", canteen.code)
            failed.append({"canteen": canteen.code, "error": str(exc)})
            continue
        stored += n
        if not n:
            skipped.append(canteen.code)
    return {
        "canteens": len(canteens),
        "stored": stored,
        "skipped": skipped,
        "errors": failed,
        "failed": bool(failed),
        "origin": origin,
    }


def render(result: dict) -> str:
    text = (
        f"已预测 {result['canteens']} 个食堂，保存 {result['stored']} 个餐次"
        f"（起始 {result['origin']}）"
    )
    if result["skipped"]:
        text += f"\n历史不足 4 周未预测：{', '.join(result['skipped'][:20])}"
    for e in result["errors"]:
        text += f"\n预测失败 {e['canteen']}：{e['error']}"
    return text
