"""Misuse cases (违规线索): opened by detectors with their evidence, verified or dismissed
by a person.

* **Open, once.** A detector proposes cases with a `dedup_key` naming the episode (the
  rule and the record(s) it is about); a key already present — open, verified or
  dismissed — is left alone, so a re-run neither duplicates a case nor reopens one a
  person has handled.
* **Handle, once.** An open case is verified (核实, an optional note) or dismissed (排除,
  a reason is required); a handled case is final and keeps who handled it and when.
* **Within 24 hours.** DB51/T 9002—2021 8.2: 违规用车预警应在24小时内核查处理. A case is
  handled in time when it was verified or dismissed within `HANDLE_WITHIN` of being opened
  (`handled_in_time`); one still open once that time is up is overdue (`is_overdue`,
  `overdue_q`). The indicator vehicles.case_handled_24h_rate and the case lists both ask here.

Rules register their label and source here (`RULES`) so lists and pages can name them; the
telemetry rules of the next issue add theirs the same way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.core.scope import ensure_in_scope

from .lifecycle import require
from .models import MisuseCase

# DB51/T 9002—2021 8.2: misuse warnings are checked and handled within 24 hours.
HANDLE_WITHIN = dt.timedelta(hours=24)

# rule key → (label, source)
RULES: dict[str, tuple[str, str]] = {}


def register_rule(key: str, label, source: str) -> str:
    RULES[key] = (label, source)
    return key


def rules() -> dict[str, tuple[str, str]]:
    """Every registered rule (the detector modules register theirs on import)."""
    from . import signals_private_use  # noqa: F401

    return RULES


def rule_label(key: str) -> str:
    return str(rules()[key][0]) if key in rules() else key


def rule_choices() -> list[tuple[str, str]]:
    return [(k, str(v[0])) for k, v in rules().items()]


def handled_in_time(opened_at, handled_at, status) -> bool:
    """Verified or dismissed within HANDLE_WITHIN of being opened."""
    return (
        status != MisuseCase.Status.OPEN
        and handled_at is not None
        and handled_at - opened_at <= HANDLE_WITHIN
    )


def time_is_up(opened_at, now) -> bool:
    """Whether the HANDLE_WITHIN of a case opened at `opened_at` has run out by `now`."""
    return now - opened_at >= HANDLE_WITHIN


def is_overdue(case: MisuseCase, now=None) -> bool:
    """Still open after its HANDLE_WITHIN ran out (超过24小时未处理)."""
    now = timezone.now() if now is None else now
    return case.status == MisuseCase.Status.OPEN and time_is_up(case.opened_at, now)


def overdue_q(now=None) -> Q:
    """The cases `is_overdue` at `now`, as a filter."""
    now = timezone.now() if now is None else now
    return Q(status=MisuseCase.Status.OPEN, opened_at__lte=now - HANDLE_WITHIN)


@dataclass
class Proposal:
    """A case a detector wants opened."""

    rule: str
    agency_id: int
    dedup_key: str
    title: str
    episode_start: dt.datetime
    evidence: dict
    vehicle_id: int | None = None
    episode_end: dt.datetime | None = None
    source: str = ""
    extra: dict = field(default_factory=dict)


def _aware(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    return timezone.make_aware(dt.datetime.combine(value, dt.time.min))


def open_cases(actor, proposals: list[Proposal]) -> list[MisuseCase]:
    """Open the proposed cases whose dedup_key is new; returns the cases opened."""
    require(actor, "add")
    keys = [p.dedup_key for p in proposals]
    existing: set[str] = set()
    for i in range(0, len(keys), 500):
        chunk = keys[i : i + 500]
        existing |= set(
            MisuseCase.objects.filter(dedup_key__in=chunk).values_list("dedup_key", flat=True)
        )
    opened = []
    with transaction.atomic():
        for p in proposals:
            if p.dedup_key in existing:
                continue
            existing.add(p.dedup_key)
            try:
                with transaction.atomic():
                    case = MisuseCase.objects.create(
                        agency_id=p.agency_id,
                        vehicle_id=p.vehicle_id,
                        rule=p.rule,
                        title=p.title[:255],
                        source=(p.source or (rules().get(p.rule, ("", ""))[1]))[:255],
                        dedup_key=p.dedup_key[:128],
                        episode_start=_aware(p.episode_start),
                        episode_end=_aware(p.episode_end) if p.episode_end else None,
                        evidence=p.evidence,
                    )
            except IntegrityError:  # a concurrent run opened it first: already open
                continue
            ensure_in_scope(actor, case, "add")
            opened.append(case)
    return opened


def _handle(actor, case: MisuseCase, status: str, resolution: str) -> MisuseCase:
    require(actor, "change")
    with transaction.atomic():
        # As stored now, locked: of two people handling the case at once, the second sees
        # the first one's decision.
        case = MisuseCase.objects.select_for_update().get(pk=case.pk)
        if case.status != MisuseCase.Status.OPEN:
            raise ValidationError(
                _("该线索已处理（%(s)s），不能再次处理") % {"s": case.get_status_display()}
            )
        ensure_in_scope(actor, case, "change")
        case.status = status
        case.resolution = resolution
        case.handled_by = actor
        case.handled_at = timezone.now()
        case.save()
    return case


def verify_case(actor, case: MisuseCase, note: str = "") -> MisuseCase:
    """Confirm the case (核实): the misuse happened."""
    return _handle(actor, case, MisuseCase.Status.VERIFIED, (note or "").strip())


def dismiss_case(actor, case: MisuseCase, reason: str) -> MisuseCase:
    """Dismiss the case (排除) — with the reason, which is required."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("排除线索须填写理由")})
    return _handle(actor, case, MisuseCase.Status.DISMISSED, reason)
