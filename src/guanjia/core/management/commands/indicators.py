"""`guanjia indicators [--agency X --period P] [--json]`: the indicator registry."""

import json

from django.core.management.base import BaseCommand, CommandError

from guanjia.core.indicator_registry import IndicatorScope, Period, all_indicators
from guanjia.core.services import find_agency


class Command(BaseCommand):
    help = "列出已登记的指标；给出 --agency 与 --period 时计算其值"

    def add_arguments(self, parser):
        parser.add_argument("--agency", help="单位名称或统一社会信用代码")
        parser.add_argument("--period", help="统计期：2026-03、2026Q3 或 2026")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, agency=None, period=None, **opts):
        try:
            scope = IndicatorScope(find_agency(agency)) if agency else None
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        try:
            p = Period.parse(period) if period else None
        except ValueError as e:
            raise CommandError(str(e)) from None
        if scope and not p:
            raise CommandError("计算指标值需要 --period")
        rows = []
        for ind in all_indicators():
            row = {
                "key": ind.key,
                "domain": ind.domain,
                "label": ind.label,
                "unit": ind.unit,
                "description": ind.description,
            }
            if scope:
                row["value"] = ind.compute(scope, p)
            rows.append(row)
        doc = {"indicators": rows}
        if scope:
            doc |= {"agency": scope.agency.name, "period": p.label}
        if opts["json"]:
            self.stdout.write(json.dumps(doc, ensure_ascii=False))
            return
        for row in rows:
            value = f" = {row['value']}" if "value" in row else ""
            self.stdout.write(f"{row['key']:<28} {row['label']}（{row['unit']}）{value}")
