"""Experts and their review assignments.

An expert belongs to an agency and is kept within that agency's scope. Assigning an expert
to a draft needs the right to change the draft and to see the expert, and one rule holds
whoever assigns: no one reviews a draft of their own agency.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from guanjia.core.scope import ensure_in_scope

from .models import PRE_PUBLICATION, Expert, ReviewAssignment, Standard

EXPERT_FIELDS = ("name", "field", "title", "agency", "region")


def _require(actor, action: str) -> None:
    wanted = f"standards.{action}"
    if actor is not None and not actor.can(wanted):
        raise PermissionDenied(_("没有权限：%(perm)s") % {"perm": wanted})


def create_expert(actor, **fields) -> Expert:
    _require(actor, "add")
    unknown = set(fields) - set(EXPERT_FIELDS)
    if unknown:
        raise ValidationError(_("未知字段：%s") % ", ".join(sorted(unknown)))
    with transaction.atomic():
        expert = Expert(**fields)
        expert.full_clean()
        expert.save()
        ensure_in_scope(actor, expert, "add")
    return expert


def assign_reviewer(actor, standard: Standard, expert: Expert) -> ReviewAssignment:
    _require(actor, "change")
    if standard.stage not in PRE_PUBLICATION:
        raise ValidationError(_("只能为草案指派审查专家"))
    if expert.agency_id == standard.agency_id:
        raise ValidationError(_("专家不能审查本单位的草案"))
    if ReviewAssignment.objects.filter(standard=standard, expert=expert).exists():
        raise ValidationError(_("该专家已指派审查此草案"))
    with transaction.atomic():
        ensure_in_scope(actor, standard, "change")
        ensure_in_scope(actor, expert, "view")
        return ReviewAssignment.objects.create(standard=standard, expert=expert, assigned_by=actor)


def update_expert(actor, expert: Expert, **fields) -> Expert:
    """Change an expert's data (also moving them to another agency within the scope)."""
    _require(actor, "change")
    unknown = set(fields) - set(EXPERT_FIELDS)
    if unknown:
        raise ValidationError(_("未知字段：%s") % ", ".join(sorted(unknown)))
    with transaction.atomic():
        ensure_in_scope(actor, expert, "change")  # where it was
        for name, value in fields.items():
            setattr(expert, name, value)
        expert.full_clean()
        expert.save()
        ensure_in_scope(actor, expert, "change")  # and where it is now
    return expert
