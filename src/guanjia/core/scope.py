"""The one data-scope mechanism: `Model.objects.restrict(user, action)`.

RuoYi's five data scopes (codes kept because Chinese administrators know them) plus a
region-based variant, enforced NetBox's way: a user's roles that grant `domain.action` are
compiled into one `Q`, OR-ed; a single "all" wins; no matching role means nothing. Every
list, detail, export, search and indicator starts from `restrict()`, and service functions
re-check a written object through it inside the transaction (`ensure_in_scope`).

A model says how it reaches its agency with three class attributes:

    scope_domain = "org"          # permission domain: roles grant "org.view", "org.change" …
    scope_agency_field = "agency" # path to the owning Agency ("" = the model *is* Agency,
                                  # None = reference data that no agency owns)
    scope_owner_field = "created_by"  # path to the owning user, for "only own records"
"""

from __future__ import annotations

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

ACTIONS = ("view", "add", "change", "delete")
NOTHING = Q(pk__in=[])


class DataScope(models.TextChoices):
    ALL = "1", _("全部数据权限")
    CUSTOM = "2", _("自定数据权限")
    AGENCY = "3", _("本单位数据权限")
    AGENCY_AND_BELOW = "4", _("本单位及以下数据权限")
    SELF = "5", _("仅本人数据权限")
    REGION = "6", _("本地区及以下数据权限")


def permission_matches(granted: str, wanted: str) -> bool:
    """`*` grants everything, `org.*` every action of a domain, `org.view` one action."""
    if granted in ("*", wanted):
        return True
    domain, _sep, action = granted.partition(".")
    return action == "*" and wanted.startswith(domain + ".")


def _prefixed(prefix: str, field: str) -> str:
    return f"{prefix}__{field}" if prefix else field


def _agencies_q(agency: str, **lookup) -> Q:
    """Rows whose agency (at path `agency`) matches `lookup`. On the Agency model itself the
    lookup applies directly; elsewhere it becomes `agency_id IN (SELECT id FROM agency …)`,
    which lets the database use the row table's agency index instead of joining every row
    to its agency first (on SQLite 30× faster on a 96,000-car register)."""
    if not agency:
        return Q(**lookup)
    agencies = apps.get_model("core", "Agency").objects.filter(**lookup).values("pk")
    return Q(**{f"{agency}__in": agencies})


def subtree_q(agency_field: str, agency) -> Q:
    """Rows whose agency (at path `agency_field`) is `agency` or below it, in the fast form
    (see `_agencies_q`). Filters that narrow a list to an agency's subtree use this."""
    return _agencies_q(agency_field, path__startswith=agency.path)


def role_q(role, user, agency: str | None, owner: str) -> Q | None:
    """What one role lets `user` (its holder) reach of a model whose agency is at path
    `agency` and owner at path `owner`; None means everything."""
    if agency is None:  # reference data no agency owns: the permission is enough
        return None
    match role.data_scope:
        case DataScope.ALL:
            return None
        case DataScope.CUSTOM:
            ids = [a.pk for a in role.custom_agencies.all()]
            return Q(**{_prefixed(agency, "pk__in"): ids})
        case DataScope.AGENCY if user.agency_id:
            return Q(**{_prefixed(agency, "pk"): user.agency_id})
        case DataScope.AGENCY_AND_BELOW if user.agency_id:
            return _agencies_q(agency, path__startswith=user.agency.path)
        case DataScope.REGION if user.agency_id:
            return _agencies_q(agency, region__path__startswith=user.agency.region.path)
        case DataScope.SELF if owner:
            return Q(**{owner: user.pk})
    return NOTHING


def scope_q(model, user, action: str, wanted: str | None = None) -> Q | None:
    """The filter for `user` doing `action` on `model`; None means unrestricted.
    `wanted` overrides the permission asked for (default: "<domain>.<action>")."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NOTHING
    if user.is_superuser:
        return None
    wanted = wanted or f"{model.scope_domain}.{action}"
    q, matched = NOTHING, False
    for role in user.roles_with(wanted):
        matched = True
        one = role_q(role, user, model.scope_agency_field, model.scope_owner_field)
        if one is None:
            return None
        q |= one
    if not matched:
        return NOTHING
    if extra := model.scope_extra_q(user, action):
        q |= extra
    return q


class RestrictedQuerySet(models.QuerySet):
    def restrict(self, user, action: str = "view"):
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        q = scope_q(self.model, user, action)
        return self if q is None else self.filter(q)


class ScopedModel(models.Model):
    """Mixin for every model holding agency data."""

    scope_domain = "org"
    scope_agency_field = "agency"
    scope_owner_field = ""

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        abstract = True

    @classmethod
    def scope_extra_q(cls, user, action: str) -> Q | None:
        """Rows a model lets a user see beyond the role scopes (e.g. group members)."""
        return None


def ensure_in_scope(user, obj, action: str) -> None:
    """Re-check a just-written object through the same restriction, inside the transaction.

    Raising here rolls the write back: a user of "own agency" cannot create a record in, or
    move one into, another agency.
    """
    if user is None:  # system writes (migrations, demo world, CLI as the system)
        return
    if not type(obj).objects.restrict(user, action).filter(pk=obj.pk).exists():
        raise PermissionDenied(_("没有权限在该单位范围内操作此数据"))
