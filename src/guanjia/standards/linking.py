"""A standard's quantitative requirements stored as Requirement rows, and their links to
indicators confirmed by a person.

`refresh_requirements` reads the requirements out of the stored clauses again: the
unconfirmed rows are replaced; a confirmed row whose clause number and subject are still
found keeps its indicator link (its threshold follows the text); a confirmed row whose
requirement is no longer in the text is removed. `confirm_link` records which indicator
measures a requirement, who said so and when.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.core.indicator_registry import get_indicator
from guanjia.core.scope import ensure_in_scope

from .document import ClauseDoc
from .models import Requirement, Standard
from .requirements import extract_clause

MAX_VALUE = 10**10


def _require(actor, action: str) -> None:
    wanted = f"standards.{action}"
    if actor is not None and not actor.can(wanted):
        raise PermissionDenied(_("没有权限：%(perm)s") % {"perm": wanted})


def refresh_requirements(actor, standard: Standard) -> dict:
    """Store the standard's requirements; {"created", "kept", "removed"} counts."""
    _require(actor, "change")
    with transaction.atomic():
        ensure_in_scope(actor, standard, "change")
        stored = Requirement.objects.filter(clause__standard=standard).select_related("clause")
        confirmed = {}
        removed = 0
        for row in stored:
            key = (row.clause.number, row.subject)
            if row.confirmed_at is not None and key not in confirmed:
                confirmed[key] = row
            else:
                row.delete()
                removed += 1
        created = kept = 0
        for clause in standard.clauses.order_by("position"):
            doc = ClauseDoc(clause.number, clause.title, clause.text, clause.kind, clause.annex)
            for found in extract_clause(doc):
                if abs(found.value) >= MAX_VALUE:  # beyond the column (14 digits, 4 decimals)
                    continue
                fields = {
                    "clause": clause,
                    "op": found.op,
                    "value": found.value,
                    "unit": found.unit[:32],
                    "strength": found.strength,
                }
                row = confirmed.pop((clause.number, found.subject[:255]), None)
                if row is None:
                    Requirement.objects.create(subject=found.subject[:255], **fields)
                    created += 1
                    continue
                for name, value in fields.items():
                    setattr(row, name, value)
                row.save()
                kept += 1
        for row in confirmed.values():  # the text no longer has these requirements
            row.delete()
            removed += 1
    return {"created": created, "kept": kept, "removed": removed}


def confirm_link(actor, requirement: Requirement, indicator_key: str) -> Requirement:
    """A person confirms that `indicator_key` measures the requirement."""
    _require(actor, "change")
    try:
        get_indicator(indicator_key)
    except KeyError:
        raise ValidationError(_("未知指标：%s") % indicator_key) from None
    with transaction.atomic():
        ensure_in_scope(actor, requirement, "change")
        requirement.indicator_key = indicator_key
        requirement.confirmed_by = actor
        requirement.confirmed_at = timezone.now()
        requirement.save()
    return requirement


def unlink(actor, requirement: Requirement) -> Requirement:
    """A person removes the requirement's indicator link (it is suggested again)."""
    _require(actor, "change")
    with transaction.atomic():
        ensure_in_scope(actor, requirement, "change")
        requirement.indicator_key = ""
        requirement.confirmed_by = None  # who removed it is in the audit trail
        requirement.confirmed_at = None
        requirement.save()
    return requirement
