"""`guanjia evaluate --agency X --period P [--json]`: every quantitative requirement of the
standards the agency applies that is linked to an indicator, measured over the agency and
those below it for the period (2026-03, 2026Q3 or 2026), with its verdict; the results are
stored (the pages and rankings read them).

{"agency", "period", "results": [{"standard", "clause", "indicator", "op", "threshold",
"value", "status", "previous_value", "trend", …}], "summary": {"pass", "fail", "no-data",
"total", "pass_rate"}}. Verdicts are data, not failures: the exit status is 0 whatever
they are. `--stale` instead recomputes every stored result marked stale by a data change.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from guanjia.core.context import acting_as
from guanjia.core.indicator_registry import Period
from guanjia.core.services import find_agency
from guanjia.evaluation import services


class Command(BaseCommand):
    help = "标准量化要求达标评价：按单位与统计期计算每项已关联指标的要求并给出结论"

    def add_arguments(self, parser):
        parser.add_argument("--agency", help="单位全称、简称或统一社会信用代码（含下级单位）")
        parser.add_argument("--period", help="统计期：2026-03、2026Q3 或 2026")
        parser.add_argument("--stale", action="store_true", help="重算因数据变化而待重算的结论")
        parser.add_argument("--json", action="store_true", help="输出一个 JSON 文档")

    def handle(self, *args, agency=None, period=None, stale=False, **opts):
        if stale:
            done = services.recompute_stale()
            self._out(opts, {"recomputed": done}, f"已重算 {done} 组结论")
            return
        if not agency or not period:
            raise CommandError("需要 --agency 与 --period（或 --stale）")
        try:
            target = find_agency(agency)
            p = Period.parse(period)
        except (LookupError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        with acting_as(source="cli"):
            results = services.evaluate_and_store(target, p)
        rows = [r.as_dict() for r in results]
        doc = {
            "agency": target.name,
            "agency_code": target.credit_code,
            "period": p.label,
            "results": rows,
            "summary": services.summary(results),
        }
        lines = [
            f"{r['standard']} {r['clause']}  {r['indicator']} {r['op']} {r['threshold']:g}"
            f"  值 {'—' if r['value'] is None else r['value']}  {STATUS_TEXT[r['status']]}"
            for r in rows
        ]
        s = doc["summary"]
        lines.append(
            f"{target.name} {p.label}：达标 {s['pass']}，未达标 {s['fail']}，无数据 {s['no-data']}"
        )
        self._out(opts, doc, "\n".join(lines))

    def _out(self, opts, doc, text):
        self.stdout.write(
            json.dumps(doc, ensure_ascii=False, default=str) if opts["json"] else text
        )


STATUS_TEXT = {"pass": "达标", "fail": "未达标", "no-data": "无数据"}
