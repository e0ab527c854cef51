"""`guanjia standards search "QUERY" [--level L] [--region CODE] [--status S] [--from DATE]
[--to DATE] [--limit N] [--as USERNAME] [--json]` and `guanjia standards search --reindex`.

JSON: {"query", "count", "results": [{"code", "title", "status", "score", "clauses":
[numbers], "match", "snippets", …}]}; with --reindex also {"reindexed": {"standards",
"rows", "seconds"}}."""

import time
from datetime import date

from guanjia.standards.models import Standard


def add_arguments(parser):
    parser.add_argument(
        "query", nargs="?", help="检索词、标准编号，或二者（如“DB50/T 9001 光盘率”）"
    )
    parser.add_argument("--level", choices=Standard.Level.values, help="标准层级")
    parser.add_argument("--region", metavar="CODE", help="适用地区（行政区划代码，含下级）")
    parser.add_argument("--status", choices=Standard.Status.values, help="标准状态")
    parser.add_argument(
        "--from", dest="date_from", type=date.fromisoformat, metavar="YYYY-MM-DD", help="发布日期起"
    )
    parser.add_argument(
        "--to", dest="date_to", type=date.fromisoformat, metavar="YYYY-MM-DD", help="发布日期止"
    )
    parser.add_argument("--framework-node", type=int, metavar="ID", help="标准体系框架节点")
    parser.add_argument("--limit", type=int, default=20, help="最多返回几项标准（默认 20）")
    parser.add_argument(
        "--as",
        dest="as_user",
        metavar="USERNAME",
        help="按该用户的数据范围检索（默认：系统，全部）",
    )
    parser.add_argument("--reindex", action="store_true", help="重建检索索引（修改词表后需要）")


def run(options) -> dict:
    from guanjia.core.models import User
    from guanjia.standards import search

    out: dict = {}
    if options.get("reindex"):
        started = time.perf_counter()
        stats = search.reindex_all()
        out["reindexed"] = stats | {"seconds": round(time.perf_counter() - started, 2)}
        if not options.get("query"):
            return out
    query = (options.get("query") or "").strip()
    if not query:
        raise ValueError("请给出检索词或标准编号")
    user = None
    if options.get("as_user"):
        user = User.objects.filter(username=options["as_user"]).first()
        if user is None:
            raise LookupError(f"没有用户 {options['as_user']}")
    results = search.search(
        user,
        query,
        level=options.get("level"),
        region=options.get("region"),
        status=options.get("status"),
        framework_node=options.get("framework_node"),
        date_from=options.get("date_from"),
        date_to=options.get("date_to"),
        limit=options.get("limit") or 20,
    )
    return out | {
        "query": query,
        "count": len(results),
        "results": [r.as_dict() for r in results],
    }


def render(result: dict) -> str:
    lines = []
    if "reindexed" in result:
        r = result["reindexed"]
        lines.append(f"已重建检索索引：{r['standards']} 项标准，{r['rows']} 行，{r['seconds']} 秒")
    if "results" in result:
        if not result["results"]:
            lines.append(f"未找到与“{result['query']}”相关的标准")
        for r in result["results"]:
            status = dict(Standard.Status.choices).get(r["status"], r["status"])
            lines.append(f"{r['code']}  {r['title']}  [{status}]  {r['score']:.2f}")
            if r["clauses"]:
                lines.append(f"    条款：{'、'.join(r['clauses'])}")
            for p in r["snippets"]:
                label = p["clause"] or "名称"
                lines.append(f"    {label}  {p['text']}")
    return "\n".join(lines)
