"""Writes to the organisation, people and roles (Zulip's "actions").

Every write goes through one of these functions: it runs in a transaction, re-checks the
result through the caller's data scope (so nobody writes outside it), and the audit signal
records before/after with the ambient actor (see context.py). `actor=None` is the system
itself (migrations, the demo world, `guanjia` commands run by an operator).
"""

from __future__ import annotations

import secrets
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .audit import record, serialize
from .models import Agency, ApiToken, CollaborationGroup, Region, Role, User
from .scope import ensure_in_scope, role_q, scope_q

AGENCY_FIELDS = (
    "name",
    "short_name",
    "kind",
    "region",
    "credit_code",
    "contact_person",
    "contact_phone",
    "address",
    "is_active",
)


def _require(actor, model, action: str) -> None:
    """Cheap refusal before any work: the caller needs the permission at all."""
    if actor is not None and not actor.can(f"{model.scope_domain}.{action}"):
        raise PermissionDenied(_("没有权限：%(perm)s") % {"perm": f"{model.scope_domain}.{action}"})


def _check_and_delete(actor, obj) -> None:
    ensure_in_scope(actor, obj, "delete")
    obj.delete()


def _new_or_changed(actor, model, obj, fields: dict):
    """A new unsaved object, or `obj` with `fields` set once the actor may change it."""
    if obj is None:
        return model(**fields), "add"
    ensure_in_scope(actor, obj, "change")
    for name, value in fields.items():
        setattr(obj, name, value)
    return obj, "change"


def _clean(obj, exclude=None) -> None:
    obj.full_clean(exclude=exclude, validate_unique=True)


# -- regions ------------------------------------------------------------------------------


def load_regions(rows: list[dict]) -> int:
    """Load GB/T 2260 rows ({code, name, parent, level}, parents first); idempotent."""
    created = 0
    with transaction.atomic():
        by_code = {r.code: r for r in Region.objects.all()}
        for row in rows:
            if row["code"] in by_code:
                continue
            fields = {"code": row["code"], "name": row["name"], "level": row["level"]}
            parent = by_code.get(row["parent"]) if row.get("parent") else None
            region = (
                Region.objects.add_child(parent, fields)
                if parent
                else Region.objects.add_root(fields)
            )
            by_code[region.code] = region
            created += 1
    return created


# -- agencies -----------------------------------------------------------------------------


def create_agency(actor, *, parent: Agency | None = None, **fields) -> Agency:
    _require(actor, Agency, "add")
    unknown = set(fields) - set(AGENCY_FIELDS)
    if unknown:
        raise ValidationError(_("未知字段：%s") % ", ".join(sorted(unknown)))
    candidate = Agency(**fields)
    _clean(candidate, exclude=["path", "depth", "numchild"])
    with transaction.atomic():
        agency = (
            Agency.objects.add_child(parent, instance=candidate)
            if parent
            else Agency.objects.add_root(instance=candidate)
        )
        ensure_in_scope(actor, agency, "add")
    return agency


def update_agency(actor, agency: Agency, **fields) -> Agency:
    _require(actor, Agency, "change")
    with transaction.atomic():
        ensure_in_scope(actor, agency, "change")
        for name, value in fields.items():
            if name not in AGENCY_FIELDS:
                raise ValidationError(_("未知字段：%s") % name)
            setattr(agency, name, value)
        _clean(agency, exclude=["path", "depth", "numchild"])
        agency.save()
        ensure_in_scope(actor, agency, "change")
    return agency


def move_agency(actor, agency: Agency, new_parent: Agency | None) -> Agency:
    """Put an agency (and everything below it) under another parent, or make it a root."""
    _require(actor, Agency, "change")
    with transaction.atomic():
        ensure_in_scope(actor, agency, "change")
        if new_parent is not None and new_parent.path.startswith(agency.path):
            raise ValidationError(_("不能把单位移动到它自己或其下级单位之下"))
        before = serialize(agency)
        # treebeard moves with bulk SQL (no save signals), so the change is recorded here.
        if new_parent is None:
            Agency.objects.move(agency, Agency.objects.get_last_root_node(), "last-sibling")
        else:
            Agency.objects.move(agency, new_parent, "last-child")
        agency = Agency.objects.get(pk=agency.pk)
        record(agency, "update", before, serialize(agency))
        ensure_in_scope(actor, agency, "change")
    return agency


def delete_agency(actor, agency: Agency) -> None:
    _require(actor, Agency, "delete")
    with transaction.atomic():
        if Agency.objects.get_children_count(agency):
            raise ValidationError(_("该单位下还有下级单位，不能删除"))
        _check_and_delete(actor, agency)


# -- collaboration groups -----------------------------------------------------------------


def save_group(
    actor, group: CollaborationGroup | None = None, *, members=None, **fields
) -> CollaborationGroup:
    _require(actor, CollaborationGroup, "add" if group is None else "change")
    with transaction.atomic():
        group, action = _new_or_changed(actor, CollaborationGroup, group, fields)
        _clean(group)
        group.save()
        if members is not None:
            group.members.set(members)
        ensure_in_scope(actor, group, action)
    return group


