"""The audit trail: signal handlers that turn every write of a ChangeLogged model into an
ObjectChange with before/after JSON (NetBox's change logging), plus the login log."""

from __future__ import annotations

import hashlib
import json
from contextlib import contextmanager
from contextvars import ContextVar

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save

from .context import current_actor
from .models import Agency, ChangeLogged, LoginLog, ObjectChange, User

# A restore reloads history; it is not itself a change, so it must not write new records.
_paused: ContextVar[bool] = ContextVar("guanjia_audit_paused", default=False)


@contextmanager
def paused():
    token = _paused.set(True)
    try:
        yield
    finally:
        _paused.reset(token)


@contextmanager
def installing(audited: bool = False):
    """Writes that are part of installing the platform (reference data loaded after
    `migrate`): done as the system and, unless `audited`, leaving no audit records."""
    from .context import acting_as

    with acting_as(source="system"):
        if audited:
            yield
        else:
            with paused():
                yield


def fingerprint(value) -> str | None:
    """A short digest that shows a secret changed without revealing it."""
    return hashlib.sha256(str(value).encode()).hexdigest()[:12] if value else None


def serialize(obj) -> dict:
    """Field values as JSON-safe data; many-to-many fields as sorted primary keys; fields in
    `audit_fingerprint` (the password hash) as a fingerprint, so a reset shows as a change."""
    data = {}
    for f in obj._meta.concrete_fields:
        if f.name in obj.audit_fingerprint:
            data[f.attname] = fingerprint(f.value_from_object(obj))
        elif isinstance(f, models.FileField):  # the stored name says which file it is
            data[f.attname] = f.value_from_object(obj).name or ""
        elif f.name not in obj.audit_exclude:
            data[f.attname] = f.value_from_object(obj)
    if obj.pk:
        for f in obj._meta.many_to_many:
            if f.name not in obj.audit_exclude:
                data[f.name] = sorted(getattr(obj, f.name).values_list("pk", flat=True))
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def _surviving_agency_id(obj, agency_id: int | None) -> int | None:
    """A deletion is filed under the object's agency, unless that agency is what was deleted
    (or went with it): then under its nearest ancestor that remains. A change record cannot
    point at an agency row that no longer exists (the foreign key fails at commit)."""
    if agency_id is None or Agency.objects.filter(pk=agency_id).exists():
        return agency_id
    if isinstance(obj, Agency):
        ancestors = [obj.path[: i * obj.steplen] for i in range(1, obj.depth)]
        survivor = Agency.objects.filter(path__in=ancestors).order_by("-depth").first()
        return survivor.pk if survivor else None
    return None


def _agency_left(obj, before: dict | None, agency_id: int | None) -> int | None:
    """An update that moves an object to another agency (a user changing agency) is filed
    under the agency it left: that agency's auditors see it go, and the new agency's see the
    object itself. One record, not two: its before/after already shows both agencies."""
    field = obj.scope_agency_field
    if not field or "__" in field or not before:
        return agency_id
    return before.get(f"{field}_id", agency_id) or agency_id


def record(obj, action: str, before: dict | None, after: dict | None) -> ObjectChange:
    actor = current_actor()
    user = actor.current_user()
    agency_id = obj.audit_agency_id()
    if action == "delete":
        agency_id = _surviving_agency_id(obj, agency_id)
    elif action == "update":
        agency_id = _agency_left(obj, before, agency_id)
    return ObjectChange.objects.create(
        user=user if user is not None and user.pk else None,
        user_name=(user.get_username() if user is not None else actor.source),
        request_id=actor.request_id,
        source=actor.source,
        action=action,
        content_type=ContentType.objects.get_for_model(type(obj), for_concrete_model=False),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        agency_id=agency_id,
        before=before,
        after=after,
    )


def _logged(sender) -> bool:
    return isinstance(sender, type) and issubclass(sender, ChangeLogged) and not _paused.get()


def _before_save(sender, instance, raw=False, **kwargs):
    if raw or not _logged(sender):
        return
    instance._audit_before = None
    if instance.pk and not instance._state.adding:
        old = sender._base_manager.filter(pk=instance.pk).first()
        instance._audit_before = serialize(old) if old else None


def _after_save(sender, instance, created, raw=False, **kwargs):
    if raw or not _logged(sender):
        return
    before = getattr(instance, "_audit_before", None)
    after = serialize(instance)
    if not created and before == after:
        return  # nothing changed: no empty records
    record(instance, "create" if created else "update", before, after)


def _before_delete(sender, instance, **kwargs):
    if _logged(sender):
        instance._audit_before = serialize(instance)


def _after_delete(sender, instance, **kwargs):
    if _logged(sender):
        record(instance, "delete", instance._audit_before, None)


def _m2m(sender, instance, action, reverse, model, pk_set, **kwargs):
    """A change of members or roles is an update of the object that holds the field."""
    if reverse or not _logged(type(instance)):
        return
    field = next(
        f.name for f in type(instance)._meta.many_to_many if f.remote_field.through is sender
    )
    if field in instance.audit_exclude:
        return
    if action in ("pre_add", "pre_remove", "pre_clear"):
        instance._audit_m2m_before = serialize(instance)
    elif action in ("post_add", "post_remove", "post_clear"):
        before = getattr(instance, "_audit_m2m_before", None)
        after = serialize(instance)
        if before != after:
            record(instance, "update", before, after)


def _client(request) -> tuple[str | None, str]:
    if request is None:
        return None, ""
    return (request.META.get("REMOTE_ADDR"), request.META.get("HTTP_USER_AGENT", "")[:255])


def _logged_in(sender, request, user, **kwargs):
    ip, agent = _client(request)
    LoginLog.objects.create(
        username=user.get_username(),
        user=user,
        agency_id=user.agency_id,
        success=True,
        message="登录成功",
        ip=ip,
        user_agent=agent,
    )


def _login_failed(sender, credentials, request=None, **kwargs):
    ip, agent = _client(request)
    username = credentials.get("username", "")[:150]
    user = User.objects.filter(username=username).first()
    locked = bool(request is not None and getattr(request, "axes_locked_out", False))
    LoginLog.objects.create(
        username=username,
        user=user,
        agency_id=user.agency_id if user else None,
        success=False,
        message="账户已锁定" if locked else "用户名或密码错误",
        ip=ip,
        user_agent=agent,
    )


def connect() -> None:
    pre_save.connect(_before_save, dispatch_uid="audit_pre_save")
    post_save.connect(_after_save, dispatch_uid="audit_post_save")
    pre_delete.connect(_before_delete, dispatch_uid="audit_pre_delete")
    post_delete.connect(_after_delete, dispatch_uid="audit_post_delete")
    m2m_changed.connect(_m2m, dispatch_uid="audit_m2m")
    user_logged_in.connect(_logged_in, dispatch_uid="audit_logged_in")
    user_login_failed.connect(_login_failed, dispatch_uid="audit_login_failed")
