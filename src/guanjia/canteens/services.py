"""Canteens and their daily diner counts; the write path every canteens part uses.

Every write goes through `save(actor, obj)` or `delete(actor, obj)`: the permission
(`canteens.add/change/delete`), model validation, then the data-scope re-check inside the
transaction — a user who may only write agency A's canteens cannot create, move or change a
record of agency B's (the write is rolled back). `actor=None` is the system (imports run by
an operator, the demo world).
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from guanjia.core.scope import ensure_in_scope

from .models import AttendanceEvent, Canteen, DinerCount, Meal

CANTEEN_FIELDS = (
    "agency", "name", "code", "address", "capacity", "staff_served", "meals", "mode", "operator",
    "rule_meat", "rule_veg", "rule_staple", "rule_soup", "rule_fruit", "no_repeat_days",
    "safety_margin_pct", "waste_target_g", "is_active",
)  # fmt: skip


def require(actor, action: str) -> None:
    """Cheap refusal before any work: the caller needs `canteens.<action>` at all."""
    wanted = f"canteens.{action}"
    if actor is not None and not actor.can(wanted):
        raise PermissionDenied(_("没有权限：%(perm)s") % {"perm": wanted})


def check_fields(fields: dict, allowed) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError(_("未知字段：%s") % ", ".join(sorted(unknown)))


def save(actor, obj, exclude=None):
    """Validate and save `obj` as `actor` ("add" when new, else "change"), in scope."""
    action = "change" if obj.pk else "add"
    require(actor, action)
    with transaction.atomic():
        if obj.pk:
            before = type(obj)._base_manager.get(pk=obj.pk)
            ensure_in_scope(actor, before, "change")
        obj.full_clean(exclude=exclude)
        obj.save()
        ensure_in_scope(actor, obj, action)
    return obj


def delete(actor, obj) -> None:
    require(actor, "delete")
    with transaction.atomic():
        ensure_in_scope(actor, obj, "delete")
        obj.delete()


def find_canteen(text: str, queryset=None) -> Canteen:
    """A canteen by code or exact name. LookupError if none or several match."""
    text = (text or "").strip()
    qs = Canteen.objects.all() if queryset is None else queryset
    found = list(qs.filter(Q(code=text) | Q(name=text))[:2])
    if len(found) != 1:
        raise LookupError(_("找不到唯一的食堂：%(t)s（请填写食堂编码或全称）") % {"t": text})
    return found[0]


# -- canteens ---------------------------------------------------------------------------------


def save_canteen(actor, canteen: Canteen | None = None, **fields) -> Canteen:
    check_fields(fields, CANTEEN_FIELDS)
    canteen = canteen or Canteen()
    for name, value in fields.items():
        setattr(canteen, name, value)
    return save(actor, canteen)


# -- diners -----------------------------------------------------------------------------------


def check_diner_day(day: date, meal: str, diners: int, today: date | None = None) -> dict:
    """Field errors of one day's count ({} when fine): no future days, no negative counts,
    a known meal."""
    errors = {}
    today = today or date.today()
    if day > today:
        errors["date"] = _("日期 %(d)s 晚于今天") % {"d": day}
    if meal not in Meal.values:
        errors["meal"] = _("未知餐次：%(m)s") % {"m": meal}
    if diners is None or diners < 0:
        errors["diners"] = _("就餐人数不能为负数")
    return errors


def record_diners(actor, canteen: Canteen, day: date, diners: int, meal: str = Meal.LUNCH,
                  source: str = DinerCount.Source.MANUAL) -> DinerCount:  # fmt: skip
    """Enter (or correct) the diners of one meal on one day."""
    if errors := check_diner_day(day, meal, diners):
        raise ValidationError(errors)
    row = DinerCount.objects.filter(canteen=canteen, date=day, meal=meal).first()
    row = row or DinerCount(canteen=canteen, date=day, meal=meal)
    row.diners, row.source = diners, source
    return save(actor, row)


def add_event(actor, canteen: Canteen, **fields) -> AttendanceEvent:
    check_fields(fields, ("date", "meal", "kind", "change", "title"))
    return save(actor, AttendanceEvent(canteen=canteen, **fields))
