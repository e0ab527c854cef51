"""Small worlds for the dashboards: stored verdicts, role users, a vehicle in the live state,
misuse cases, a canteen's forecast and waste, functions and a draft in comment."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from guanjia.core.demo import VIEW_ALL
from guanjia.core.scope import DataScope
from guanjia.evaluation.models import RequirementResult
from guanjia.standards.models import Requirement

from ..conftest import make_role, make_user

TODAY = dt.date(2026, 10, 15)  # the dashboards' month is the last complete one: 2026-09

ROLE_PERMISSIONS = {
    "leader": (VIEW_ALL, DataScope.AGENCY_AND_BELOW),
    "fleet": (
        ["vehicles.*", "dispatch.*", "telemetry.view", "org.view"],
        DataScope.AGENCY_AND_BELOW,
    ),
    "canteen": (["canteens.*", "org.view"], DataScope.AGENCY),
    "standards": (["standards.*", "org.view"], DataScope.AGENCY_AND_BELOW),
}


def role_user(kind: str, agency, username: str | None = None):
    """A user holding the demo role of `kind` (same permissions and data scope)."""
    permissions, scope = ROLE_PERMISSIONS[kind]
    role = make_role(f"{kind}_{agency.pk}_{username or ''}", scope, permissions)
    return make_user(username or f"{kind}_{agency.pk}", agency, role)


def store_verdicts(world):
    """Verdicts by hand (agency, period, statuses of requirements 1..n):
    A 2026-09: pass pass fail | A1 2026-09: pass no-data | B 2026-09: fail fail |
    A 2026-08: pass fail."""
    requirements = list(
        Requirement.objects.exclude(confirmed_at=None).order_by("pk")
    )  # the three linked by the `standards` fixture
    plan = [
        ("A", "2026-09", ["pass", "pass", "fail"]),
        ("A1", "2026-09", ["pass", "no-data"]),
        ("B", "2026-09", ["fail", "fail"]),
        ("A", "2026-08", ["pass", "fail"]),
    ]
    now = timezone.now()
    RequirementResult.objects.bulk_create(
        RequirementResult(
            agency=world[key],
            period=period,
            requirement=req,
            indicator=req.indicator_key,
            op=req.op,
            threshold=float(req.value),
            status=status,
            value=None if status == "no-data" else 1.0,
            computed_at=now,
        )
        for key, period, statuses in plan
        for req, status in zip(requirements, statuses, strict=False)
    )


def plate_day(canteen, day, diners, kg):
    from guanjia.canteens import services as canteen_services
    from guanjia.canteens import waste

    canteen_services.record_diners(None, canteen, day, diners)
    weighing = {"stream": "plate", "edible": True, "weight_kg": Decimal(kg)}
    waste.record_weighings(None, canteen, date=day, meal="lunch", entries=[weighing])
