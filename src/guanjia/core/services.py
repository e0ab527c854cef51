"""Writes to the organisation, people and roles (Zulip's "actions").

Every write goes through one of these functions: it runs in a transaction, re-checks the
result through the caller's data scope (so nobody writes outside it), and the audit signal
records before/after with the ambient actor (see context.py). `actor=None` is the system
itself (migrations, the demo world, `guanjia` commands run by an operator).
"""

from __future__ import annotations

import copy
import secrets
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _

from .audit import record, serialize
from .models import Agency, ApiToken, CollaborationGroup, Region, Role, User
from .scope import NOTHING, ensure_in_scope, permission_matches, role_q, scope_q

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


def _refuse_unknown(fields: dict, allowed) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError(_("未知字段：%s") % ", ".join(sorted(unknown)))


def _clean(obj, exclude=None, actor=None) -> None:
    try:
        obj.full_clean(exclude=exclude, validate_unique=True)
    except ValidationError as exc:
        if actor is not None and hasattr(exc, "error_dict"):
            _hide_unseen_clashes(actor, obj, exc)
        raise


def _hide_unseen_clashes(actor, obj, exc: ValidationError) -> None:
    """A unique value taken by a row the actor may not see is refused with a generic
    message: "already exists" would confirm a record outside the caller's scope."""
    model = type(obj)
    visible = model.objects.restrict(actor, "view")
    for name in list(exc.error_dict):
        field = next((f for f in model._meta.concrete_fields if f.name == name), None)
        if field is None or not field.unique:
            continue
        clash = model._base_manager.filter(**{name: getattr(obj, field.attname)})
        clash = clash.exclude(pk=obj.pk) if obj.pk else clash
        if clash.exists() and not visible.filter(pk__in=clash.values("pk")).exists():
            exc.error_dict[name] = [
                ValidationError(_("该%(field)s不可用") % {"field": field.verbose_name})
            ]


def _refuse_unless_reaches(actor, action: str, parent: Agency | None) -> None:
    """An agency goes under `parent` (None: becomes a root) only if the actor may `action`
    the parent; a root only for an actor whose scope for `action` is unrestricted."""
    if actor is None:
        return
    if parent is None:
        if scope_q(Agency, actor, action) is not None:
            raise PermissionDenied(_("没有权限创建或移动为顶级单位"))
    elif not Agency.objects.restrict(actor, action).filter(pk=parent.pk).exists():
        raise PermissionDenied(_("没有权限在该上级单位下操作"))


def find_agency(text: str, queryset=None) -> Agency:
    """An agency by exact name, short name, unified social credit code or id (the codes the
    agency list and API show). LookupError if none or several match."""
    text = (text or "").strip()
    qs = Agency.objects.all() if queryset is None else queryset
    q = Q(name=text) | Q(credit_code=text.upper())
    found = list(qs.filter(q)[:2])
    if not found:
        found = list(qs.filter(short_name=text)[:2]) if text else []
    if not found and text.isdigit():
        found = list(qs.filter(pk=int(text))[:1])
    if len(found) != 1:
        raise LookupError(
            _("找不到唯一的单位：%(t)s（请填写单位全称或统一社会信用代码）") % {"t": text}
        )
    return found[0]


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
    _refuse_unknown(fields, AGENCY_FIELDS)
    candidate = Agency(**fields)
    _clean(candidate, exclude=["path", "depth", "numchild"], actor=actor)
    with transaction.atomic():
        _refuse_unless_reaches(actor, "add", parent)
        agency = (
            Agency.objects.add_child(parent, instance=candidate)
            if parent
            else Agency.objects.add_root(instance=candidate)
        )
        ensure_in_scope(actor, agency, "add")
    return agency


