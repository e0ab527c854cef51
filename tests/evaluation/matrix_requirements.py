"""The data-scope matrix's cases (tests/core/test_scope_matrix) for the requirement verdicts.

Agency B (成都) applies DB51/T 9002—2021, whose report-interval requirement is linked; its
verdict for 2026-09 is stored. Whoever does not see B gets none of it and cannot have B
re-evaluated (nothing written); whoever sees everything sees and recomputes it.
"""

from functools import partial

from guanjia.core.indicator_registry import Period
from guanjia.core.models import Agency
from guanjia.evaluation import services
from guanjia.evaluation.models import RequirementResult
from guanjia.standards import linking
from guanjia.standards.models import Requirement

from ..core.scope_kinds import Listing, SeededCase, Write
from ..standards.library_fixtures import import_fixture

V1 = "/api/v1/evaluation"


def seed(ctx) -> dict:
    b = Agency.objects.get(pk=ctx["B"])
    if not RequirementResult.objects.filter(agency=b).exists():
        standard = import_fixture("9002", b, is_public=True)[0]
        linking.refresh_requirements(None, standard)
        req = Requirement.objects.get(clause__standard=standard, clause__number="5.2")
        linking.confirm_link(None, req, "telemetry.report_interval_p95_s")
        services.evaluate_and_store(b, Period.parse("2026-09"))
    return ctx


Seeded = partial(SeededCase, seed)


def _b(item, ctx):
    return item["agency_id"] in ctx["b_ids"]


CASES = {
    ("GET", "/evaluation/results"): Seeded(Listing(V1 + "/results?period=2026-09", _b)),
    ("POST", "/evaluation/evaluate"): Seeded(
        Write(("POST", V1 + "/evaluate", {"agency_id": "{B}", "period": "2026-09"}))
    ),
}