def delete_group(actor, group: CollaborationGroup) -> None:
    _require(actor, CollaborationGroup, "delete")
    with transaction.atomic():
        _check_and_delete(actor, group)


# -- roles --------------------------------------------------------------------------------


def save_role(actor, role: Role | None = None, *, custom_agencies=None, **fields) -> Role:
    _require(actor, Role, "add" if role is None else "change")
    with transaction.atomic():
        role, action = _new_or_changed(actor, Role, role, fields)
        if actor is not None and not actor.is_superuser:
            _refuse_escalation(actor, role.permissions)
        _clean(role)
        role.save()
        if custom_agencies is not None:
            role.custom_agencies.set(custom_agencies)
        ensure_in_scope(actor, role, action)
        if action == "change" and actor is not None and not actor.is_superuser:
            # The actor's own roles were read (and cached) by _require above, before this
            # change: a role the actor holds cannot lift its own limit here.
            _refuse_wider_scope(actor, role, role.users.select_related("agency__region"))
    return role


def _refuse_escalation(actor, permissions: list[str]) -> None:
    """Nobody hands out a permission they do not hold themselves ("org.*" needs "org.*")."""
    missing = [p for p in permissions if p != "*" and not actor.can(p)]
    if "*" in permissions or missing:
        raise PermissionDenied(_("不能授予自己没有的权限：%s") % ", ".join(missing or ["*"]))


def _refuse_wider_scope(actor, role: Role, holders) -> None:
    """Nobody hands out a data scope reaching agencies they cannot reach themselves: for
    each holder and each permission of the role, the agencies the role opens to the holder
    must lie within the agencies the actor reaches with that permission."""
    for holder in holders:
        opened = role_q(role, holder, "", "")
        reach = Agency.objects.all() if opened is None else Agency.objects.filter(opened)
        for permission in role.permissions:
            mine = scope_q(Agency, actor, "view", wanted=permission)
            if mine is not None and reach.exclude(mine).exists():
                raise PermissionDenied(
                    _("不能授予超出自己数据范围的角色：%(role)s") % {"role": role.name}
                )


def delete_role(actor, role: Role) -> None:
    _require(actor, Role, "delete")
    with transaction.atomic():
        _check_and_delete(actor, role)


# -- users --------------------------------------------------------------------------------

USER_FIELDS = ("real_name", "phone", "email", "agency", "is_active")


def create_user(actor, *, username: str, password: str | None, roles=(), **fields) -> User:
    _require(actor, User, "add")
    user = User(username=username, **{k: v for k, v in fields.items() if k in USER_FIELDS})
    if password:
        from django.contrib.auth.password_validation import validate_password

        validate_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    _clean(user, exclude=["password"])
    with transaction.atomic():
        user.save()
        if roles:
            _check_roles_assignable(actor, roles, user)
            user.roles.set(roles)
        ensure_in_scope(actor, user, "add")
    return user


def update_user(actor, user: User, *, roles=None, password: str | None = None, **fields) -> User:
    _require(actor, User, "change")
    with transaction.atomic():
        ensure_in_scope(actor, user, "change")
        for name, value in fields.items():
            if name not in USER_FIELDS:
                raise ValidationError(_("未知字段：%s") % name)
            setattr(user, name, value)
        if password:
            from django.contrib.auth.password_validation import validate_password

            validate_password(password, user)
            user.set_password(password)
        _clean(user, exclude=["password"])
        user.save()
        if roles is not None:
            _check_roles_assignable(actor, roles, user)
            user.roles.set(roles)
        ensure_in_scope(actor, user, "change")
    return user


def _check_roles_assignable(actor, roles, holder: User) -> None:
    if actor is None:
        return
    visible = set(Role.objects.restrict(actor, "view").values_list("pk", flat=True))
    for role in roles:
        if role.pk not in visible:
            raise PermissionDenied(_("不能分配范围之外的角色：%s") % role.name)
        if not actor.is_superuser:
            _refuse_escalation(actor, role.permissions)
            _refuse_wider_scope(actor, role, [holder])


# -- tokens -------------------------------------------------------------------------------


def create_token(
    actor, user: User, name: str = "", expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Returns the token row and the raw token; the raw token is never stored or shown again."""
    if actor is not None and actor.pk != user.pk:
        _require(actor, User, "change")
        ensure_in_scope(actor, user, "change")
    raw = "gj_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=raw[:10], digest=ApiToken.digest_of(raw), expires_at=expires_at
    )
    return token, raw


def revoke_token(actor, token: ApiToken) -> ApiToken:
    if actor is not None and actor.pk != token.user_id:
        ensure_in_scope(actor, token, "change")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    return token


def user_for_token(raw: str) -> User | None:
    """The active user a bearer token belongs to, or None (unknown, revoked, expired)."""
    if not raw or len(raw) > 128:
        return None
    token = (
        ApiToken.objects.select_related("user", "user__agency")
        .filter(digest=ApiToken.digest_of(raw), revoked_at__isnull=True)
        .first()
    )
    now = timezone.now()
    if token is None or (token.expires_at and token.expires_at <= now):
        return None
    if not token.user.is_active:
        return None
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