def update_agency(actor, agency: Agency, **fields) -> Agency:
    _require(actor, Agency, "change")
    _refuse_unknown(fields, AGENCY_FIELDS)
    with transaction.atomic():
        agency, _action = _new_or_changed(actor, Agency, agency, fields)
        _clean(agency, exclude=["path", "depth", "numchild"], actor=actor)
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
        _refuse_unless_reaches(actor, "change", new_parent)
        mine = scope_q(Agency, actor, "change") if actor is not None else None
        if mine is not None:  # everything that moves with it must be the actor's to change
            if Agency.objects.filter(path__startswith=agency.path).exclude(mine).exists():
                raise PermissionDenied(_("该单位的下级单位中有超出数据范围的单位，不能移动"))
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
        _clean(group, actor=actor)
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
    restricted = actor is not None and not actor.is_superuser
    with transaction.atomic():
        holders, before, granted = [], {}, []
        if role is not None and restricted:
            # What the role gives its holders now, before the change, may stay. Read from
            # the database: a form may have set the new values on `role` already.
            stored = Role.objects.get(pk=role.pk)
            holders = list(stored.users.select_related("agency__region"))
            before, granted = _opened_by(stored, holders), list(stored.permissions)
        role, action = _new_or_changed(actor, Role, role, fields)
        if restricted:
            _refuse_escalation(actor, role.permissions)
        _clean(role, actor=actor)
        role.save()
        if custom_agencies is not None:
            role.custom_agencies.set(custom_agencies)
        ensure_in_scope(actor, role, action)
        if holders:
            # The actor's own roles were read (and cached) by _require above, before this
            # change: a role the actor holds cannot lift its own limit here.
            _refuse_wider_scope(actor, role, holders, before=before, granted=granted)
    return role


def _refuse_escalation(actor, permissions: list[str], held: bool = False) -> None:
    """Nobody hands out a permission they do not hold themselves ("org.*" needs "org.*"),
    nor "*" (only superusers do). For roles a user holds already (`held`) holding each
    permission is enough, "*" included: the actor is at least as strong as the holder."""
    missing = [p for p in permissions if (held or p != "*") and not actor.can(p)]
    if missing or (not held and "*" in permissions):
        raise PermissionDenied(_("不能授予自己没有的权限：%s") % ", ".join(missing or ["*"]))


def _opened_by(role: Role, holders) -> dict:
    """What `role` opens to its holders (a Q over Agency, None for every agency), per holder
    agency: the role opens the same to every holder of one agency."""
    prefetch_related_objects([role], "custom_agencies")
    by_agency = {holder.agency_id: holder for holder in holders}
    return {key: role_q(role, holder, "", "") for key, holder in by_agency.items()}


def _refuse_wider_scope(actor, role: Role, holders, before=None, granted=()) -> None:
    """Nobody hands out a data scope reaching agencies they cannot reach themselves: for
    each permission of the role, the agencies it opens to its holders must lie within the
    agencies the actor reaches with that permission. For a change of the role, `before`
    (what it opened per holder agency, see _opened_by) and `granted` (its permissions) are
    what it gave already, maybe by someone with a wider reach: that may stay, and only what
    the change adds is checked. One query per permission, however many holders."""
    opened = _opened_by(role, holders)
    before = before or {}
    for permission in role.permissions:
        mine = scope_q(Agency, actor, "view", wanted=permission)
        if mine is None:
            continue
        had = before if any(permission_matches(g, permission) for g in granted) else {}
        added = NOTHING
        for key, q in opened.items():
            new = Q(pk__isnull=False) if q is None else q
            if key in had:
                if had[key] is None:  # it opened every agency already
                    continue
                new &= ~had[key]
            added |= new
        if Agency.objects.filter(added).exclude(mine).exists():
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
    _clean(user, exclude=["password"], actor=actor)
    with transaction.atomic():
        user.save()
        if roles:
            _check_roles_assignable(actor, roles, user)
            user.roles.set(roles)
        ensure_in_scope(actor, user, "add")
    return user


