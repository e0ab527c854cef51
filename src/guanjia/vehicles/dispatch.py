"""Online dispatch (网上派车): the services behind the pages, the API and the CLI.

The life of a request (TripRequest.Status):

    requested ──approve──▶ approved ──assign──▶ assigned ──start──▶ in_progress ──end──▶ completed
        │ reject                │                  │ (re-assign)                         (rate)
        ▼                       └──── cancel ──────┴──▶ cancelled
    rejected

* A staff member requests a car for their own agency (a dispatcher may file for any agency
  they reach with dispatch.add). Numbers are "PC" + yyyymmdd + a four-digit sequence.
* Approval and rejection need dispatch.change over the request's agency through a role whose
  scope is an agency scope ("only own records" approves nothing), and never by the
  requester.
* The dispatcher (same rule) assigns a vehicle and a driver from their vehicles scope; the
  checks of `conflicts` must all pass. Assigning `pool_with` another request puts both in
  one car (集约管车): every member points at the same `pool_lead` (the lead at itself).
* Start and end move the whole pool at once (one car, one odometer); the end odometer must
  not be below the start and becomes the vehicle's odometer.
* The requester rates a completed trip once (1–5 and a comment); the requester or the
  dispatcher cancels with a reason before the car leaves, which frees the car and the driver.

Every function takes the acting user first (None = the system), runs in one transaction,
refuses with a Chinese ValidationError or PermissionDenied and writes nothing then.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.core.models import Agency
from guanjia.core.scope import NOTHING, ensure_in_scope, role_q

from . import conflicts
from .models import Driver, TripRequest, Vehicle

S = TripRequest.Status
CANCELLABLE = (S.REQUESTED, S.APPROVED, S.ASSIGNED)
REQUEST_FIELDS = (
    "purpose",
    "passengers",
    "passenger_names",
    "origin",
    "origin_lat",
    "origin_lon",
    "destination",
    "destination_lat",
    "destination_lon",
    "start_at",
    "end_at",
)
MAX_PASSENGERS = 60


# -- who may do what ------------------------------------------------------------------------


def agencies_reached(user, action: str = "change"):
    """Agencies in which `user` holds dispatch.<action> through an agency-wide scope (the
    "only own records" scope reaches no agency: it lets one handle one's own requests)."""
    if user is None or user.is_superuser:
        return Agency.objects.all()
    if not user.is_authenticated or not user.is_active:
        return Agency.objects.none()
    q = NOTHING
    for role in user.roles_with(f"dispatch.{action}"):
        one = role_q(role, user, "", "")
        if one is None:
            return Agency.objects.all()
        q |= one
    return Agency.objects.filter(q)


def reaches(user, agency_id: int, action: str = "change") -> bool:
    return agencies_reached(user, action).filter(pk=agency_id).exists()


def can_dispatch(user, trip: TripRequest) -> bool:
    """May `user` approve, assign, start or end `trip`?"""
    return reaches(user, trip.agency_id, "change")


def _require_dispatcher(user, trip: TripRequest) -> None:
    if not can_dispatch(user, trip):
        raise PermissionDenied(_("没有权限审批或调度该单位的用车申请"))


def _locked(trip: TripRequest) -> TripRequest:
    return TripRequest.objects.select_for_update().get(pk=trip.pk)


def _refuse_status(trip: TripRequest, allowed, verb: str) -> None:
    if trip.status not in allowed:
        raise ValidationError(
            _("派车单 %(number)s 当前为“%(status)s”，不能%(verb)s")
            % {"number": trip.number, "status": trip.get_status_display(), "verb": verb}
        )


# -- requesting -----------------------------------------------------------------------------


def next_number(day) -> str:
    prefix = f"PC{day:%Y%m%d}"
    last = (  # longest first: after …9999 comes …10000, which sorts lower as text
        TripRequest.objects.filter(number__startswith=prefix)
        .order_by(Length("number").desc(), "-number")
        .values_list("number", flat=True)
        .first()
    )
    return f"{prefix}{int(last[len(prefix) :]) + 1 if last else 1:04d}"


def _check_request(fields: dict, actor) -> None:
    errors: dict[str, list[str]] = {}

    def err(field, message):
        errors.setdefault(field, []).append(message)

    for name, label in (
        ("purpose", _("用车事由")),
        ("origin", _("出发地")),
        ("destination", _("目的地")),
    ):
        if not str(fields.get(name) or "").strip():
            err(name, _("请填写%(what)s") % {"what": label})
    passengers = fields.get("passengers")
    if not isinstance(passengers, int) or not 1 <= passengers <= MAX_PASSENGERS:
        err("passengers", _("乘车人数应为 1 至 %(n)s 的整数") % {"n": MAX_PASSENGERS})
    start, end = fields.get("start_at"), fields.get("end_at")
    if not isinstance(start, datetime) or not isinstance(end, datetime):
        err("start_at", _("请填写用车开始和结束时间"))
    elif end <= start:
        err("end_at", _("用车结束时间应晚于开始时间"))
    elif actor is not None and end <= timezone.now():
        err("end_at", _("用车结束时间已过，不能申请"))
    for place in ("origin", "destination"):
        lat, lon = fields.get(f"{place}_lat"), fields.get(f"{place}_lon")
        if (lat is None) != (lon is None):
            err(f"{place}_lat", _("经纬度应同时填写或同时留空"))
        elif lat is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
            err(f"{place}_lat", _("经纬度超出范围"))
    if errors:
        raise ValidationError(errors)


def request_trip(actor, *, agency: Agency | None = None, requester=None, **fields) -> TripRequest:
    """File a request. `agency` defaults to the actor's own; another agency needs
    dispatch.add over it. `requester` (the system only) files on someone's behalf."""
    unknown = set(fields) - set(REQUEST_FIELDS)
    if unknown:
        raise ValidationError(_("未知字段：%s") % ", ".join(sorted(unknown)))
    if actor is not None:
        if not actor.can("dispatch.add"):
            raise PermissionDenied(_("没有权限：%(perm)s") % {"perm": "dispatch.add"})
        requester = actor
    if requester is None:
        raise ValidationError(_("请指定申请人"))
    agency = agency or requester.agency
    if agency is None:
        raise ValidationError({"agency": [_("申请人没有所属单位，请指定用车单位")]})
    if actor is not None and agency.pk != actor.agency_id and not reaches(actor, agency.pk, "add"):
        raise PermissionDenied(_("没有权限为该单位申请用车"))
    for name in ("purpose", "origin", "destination", "passenger_names"):
        if isinstance(fields.get(name), str):
            fields[name] = fields[name].strip()
    fields.setdefault("passengers", 1)
    _check_request(fields, actor)
    day = timezone.localdate()
    for _attempt in range(5):
        try:
            with transaction.atomic():
                trip = TripRequest(
                    number=next_number(day), agency=agency, requester=requester, **fields
                )
                trip.full_clean(exclude=["number"])
                trip.save()
                ensure_in_scope(actor, trip, "add")
                return trip
        except IntegrityError:  # another request took the number: take the next one
            continue
    raise ValidationError(_("派车单号生成失败，请重试"))


# -- approval -------------------------------------------------------------------------------


def _decide(actor, trip: TripRequest) -> TripRequest:
    trip = _locked(trip)
    _require_dispatcher(actor, trip)
    if actor is not None and trip.requester_id == actor.pk:
        raise PermissionDenied(_("不能审批本人提出的用车申请"))
    _refuse_status(trip, (S.REQUESTED,), _("审批"))
    return trip


@transaction.atomic
def approve(actor, trip: TripRequest) -> TripRequest:
    trip = _decide(actor, trip)
    trip.status, trip.approver, trip.approved_at = S.APPROVED, actor, timezone.now()
    trip.save()
    ensure_in_scope(actor, trip, "change")
    return trip


@transaction.atomic
def reject(actor, trip: TripRequest, reason: str) -> TripRequest:
    """Reject with a reason; `approved_at` then records when it was decided."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"rejection_reason": [_("请填写驳回理由")]})
    trip = _decide(actor, trip)
    trip.status, trip.approver, trip.approved_at = S.REJECTED, actor, timezone.now()
    trip.rejection_reason = reason[:255]
    trip.save()
    ensure_in_scope(actor, trip, "change")
    return trip


# -- assignment -----------------------------------------------------------------------------


def pool_members(trip: TripRequest, statuses=(S.ASSIGNED, S.IN_PROGRESS)) -> list[TripRequest]:
    """The orders sharing `trip`'s car (`trip` included), earliest first."""
    if trip.pool_lead_id is None:
        return [trip] if trip.status in statuses else []
    return list(
        TripRequest.objects.filter(pool_lead_id=trip.pool_lead_id, status__in=statuses)
        .select_related("vehicle", "driver")
        .order_by("start_at", "pk")
    )


def _detach(actor, trip: TripRequest) -> None:
    """Take `trip` out of its pool (saved by the caller); the pool keeps a lead, and a pool
    of one is no pool. The other members relinked must be in `actor`'s scope (None: the
    system, e.g. a requester cancelling their own trip)."""
    lead_id = trip.pool_lead_id
    if lead_id is None:
        return
    trip.pool_lead = None
    rest = list(
        TripRequest.objects.filter(pool_lead_id=lead_id)
        .exclude(pk=trip.pk)
        .exclude(status=S.CANCELLED)
        .order_by("start_at", "pk")
    )
    new_lead = None if len(rest) <= 1 else (rest[0] if lead_id == trip.pk else None)
    for other in rest:
        if len(rest) <= 1:
            other.pool_lead = None
        elif new_lead is not None:
            other.pool_lead = new_lead
        else:
            continue
        other.save()
        ensure_in_scope(actor, other, "change")


def _in_vehicle_scope(actor, vehicle: Vehicle, driver: Driver) -> None:
    if actor is None:
        return
    if not Vehicle.objects.restrict(actor, "view").filter(pk=vehicle.pk).exists():
        raise PermissionDenied(_("车辆 %(plate)s 不在您的管理范围内") % {"plate": vehicle.plate})
    if not Driver.objects.restrict(actor, "view").filter(pk=driver.pk).exists():
        raise PermissionDenied(_("驾驶员 %(name)s 不在您的管理范围内") % {"name": driver.name})


@transaction.atomic
def assign(
    actor,
    trip: TripRequest,
    vehicle: Vehicle | None = None,
    driver: Driver | None = None,
    *,
    pool_with: TripRequest | None = None,
) -> TripRequest:
    """Assign a vehicle and a driver to an approved request (or re-assign an assigned one).

    With `pool_with`, the two share one car: an already assigned `pool_with` lends its car
    and driver (`vehicle`/`driver` may be omitted); an approved one is assigned together
    with `trip` to the given car. Their windows must overlap.
    """
    trip = _locked(trip)
    _require_dispatcher(actor, trip)
    if trip.status not in (S.APPROVED, S.ASSIGNED):
        raise ValidationError(
            _("派车单 %(number)s 当前为“%(status)s”，只有审批通过的申请才能派车")
            % {"number": trip.number, "status": trip.get_status_display()}
        )
    members, pooled, lead = [trip], [], None
    if pool_with is not None:
        other = _locked(pool_with)
        if other.pk == trip.pk:
            raise ValidationError(_("不能与自身拼车"))
        _require_dispatcher(actor, other)
        if not (other.start_at < trip.end_at and trip.start_at < other.end_at):
            raise ValidationError(
                _("派车单 %(a)s 与 %(b)s 的用车时间不重叠，不能拼车")
                % {"a": trip.number, "b": other.number}
            )
        if other.status == S.ASSIGNED:
            vehicle = vehicle or other.vehicle
            driver = driver or other.driver
            if vehicle.pk != other.vehicle_id or driver.pk != other.driver_id:
                raise ValidationError(_("拼车须使用同一车辆和驾驶员"))
            pooled = [m for m in pool_members(other, (S.ASSIGNED,)) if m.pk != trip.pk]
            lead = TripRequest.objects.get(pk=other.pool_lead_id) if other.pool_lead_id else other
        elif other.status == S.APPROVED:
            members.append(other)
            lead = min(members, key=lambda t: (t.start_at, t.pk))
        else:
            raise ValidationError(
                _("派车单 %(number)s 当前为“%(status)s”，只能与待派车或已派车（未出车）的申请拼车")
                % {"number": other.number, "status": other.get_status_display()}
            )
    if vehicle is None or driver is None:
        raise ValidationError(_("请选择车辆和驾驶员"))
    _in_vehicle_scope(actor, vehicle, driver)
    problems = conflicts.assignment_problems(vehicle, driver, members, pooled, actor)
    if problems:
        raise ValidationError(problems)
    now = timezone.now()
    for member in members:
        if member.pool_lead_id is not None and (lead is None or member.pool_lead_id != lead.pk):
            _detach(actor, member)
    if lead is not None and lead.pool_lead_id != lead.pk:
        lead.pool_lead = lead
        if lead.pk not in {m.pk for m in members}:
            lead.save()
    for member in members:
        member.vehicle, member.driver, member.dispatcher = vehicle, driver, actor
        member.status, member.assigned_at = S.ASSIGNED, now
        member.pool_lead = lead
        member.save()
        ensure_in_scope(actor, member, "change")
    return trip


# -- the trip itself ------------------------------------------------------------------------


def _odometer(value, label: str) -> Decimal:
    try:
        km = Decimal(str(value)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError(_("%(what)s应为数字（公里）") % {"what": label}) from None
    if km < 0 or km >= Decimal("1e9"):
        raise ValidationError(_("%(what)s超出范围") % {"what": label})
    return km


@transaction.atomic
def start(actor, trip: TripRequest, odometer_km=None, *, at: datetime | None = None):
    """The car leaves: every assigned order of its pool starts with the odometer now
    (default: the vehicle's registered odometer)."""
    trip = _locked(trip)
    _require_dispatcher(actor, trip)
    _refuse_status(trip, (S.ASSIGNED,), _("出车"))
    vehicle = Vehicle.objects.select_for_update().get(pk=trip.vehicle_id)
    if problems := conflicts.vehicle_problems(vehicle):
        raise ValidationError(problems)
    members = pool_members(trip, (S.ASSIGNED,))
    busy = (
        TripRequest.objects.filter(vehicle=vehicle, status=S.IN_PROGRESS)
        .exclude(pk__in=[m.pk for m in members])
        .first()
    )
    if busy is not None:
        if not conflicts.may_list(actor, busy):
            raise ValidationError(
                _("车辆 %(plate)s 尚有其他单位未收车的派车任务") % {"plate": vehicle.plate}
            )
        raise ValidationError(
            _("车辆 %(plate)s 尚有未收车的派车单 %(number)s")
            % {"plate": vehicle.plate, "number": busy.number}
        )
    km = vehicle.odometer_km if odometer_km in (None, "") else _odometer(odometer_km, _("出车里程"))
    if km < vehicle.odometer_km:
        raise ValidationError(
            _("出车里程 %(km)s 公里小于车辆登记里程 %(reg)s 公里")
            % {"km": km, "reg": vehicle.odometer_km}
        )
    at = at or timezone.now()
    for member in members:
        member.status, member.started_at, member.start_odometer_km = S.IN_PROGRESS, at, km
        member.save()
        ensure_in_scope(actor, member, "change")
    trip.refresh_from_db()
    return trip


@transaction.atomic
def end(actor, trip: TripRequest, odometer_km, *, at: datetime | None = None):
    """The car is back: the pool's trips complete; the vehicle's odometer moves on."""
    trip = _locked(trip)
    _require_dispatcher(actor, trip)
    _refuse_status(trip, (S.IN_PROGRESS,), _("收车"))
    if odometer_km in (None, ""):
        raise ValidationError({"end_odometer_km": [_("请填写收车里程")]})
    km = _odometer(odometer_km, _("收车里程"))
    if km < trip.start_odometer_km:
        raise ValidationError(
            {
                "end_odometer_km": [
                    _("收车里程 %(end)s 公里小于出车里程 %(start)s 公里")
                    % {"end": km, "start": trip.start_odometer_km}
                ]
            }
        )
    at = at or timezone.now()
    for member in pool_members(trip, (S.IN_PROGRESS,)):
        member.status, member.ended_at, member.end_odometer_km = S.COMPLETED, at, km
        member.save()
        ensure_in_scope(actor, member, "change")
    vehicle = Vehicle.objects.select_for_update().get(pk=trip.vehicle_id)
    if km > vehicle.odometer_km:
        vehicle.odometer_km = km
        vehicle.save()
    trip.refresh_from_db()
    return trip


@transaction.atomic
def rate(actor, trip: TripRequest, rating, comment: str = "") -> TripRequest:
    trip = _locked(trip)
    if actor is not None and trip.requester_id != actor.pk:
        raise PermissionDenied(_("只有申请人可以评价本次用车"))
    _refuse_status(trip, (S.COMPLETED,), _("评价"))
    if trip.rating is not None:
        raise ValidationError(_("本次用车已评价"))
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        raise ValidationError({"rating": [_("评价应为 1 至 5 分")]})
    trip.rating, trip.rating_comment = rating, (comment or "").strip()[:255]
    trip.save()
    ensure_in_scope(actor, trip, "change")
    return trip


@transaction.atomic
def cancel(actor, trip: TripRequest, reason: str) -> TripRequest:
    """Cancel before the car leaves (by the requester or a dispatcher); frees the car."""
    trip = _locked(trip)
    if actor is not None and trip.requester_id != actor.pk and not can_dispatch(actor, trip):
        raise PermissionDenied(_("只有申请人或调度人员可以取消用车申请"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"cancel_reason": [_("请填写取消原因")]})
    _refuse_status(trip, CANCELLABLE, _("取消"))
    # A requester may always cancel their own trip: relinking the rest of the pool is then
    # the system's bookkeeping; a dispatcher relinks only orders within their scope.
    _detach(None if actor is None or trip.requester_id == actor.pk else actor, trip)
    trip.status, trip.cancelled_at, trip.cancel_reason = S.CANCELLED, timezone.now(), reason[:255]
    trip.save()
    ensure_in_scope(actor, trip, "change")
    return trip


# -- reading --------------------------------------------------------------------------------


def visible(user, action: str = "view"):
    """Requests `user` may see, with what their rows show."""
    return TripRequest.objects.restrict(user, action).select_related(
        "agency", "requester", "approver", "vehicle", "driver", "dispatcher"
    )


def dispatchable(user):
    """Requests of the agencies `user` dispatches for (the board's rows)."""
    if user is not None and user.is_superuser:
        return visible(user)
    return visible(user, "change").filter(agency__in=agencies_reached(user, "change"))
