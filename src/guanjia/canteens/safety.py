"""Food safety of the canteens: utensil disinfection logs, kitchen staff with their health
certificates, sample retention (留样) and inspections with findings and rectification.

Alerts (what the pages and the API flag):

* **Health certificates.** An active staff member whose certificate has expired (expiry
  before today), is due (expiry within `health_cert.warn_days` days, today included) or is
  missing (no expiry date recorded). Inactive staff are not flagged.
* **Samples.** A sample lighter than `sample.min_weight_g` or kept shorter than
  `sample.min_hours` deviates; each deviation is named.
* **Findings.** A finding not rectified by its deadline is overdue (deadline before today);
  one rectified after its deadline is marked late.

Thresholds are the canteen rules of the canteen's agency (reference.rule_value).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import services
from .models import (
    Canteen,
    DisinfectionLog,
    KitchenStaff,
    SafetyFinding,
    SafetyInspection,
    SampleRetention,
)
from .reference import rule_value
from .waste import scoped, today

STAFF_FIELDS = ("name", "post", "health_cert_no", "health_cert_expiry", "is_active")


def _not_future(day: dt.date, field: str = "date") -> None:
    if day > today():
        raise ValidationError({field: _("日期 %(d)s 晚于今天") % {"d": day}})


def _build(model, canteen, fields: dict, allowed):
    services.check_fields(fields, allowed)
    return model(canteen=canteen, **fields)


# -- disinfection ---------------------------------------------------------------------------


def record_disinfection(actor, canteen: Canteen, **fields) -> DisinfectionLog:
    allowed = ("date", "meal", "items", "method", "minutes", "temperature_c", "operator")
    _not_future(fields.get("date") or today())
    if not fields.get("minutes"):
        raise ValidationError({"minutes": _("消毒时长应大于 0 分钟")})
    return services.save(actor, _build(DisinfectionLog, canteen, fields, allowed))


# -- staff and health certificates ----------------------------------------------------------


def save_staff(actor, canteen: Canteen | None = None, staff: KitchenStaff | None = None,
               **fields) -> KitchenStaff:  # fmt: skip
    services.check_fields(fields, STAFF_FIELDS)
    staff = staff or KitchenStaff(canteen=canteen)
    for name, value in fields.items():
        setattr(staff, name, value)
    return services.save(actor, staff)


@dataclass
class CertAlert:
    staff_id: int
    name: str
    post: str
    canteen_id: int
    canteen_name: str
    agency_id: int
    health_cert_no: str
    expiry: dt.date | None
    days_left: int | None
    state: str  # expired / due / missing

    def as_dict(self) -> dict:
        return asdict(self) | {"state_label": str(CERT_STATES[self.state])}


CERT_STATES = {
    "expired": gettext_lazy("已过期"),
    "due": gettext_lazy("即将到期"),
    "missing": gettext_lazy("未登记"),
}


def cert_state(expiry: dt.date | None, warn_days: int, on: dt.date) -> str | None:
    if expiry is None:
        return "missing"
    if expiry < on:
        return "expired"
    if (expiry - on).days <= warn_days:
        return "due"
    return None


def cert_alerts(user, *, canteen=None, on: dt.date | None = None) -> list[CertAlert]:
    """Active staff whose certificate is expired, due or missing; the most urgent first."""
    on = on or today()
    staff = scoped(KitchenStaff, user).filter(is_active=True).select_related("canteen")
    if canteen is not None:
        staff = staff.filter(canteen=canteen)
    warn: dict[int, int] = {}
    alerts = []
    for s in staff:
        agency = s.canteen.agency_id
        if agency not in warn:
            warn[agency] = int(rule_value("health_cert.warn_days", s.canteen.agency))
        state = cert_state(s.health_cert_expiry, warn[agency], on)
        if state is None:
            continue
        expiry = s.health_cert_expiry
        alerts.append(
            CertAlert(
                s.pk, s.name, s.post, s.canteen_id, s.canteen.name, agency, s.health_cert_no,
                expiry, None if expiry is None else (expiry - on).days, state,
            )
        )  # fmt: skip
    order = {"expired": 0, "missing": 1, "due": 2}
    alerts.sort(key=lambda a: (order[a.state], a.days_left if a.days_left is not None else 0))
    return alerts


# -- sample retention -----------------------------------------------------------------------


def sample_limits(agency) -> tuple[int, int]:
    return int(rule_value("sample.min_weight_g", agency)), int(
        rule_value("sample.min_hours", agency)
    )


def sample_deviations(sample: SampleRetention, limits: tuple[int, int] | None = None) -> list[str]:
    """What is wrong with a sample under the rules ([] when it meets them)."""
    weight, hours = limits or sample_limits(sample.canteen.agency)
    found = []
    if sample.weight_g < weight:
        found.append(_("留样量%(w)s克，少于%(min)s克") % {"w": sample.weight_g, "min": weight})
    if sample.kept_hours < hours:
        found.append(_("留样%(h)s小时，少于%(min)s小时") % {"h": sample.kept_hours, "min": hours})
    return found


def record_sample(actor, canteen: Canteen, **fields) -> SampleRetention:
    """Record a sample; it is kept even when it deviates (the record is the evidence), and
    the deviations are flagged wherever samples are listed."""
    allowed = ("date", "meal", "dish_name", "weight_g", "kept_hours", "keeper")
    _not_future(fields.get("date") or today())
    return services.save(actor, _build(SampleRetention, canteen, fields, allowed))


def with_deviations(samples) -> list[tuple[SampleRetention, list[str]]]:
    limits: dict[int, tuple[int, int]] = {}
    out = []
    for s in samples.select_related("canteen", "canteen__agency"):
        agency = s.canteen.agency
        if agency.pk not in limits:
            limits[agency.pk] = sample_limits(agency)
        out.append((s, sample_deviations(s, limits[agency.pk])))
    return out


# -- inspections and findings ---------------------------------------------------------------


def record_inspection(actor, canteen: Canteen, *, findings=(), **fields) -> SafetyInspection:
    """An inspection with its findings ({description, deadline}), all or nothing."""
    services.check_fields(fields, ("date", "kind", "inspector", "summary"))
    _not_future(fields.get("date") or today())
    with transaction.atomic():
        inspection = services.save(actor, SafetyInspection(canteen=canteen, **fields))
        for f in findings:
            add_finding(actor, inspection, **f)
    return inspection


def add_finding(actor, inspection: SafetyInspection, *, description: str,
                deadline: dt.date) -> SafetyFinding:  # fmt: skip
    if deadline < inspection.date:
        raise ValidationError({"deadline": _("整改期限不能早于检查日期")})
    return services.save(
        actor, SafetyFinding(inspection=inspection, description=description, deadline=deadline)
    )


def rectify(actor, finding: SafetyFinding, *, rectified_on: dt.date,
            rectification: str) -> SafetyFinding:  # fmt: skip
    if not (rectification or "").strip():
        raise ValidationError({"rectification": _("请填写整改情况")})
    _not_future(rectified_on, "rectified_on")
    if rectified_on < finding.inspection.date:
        raise ValidationError({"rectified_on": _("整改完成日期不能早于检查日期")})
    finding.rectified_on, finding.rectification = rectified_on, rectification.strip()
    return services.save(actor, finding)


def finding_state(finding: SafetyFinding, on: dt.date | None = None) -> str:
    """open (within its deadline), overdue, done, or late (rectified after the deadline)."""
    on = on or today()
    if finding.rectified_on is None:
        return "overdue" if finding.deadline < on else "open"
    return "late" if finding.rectified_on > finding.deadline else "done"


FINDING_STATES = {
    "open": gettext_lazy("整改中"),
    "overdue": gettext_lazy("逾期未整改"),
    "done": gettext_lazy("已整改"),
    "late": gettext_lazy("逾期整改"),
}


def overdue_findings(user, *, canteen=None, on: dt.date | None = None):
    qs = scoped(SafetyFinding, user).filter(rectified_on__isnull=True, deadline__lt=on or today())
    if canteen is not None:
        qs = qs.filter(inspection__canteen=canteen)
    return qs.select_related("inspection", "inspection__canteen").order_by("deadline", "pk")


def overview(user, on: dt.date | None = None) -> dict:
    """The alerts of the safety overview page."""
    on = on or today()
    recent = scoped(SampleRetention, user).filter(date__gte=on - dt.timedelta(days=30))
    return {
        "certs": cert_alerts(user, on=on),
        "samples": [(s, d) for s, d in with_deviations(recent.order_by("-date", "pk")) if d],
        "findings": list(overdue_findings(user, on=on)),
    }