def update_user(actor, user: User, *, roles=None, password: str | None = None, **fields) -> User:
    """Change a user. Roles are checked as far as the change adds them: roles the user holds
    already may stay even where the editor cannot see them, but a user holding more than
    the editor could give is not the editor's to change (see _refuse_stronger)."""
    _require(actor, User, "change")
    _refuse_unknown(fields, USER_FIELDS)
    if actor is user:  # the checks below need the actor as they are before this change
        actor = copy.copy(actor)
    with transaction.atomic():
        user, _action = _new_or_changed(actor, User, user, fields)
        # The user as stored (a form may have set new values on `user` already), with all
        # their roles (whatever was prefetched): who they are before this change.
        stored = User.objects.select_related("agency__region").get(pk=user.pk)
        held = list(Role.objects.filter(users=user))
        _refuse_stronger(actor, stored, held)
        if password:
            from django.contrib.auth.password_validation import validate_password

            validate_password(password, user)
            user.set_password(password)
        _clean(user, exclude=["password"], actor=actor)
        user.save()
        held_pks = {r.pk for r in held}
        kept = held
        if roles is not None:
            _check_roles_assignable(actor, [r for r in roles if r.pk not in held_pks], user)
            kept = [r for r in roles if r.pk in held_pks]
            user.roles.set(roles)
        if user.agency_id != stored.agency_id:
            # What the roles kept give the user at the new agency is checked anew.
            _check_roles_assignable(actor, kept, user, held=True)
        ensure_in_scope(actor, user, "change")
    return user


def _check_roles_assignable(actor, roles, holder: User, *, held: bool = False) -> None:
    """The actor may give `roles` to `holder`: roles the actor can see, permissions the
    actor holds, and no data scope reaching beyond the actor's. `held`: roles the holder
    has already, which may be invisible to the actor (see _refuse_escalation for "*")."""
    if actor is None or actor.is_superuser:
        return
    visible = (
        set() if held else set(Role.objects.restrict(actor, "view").values_list("pk", flat=True))
    )
    for role in roles:
        if not held and role.pk not in visible:
            raise PermissionDenied(_("不能分配范围之外的角色：%s") % role.name)
        _refuse_escalation(actor, role.permissions, held=held)
        _refuse_wider_scope(actor, role, [holder])


def _refuse_stronger(actor, target: User, held) -> None:
    """Changing another user (password, activation, agency, roles, tokens) is for someone at
    least as strong: holding every permission of the user's roles and reaching every agency
    those roles open to them. Else resetting the password of someone stronger would take
    over their rights. Changing oneself is within one's own rights (but see update_user)."""
    if actor is None or actor.is_superuser or actor.pk == target.pk:
        return
    if target.is_superuser:
        raise PermissionDenied(_("不能修改超级管理员"))
    try:
        _check_roles_assignable(actor, held, target, held=True)
    except PermissionDenied:
        raise PermissionDenied(
            _("不能修改权限或数据范围超出自己的用户：%s") % target.get_username()
        ) from None


# -- tokens -------------------------------------------------------------------------------


def create_token(
    actor, user: User, name: str = "", expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Returns the token row and the raw token; the raw token is never stored or shown again."""
    if actor is not None and actor.pk != user.pk:
        _require(actor, User, "change")
        ensure_in_scope(actor, user, "change")
        _refuse_stronger(actor, user, list(Role.objects.filter(users=user)))
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


# -- the working calendar -------------------------------------------------------------------


def save_calendar_day(actor, *, date, is_workday: bool, name: str = "", source: str = ""):
    """Declare `date` a workday or a day off (a new year's 放假安排, a local correction);
    a date already in the table is changed."""
    from .models import CalendarDay

    entry = CalendarDay.objects.filter(date=date).first()
    _require(actor, CalendarDay, "change" if entry else "add")
    entry = entry or CalendarDay(date=date)
    entry.is_workday, entry.name, entry.source = is_workday, name, source
    with transaction.atomic():
        _clean(entry)
        entry.save()
    return entry


def delete_calendar_day(actor, entry) -> None:
    from .models import CalendarDay

    _require(actor, CalendarDay, "delete")
    entry.delete()
