"""The data-scope matrix's cases (tests/core/test_scope_matrix) for the scorecards.

Agency B has one assessment of the standardization template at every stage: 2026 final,
2025 reviewed, 2024 submitted, 2023 in self-assessment; agency A has an expert. Whoever
does not see B gets none of it and cannot start, score, submit, review or finalize B's
(nothing written); whoever sees everything (a user of A) can, with A's expert.
"""

from functools import partial

from guanjia.core.models import Agency
from guanjia.evaluation import scorecards
from guanjia.evaluation.models import Assessment, ScorecardItem, ScorecardTemplate
from guanjia.standards.experts import create_expert
from guanjia.standards.models import Expert

from ..core.scope_kinds import Detail, Listing, SeededCase, Write, _items

V1 = "/api/v1/scorecards"
KEY = "standardization-work"


def _marks(t):
    return {i.code: (i.weight, "") for i in t.items.filter(rule=ScorecardItem.Rule.REVIEWER)}


def seed(ctx) -> dict:
    b = Agency.objects.get(pk=ctx["B"])
    a = Agency.objects.get(pk=ctx["A"])
    t = ScorecardTemplate.objects.get(key=KEY)
    if not Assessment.objects.filter(agency=b).exists():
        create_expert(None, name="成都专家", agency=b)
        create_expert(None, name="大足专家", agency=a)
        for period, stage in (("2026", 4), ("2025", 3), ("2024", 2), ("2023", 1)):
            one = scorecards.start_assessment(None, b, t, period)
            for code, (score, _n) in _marks(t).items():
                scorecards.score_item(None, one, code, score)
            if stage >= 2:
                scorecards.submit(None, one)
            if stage >= 3:
                scorecards.review(None, one, Expert.objects.get(agency=a), _marks(t))
            if stage >= 4:
                scorecards.finalize(None, one)
    by_period = dict(Assessment.objects.filter(agency=b).values_list("period", "pk"))
    return {
        "b_final": by_period["2026"],
        "b_reviewed": by_period["2025"],
        "b_submitted": by_period["2024"],
        "b_self": by_period["2023"],
        "a_expert": Expert.objects.get(agency=a).pk,
    }


Seeded = partial(SeededCase, seed)


class Templates:
    """Reference data no agency owns: every holder of evaluation.view sees the templates."""

    url = V1 + "/templates"

    def scoped(self, ctx, client, user):
        assert KEY in {t["key"] for t in _items(client.get(self.url))}

    wide = scoped

    def norole(self, ctx, client, user):
        assert _items(client.get(self.url)) == []


def _b(item, ctx):
    return item["agency_id"] in ctx["b_ids"]


def _review_body():
    t = ScorecardTemplate.objects.get(key=KEY)
    marks = [{"code": c, "score": float(w) / 2} for c, (w, _n) in _marks(t).items()]
    return {"expert_id": "{a_expert}", "marks": marks}


class ReviewWrite(Write):
    """The body names the template's items, read once the templates are installed."""

    def _each(self, ctx):
        self.attempts = (("POST", V1 + "/assessments/{b_submitted}/review", _review_body()),)
        return super()._each(ctx)


CASES = {
    ("GET", "/scorecards/templates"): Templates(),
    ("GET", "/scorecards/assessments"): Seeded(Listing(V1 + "/assessments", _b)),
    ("POST", "/scorecards/assessments"): Seeded(
        Write(
            ("POST", V1 + "/assessments", {"agency_id": "{B}", "template": KEY, "period": "2022"})
        )
    ),
    ("GET", "/scorecards/assessments/{assessment_id}"): Seeded(
        Detail(V1 + "/assessments/{b_final}")
    ),
    ("POST", "/scorecards/assessments/{assessment_id}/scores"): Seeded(
        Write(("POST", V1 + "/assessments/{b_self}/scores", {"code": "1.1", "score": 4}))
    ),
    ("POST", "/scorecards/assessments/{assessment_id}/submit"): Seeded(
        Write(("POST", V1 + "/assessments/{b_self}/submit", None))
    ),
    ("POST", "/scorecards/assessments/{assessment_id}/review"): Seeded(ReviewWrite()),
    ("POST", "/scorecards/assessments/{assessment_id}/finalize"): Seeded(
        Write(("POST", V1 + "/assessments/{b_reviewed}/finalize", None))
    ),
    ("GET", "/scorecards/rankings"): Seeded(
        Listing(V1 + f"/rankings?template={KEY}&period=2026&level=agency", _b)
    ),
}
