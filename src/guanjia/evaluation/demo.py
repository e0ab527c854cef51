"""The evaluation's part of the demo world: the sample standards' quantitative requirements
read out of their clauses and linked to the platform's indicators (data/demo_links.json, as
a standards officer would confirm them), the 大足 centre's adoption of the Sichuan vehicle
standard (川渝互认), two months of terminal report-interval statistics, and the stored
verdicts of every bureau for the last complete month and quarter, and last year's
standardization work evaluation (scorecards) of the first bureaus.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

from django.utils import timezone

from guanjia.core.models import Agency
from guanjia.demo.registry import DemoContext, demo_part
from guanjia.standards import linking
from guanjia.standards.models import Requirement, Standard, StandardAdoption

from . import services
from .services import last_complete_periods

DATA = Path(__file__).resolve().parent / "data" / "demo_links.json"


@demo_part("evaluation", order=70)
def build_evaluation(ctx: DemoContext) -> dict[str, int]:
    """达标评价：样例标准的量化要求关联指标、川渝互认采用、各局最近一个月与一个季度的达标结论"""
    data = json.loads(DATA.read_text(encoding="utf-8"))
    today = timezone.localdate()
    counts = {"requirements": 0, "linked_requirements": 0, "adoptions": 0, "verdicts": 0}
    for standard in Standard.objects.filter(code__in={i["standard"] for i in data["items"]}):
        counts["requirements"] += linking.refresh_requirements(None, standard)["created"]
    for item in data["items"]:
        found = Requirement.objects.filter(
            clause__standard__code=item["standard"],
            clause__number=item["clause"],
            subject__contains=item["subject"],
        ).first()
        if found is not None:
            linking.confirm_link(None, found, item["indicator"])
            counts["linked_requirements"] += 1
    for row in data["adoptions"]:
        StandardAdoption.objects.create(
            agency=ctx.agencies_by_name[row["agency"]],
            standard=Standard.objects.get(code=row["standard"]),
            adopted_on=dt.date(today.year - 1, 1, 1),
            note=row["note"],
        )
        counts["adoptions"] += 1
    _report_intervals(ctx, today)
    month, quarter = last_complete_periods(today)
    bureaus = ctx.bureaus[: ctx.size("evaluated_bureaus", small=68, province=68)]
    ctx.stage("达标评价", total=len(bureaus))
    for bureau in bureaus:
        for period in (month, quarter):
            counts["verdicts"] += len(services.evaluate_and_store(bureau, period))
        ctx.tick()
    counts["assessments"] = _scorecards(ctx, today)
    return counts


def _scorecards(ctx, today: dt.date) -> int:
    """Last year's standardization work evaluation of the first bureaus, through the
    scorecard services as the system: each bureau's expert reviews the next bureau (never
    its own); all but the last two are final, one waits for review, one is still in
    self-assessment."""
    from guanjia.core import audit
    from guanjia.standards.experts import create_expert

    from . import scorecard_data, scorecards
    from .models import ScorecardItem, ScorecardTemplate

    with audit.installing():  # a flushed database lost what migrate installed
        scorecard_data.load()
    template = ScorecardTemplate.objects.filter(key="standardization-work").first()
    bureaus = ctx.bureaus[:8]
    if template is None or len(bureaus) < 2:
        return 0
    rng = ctx.derive("scorecards")
    experts = [create_expert(None, name=f"{b.short_name or b.name}标准化专家", agency=b,
                             field="标准化", title="高级工程师") for b in bureaus]  # fmt: skip
    reviewer_items = list(template.items.filter(rule=ScorecardItem.Rule.REVIEWER))
    period = str(today.year - 1)
    for n, bureau in enumerate(bureaus):
        a = scorecards.start_assessment(None, bureau, template, period)
        for item in reviewer_items:
            share = Decimal(str(rng.choice((0.6, 0.75, 0.9, 1.0))))
            scorecards.score_item(None, a, item.code, item.weight * share, "对照佐证材料自评")
        if n == len(bureaus) - 1:
            continue
        scorecards.submit(None, a)
        if n == len(bureaus) - 2:
            continue
        marks = {
            row.item.code: (row.self_score * Decimal(str(rng.choice((0.8, 0.9, 1.0)))), "")
            for row in a.scores.select_related("item").filter(item__in=reviewer_items)
        }
        scorecards.review(None, a, experts[(n + 1) % len(bureaus)], marks)
        scorecards.finalize(None, a)
    return len(bureaus)


def _report_intervals(ctx, today: dt.date) -> None:
    """What the rule engine would have kept while the 大足 fleet reported: mostly every 30 s,
    some terminals at 60 s or with gaps, for the last 60 days."""
    from guanjia.telemetry.models import ReportIntervalDay

    rng = ctx.derive("intervals")
    dazu = ctx.agencies_by_name["大足区机关事务管理中心"]
    agencies = [dazu, *Agency.objects.filter(path__startswith=dazu.path).exclude(pk=dazu.pk)[:5]]
    rows = []
    for agency in agencies:
        for back in range(1, 61):
            day = today - dt.timedelta(days=back)
            n = rng.randint(2000, 6000)
            slow = rng.uniform(0.0, 0.08)
            hist = {
                "30": int(n * (0.9 - slow)),
                "31": int(n * 0.07),
                "60": int(n * slow),
                "300": int(n * 0.01),
            }
            rows.append(
                ReportIntervalDay(agency=agency, day=day, histogram=hist, count=sum(hist.values()))
            )
    ReportIntervalDay.objects.bulk_create(rows)
