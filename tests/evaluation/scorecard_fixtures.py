"""Helpers of the scorecard tests: experts, and an assessment carried to its final score
with chosen points."""

from decimal import Decimal

from guanjia.evaluation import scorecards
from guanjia.evaluation.models import ScorecardItem, ScorecardTemplate
from guanjia.standards.experts import create_expert

STANDARDIZATION = "standardization-work"


def template(key: str = STANDARDIZATION) -> ScorecardTemplate:
    return ScorecardTemplate.objects.get(key=key)


def expert_of(agency, name="张专家"):
    return create_expert(None, name=name, agency=agency, field="标准化")


def reviewer_marks(t: ScorecardTemplate, share: str) -> dict:
    """Every reviewer item scored `share` of its weight."""
    items = t.items.filter(rule=ScorecardItem.Rule.REVIEWER)
    return {i.code: (i.weight * Decimal(share), "") for i in items}


def finished(agency, expert, share: str, period: str = "2026", t=None):
    """An assessment of `agency` self-scored, reviewed (as the system) and final, every
    reviewer item at `share` of its weight."""
    t = t or template()
    a = scorecards.start_assessment(None, agency, t, period)
    for code, (score, _notes) in reviewer_marks(t, share).items():
        scorecards.score_item(None, a, code, score)
    scorecards.submit(None, a)
    scorecards.review(None, a, expert, reviewer_marks(t, share))
    return scorecards.finalize(None, a)
