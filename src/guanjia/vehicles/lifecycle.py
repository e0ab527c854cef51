"""Lifecycle and running costs of official cars: annual inspection and insurance with expiry
reminders, designated repair shops, maintenance with approval above a threshold, fuel cards
(一车一卡), refuelling records, disposal by age and mileage, and the total cost of
ownership of a car and of an agency.

Decisions (kept here so a reader need not guess):

* **Designated shops.** Maintenance must name a shop that is designated (定点) for the
  agency or an agency above it, with a contract valid on the maintenance date; otherwise
  the request is refused, not flagged: 定点维修 is the rule (rules.md §2.5) and refusing at
  entry costs less than a case later.
* **Approval.** A request of `maintenance.approval_amount` 元 or more (以上 includes the
  amount itself) waits for approval by someone else holding vehicles.change in scope;
  below it the record is done at once. Completing an approved job at a higher amount than
  approved is refused (it needs a new request).
* **Disposal.** A car is eligible when it is `disposal.age_years` old and has run
  `disposal.mileage_km` — both (`disposal.require_both` = 1, the 株洲 rule of rules.md §2.7)
  or either (0). Disposing of a car that is not eligible needs `early=True` and a reason.
* **TCO.** Purchase is depreciated straight-line over `disposal.age_years` with no residual
  value (only days of the period inside the car's first years count); insurance and
  inspection fees are spread over the days of their validity; fuel and maintenance (done)
  count on their dates; disposal proceeds in the period are subtracted. Kilometres in the
  period come from refuelling odometer readings: the last reading in the period minus the
  last one before it (or the first in the period).

Every function takes the acting user first (None = the system); reads start from
`restrict(user, action)`, writes re-check the written object with `ensure_in_scope`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Min, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.core.models import Agency
from guanjia.core.scope import ensure_in_scope

from .models import (
    Disposal,
    FuelCard,
    Inspection,
    Maintenance,
    Refuelling,
    RepairShop,
    Threshold,
    Vehicle,
)
from .validators import normalize_plate

ZERO = Decimal("0")
CENT = Decimal("0.01")


def require(actor, action: str) -> None:
    wanted = f"vehicles.{action}"
    if actor is not None and not actor.can(wanted):
        raise PermissionDenied(_("没有权限：%(perm)s") % {"perm": wanted})


def scoped(model, user, action: str = "view"):
    """`model`'s rows `user` may reach; every row for the system itself (None)."""
    return model.objects.all() if user is None else model.objects.restrict(user, action)


# -- thresholds as data ---------------------------------------------------------------------


def threshold_value(key: str, agency: Agency | None = None) -> Decimal:
    """The value for `agency` (its own override, else the default)."""
    return Threshold.applying(key, agency).value


def threshold_source(key: str) -> str:
    t = Threshold.objects.filter(key=key, agency=None).first()
    return t.source if t else ""


def threshold_groups(key: str, agency_field: str = "agency") -> list[tuple[Decimal, Q]]:
    """(value, Q) pairs that together cover every row once: each agency override with the
    rows of that agency, and the default with every other row. Lets a rule compare in SQL
    while honouring per-agency values."""
    rows = list(Threshold.objects.filter(key=key).values_list("agency_id", "value"))
    overrides = {a: v for a, v in rows if a is not None}
    default = next((v for a, v in rows if a is None), None)
    if default is None:
        raise LookupError(_("阈值 %(k)s 未配置") % {"k": key})
    groups = [(v, Q(**{f"{agency_field}_id": a})) for a, v in overrides.items()]
    groups.append((default, ~Q(**{f"{agency_field}_id__in": list(overrides)})))
    return groups


def _in_tree(agencies, agency: Agency | None, field: str = "agency"):
    if agency is None:
        return agencies
    return agencies.filter(**{f"{field}__path__startswith": agency.path})


def _clean(obj) -> None:
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from None


# -- inspections and insurance --------------------------------------------------------------


def record_inspection(
    actor,
    vehicle: Vehicle,
    *,
    kind: str,
    valid_from: dt.date,
    valid_until: dt.date,
    provider: str = "",
    reference: str = "",
    cost=ZERO,
) -> Inspection:
    """An annual inspection (年检) or an insurance policy (交强险、商业险) of a car."""
    require(actor, "add")
    if valid_until < valid_from:
        raise ValidationError({"valid_until": _("有效期至不能早于起始日期")})
    if Decimal(cost) < 0:
        raise ValidationError({"cost": _("费用不能为负数")})
    with transaction.atomic():
        item = Inspection(
            vehicle=vehicle,
            kind=kind,
            valid_from=valid_from,
            valid_until=valid_until,
            provider=provider,
            reference=reference,
            cost=cost,
        )
        _clean(item)
        item.save()
        ensure_in_scope(actor, item, "add")
    return item


@dataclass
class Reminder:
    vehicle_id: int
    plate: str
    agency_id: int
    agency_name: str
    kind: str
    kind_label: str
    valid_until: dt.date | None
    days_left: int | None
    state: str  # "expired" | "due" | "missing"

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def reminders(
    user,
    *,
    agency: Agency | None = None,
    today: dt.date | None = None,
    days: int | None = None,
    kinds=None,
    include_missing: bool = False,
) -> list[Reminder]:
    """Cars in use (not disposed) whose latest inspection or policy of a kind has expired or
    expires within `days` (default the threshold `lifecycle.reminder_days`), most urgent
    first. `include_missing` also lists cars with no record of a kind at all."""
    today = today or timezone.localdate()
    kinds = list(kinds or Inspection.Kind.values)
    cars = _in_tree(scoped(Vehicle, user), agency).exclude(status=Vehicle.Status.DISPOSED)
    latest = (
        scoped(Inspection, user)
        .filter(vehicle__in=cars, kind__in=kinds)
        .values("vehicle_id", "kind")
        .annotate(until=Max("valid_until"))
    )
    labels = {k: str(v) for k, v in Inspection.Kind.choices}
    out: list[Reminder] = []
    if days is None:
        groups = threshold_groups("lifecycle.reminder_days", "vehicle__agency")
    else:
        groups = [(Decimal(days), Q())]
    for value, q in groups:
        horizon = today + dt.timedelta(days=int(value))
        rows = (
            latest.filter(q)
            .filter(until__lte=horizon)
            .values_list(
                "vehicle_id",
                "kind",
                "until",
                "vehicle__plate",
                "vehicle__agency_id",
                "vehicle__agency__name",
            )
        )
        for vid, kind, until, plate, agency_id, agency_name in rows:
            left = (until - today).days
            out.append(
                Reminder(
                    vid,
                    plate,
                    agency_id,
                    agency_name,
                    kind,
                    labels[kind],
                    until,
                    left,
                    "expired" if until < today else "due",
                )
            )
    if include_missing:
        have = set(latest.values_list("vehicle_id", "kind"))
        for vid, plate, agency_id, agency_name in cars.values_list(
            "pk", "plate", "agency_id", "agency__name"
        ):
            for kind in kinds:
                if (vid, kind) not in have:
                    out.append(
                        Reminder(
                            vid,
                            plate,
                            agency_id,
                            agency_name,
                            kind,
                            labels[kind],
                            None,
                            None,
                            "missing",
                        )
                    )
    order = {"missing": 0, "expired": 1, "due": 2}
    out.sort(key=lambda r: (order[r.state], r.days_left if r.days_left is not None else 0))
    return out


def overdue_inspection_count(user, agencies, on: dt.date, kind: str = "inspection") -> int | None:
    """Cars in service on `on` whose latest record of `kind` had expired by then; None when
    no car of the agencies has any record of that kind (no data, not zero)."""
    cars = scoped(Vehicle, user).filter(agency__in=agencies, purchase_date__lte=on)
    cars = cars.exclude(status=Vehicle.Status.DISPOSED, disposal__disposed_on__lte=on)
    latest = (
        scoped(Inspection, user)
        .filter(vehicle__in=cars, kind=kind, valid_from__lte=on)
        .values("vehicle_id")
        .annotate(until=Max("valid_until"))
    )
    if not latest.exists():
        return None
    return latest.filter(until__lt=on).count()


# -- repair shops and maintenance -----------------------------------------------------------

SHOP_FIELDS = ("agency", "name", "address", "contract_until", "is_designated")


def save_repair_shop(actor, shop: RepairShop | None = None, **fields) -> RepairShop:
    require(actor, "change" if shop else "add")
    unknown = set(fields) - set(SHOP_FIELDS)
    if unknown:
        raise ValidationError(_("未知字段：%s") % ", ".join(sorted(unknown)))
    with transaction.atomic():
        if shop is not None:
            ensure_in_scope(actor, shop, "change")
        shop = shop or RepairShop()
        for k, v in fields.items():
            setattr(shop, k, v)
        _clean(shop)
        shop.save()
        ensure_in_scope(actor, shop, "change" if fields.get("agency") is None else "add")
    return shop


def check_shop(shop: RepairShop | None, agency: Agency, on: dt.date) -> None:
    """Refuse a shop that is not designated for `agency` (its own or an agency above it)
    or whose contract has ended by `on`."""
    if shop is None:
        raise ValidationError({"shop": _("须在定点维修单位维修，请选择维修单位")})
    if not agency.path.startswith(shop.agency.path):
        raise ValidationError({"shop": _("%(s)s 不是本单位的定点维修单位") % {"s": shop.name}})
    if not shop.is_designated:
        raise ValidationError({"shop": _("%(s)s 不是定点维修单位") % {"s": shop.name}})
    if shop.contract_until and shop.contract_until < on:
        raise ValidationError(
            {
                "shop": _("%(s)s 的定点协议已于 %(d)s 到期")
                % {"s": shop.name, "d": shop.contract_until.isoformat()}
            }
        )


def vehicle_by_plate(actor, plate: str) -> Vehicle | None:
    """The registered car with `plate` that `actor` may see. A plate registered outside the
    actor's scope counts as not in the register *for that actor*: the record keeps the plate
    but is not linked to (and cannot change, or reveal) another agency's car."""
    return scoped(Vehicle, actor).filter(plate=plate).first()


def request_maintenance(
    actor,
    *,
    agency: Agency,
    plate: str,
    shop: RepairShop | None,
    kind: str,
    date: dt.date,
    amount,
    items: str = "",
    odometer_km=None,
) -> Maintenance:
    """A maintenance request or bill. The plate is kept as billed; the car is linked when
    the plate is in the register (a bill for an unregistered plate is a 私车公养 signal,
    found by the detectors). At or above the approval amount it waits for approval;
    below, it is done at once."""
    require(actor, "add")
    plate = normalize_plate(plate)
    if not plate:
        raise ValidationError({"plate": _("结算车牌不能为空")})
    amount = Decimal(amount)
    if amount <= 0:
        raise ValidationError({"amount": _("金额应大于 0")})
    check_shop(shop, agency, date)
    limit = threshold_value("maintenance.approval_amount", agency)
    needs_approval = amount >= limit
    with transaction.atomic():
        m = Maintenance(
            agency=agency,
            vehicle=vehicle_by_plate(actor, plate),
            plate=plate,
            shop=shop,
            kind=kind,
            date=date,
            odometer_km=odometer_km,
            items=items,
            amount=amount,
            status=Maintenance.Status.REQUESTED if needs_approval else Maintenance.Status.DONE,
            requested_by=actor,
        )
        _clean(m)
        m.save()
        ensure_in_scope(actor, m, "add")
    return m


def _locked(m: Maintenance) -> Maintenance:
    """`m` as stored now, locked to the end of the transaction: a decision checks the status
    it changes (two approvers at once: the second one sees the first one's decision)."""
    return Maintenance.objects.select_for_update().get(pk=m.pk)


def _decide(actor, m: Maintenance, status: str, note: str) -> Maintenance:
    require(actor, "change")
    with transaction.atomic():
        m = _locked(m)
        if m.status != Maintenance.Status.REQUESTED:
            raise ValidationError(_("只有待审批的维修申请可以审批"))
        if actor is not None and m.requested_by_id == actor.pk:
            raise ValidationError(_("维修申请须由申请人以外的人审批"))
        ensure_in_scope(actor, m, "change")
        m.status = status
        m.approver = actor
        m.approved_at = timezone.now()
        m.decision_note = note
        m.save()
        ensure_in_scope(actor, m, "change")
    return m


def approve_maintenance(actor, m: Maintenance, note: str = "") -> Maintenance:
    return _decide(actor, m, Maintenance.Status.APPROVED, note)


def reject_maintenance(actor, m: Maintenance, reason: str) -> Maintenance:
    if not (reason or "").strip():
        raise ValidationError({"reason": _("驳回须填写理由")})
    return _decide(actor, m, Maintenance.Status.REJECTED, reason.strip())


def complete_maintenance(actor, m: Maintenance, *, amount=None, odometer_km=None) -> Maintenance:
    """An approved job is done; the final bill may be lower than approved, not higher."""
    require(actor, "change")
    if amount is not None:
        amount = Decimal(amount)
        if amount <= 0:
            raise ValidationError({"amount": _("金额应大于 0")})
    with transaction.atomic():
        m = _locked(m)
        if m.status != Maintenance.Status.APPROVED:
            raise ValidationError(_("只有已批准的维修可以登记完成"))
        if amount is not None and amount > m.amount:
            raise ValidationError(
                {"amount": _("结算金额超出批准金额 %(a)s 元，须重新申请") % {"a": m.amount}}
            )
        ensure_in_scope(actor, m, "change")
        if amount is not None:
            m.amount = amount
        if odometer_km is not None:
            m.odometer_km = odometer_km
        m.status = Maintenance.Status.DONE
        m.save()
    return m


# -- fuel cards and refuelling --------------------------------------------------------------


def issue_fuel_card(
    actor, *, agency: Agency, number: str, issued_on=None, vehicle: Vehicle | None = None
) -> FuelCard:
    require(actor, "add")
    number = (number or "").strip()
    if not number:
        raise ValidationError({"number": _("卡号不能为空")})
    if FuelCard.objects.filter(number=number).exists():
        raise ValidationError({"number": _("卡号 %(n)s 已存在") % {"n": number}})
    with transaction.atomic():
        card = FuelCard.objects.create(agency=agency, number=number, issued_on=issued_on)
        ensure_in_scope(actor, card, "add")
        if vehicle is not None:
            bind_card(actor, card, vehicle)
    return card


def bind_card(actor, card: FuelCard, vehicle: Vehicle | None) -> FuelCard:
    """Bind a card to a car (一车一卡: a car holds at most one active card), or unbind it
    (vehicle None)."""
    require(actor, "change")
    if vehicle is not None:
        if not card.is_active:
            raise ValidationError(_("加油卡 %(n)s 已停用") % {"n": card.number})
        if vehicle.status == Vehicle.Status.DISPOSED:
            raise ValidationError(_("车辆 %(p)s 已处置，不能绑定加油卡") % {"p": vehicle.plate})
        if not vehicle.agency.path.startswith(card.agency.path):
            raise ValidationError(_("加油卡只能绑定本单位（或下级单位）的车辆"))
        other = FuelCard.objects.filter(vehicle=vehicle, is_active=True).exclude(pk=card.pk).first()
        if other is not None:
            raise ValidationError(
                _("车辆 %(p)s 已绑定加油卡 %(n)s（一车一卡），请先解绑")
                % {"p": vehicle.plate, "n": other.number}
            )
    try:
        with transaction.atomic():
            ensure_in_scope(actor, card, "change")
            card.vehicle = vehicle
            card.save()
            if vehicle is not None:
                ensure_in_scope(actor, vehicle, "view")
    except IntegrityError:  # a concurrent bind won the race: the constraint holds
        raise ValidationError(_("该车辆已绑定其他加油卡（一车一卡）")) from None
    return card


def set_card_active(actor, card: FuelCard, active: bool) -> FuelCard:
    require(actor, "change")
    with transaction.atomic():
        ensure_in_scope(actor, card, "change")
        card.is_active = active
        if not active:
            card.vehicle = None
        card.save()
    return card


def record_refuelling(
    actor,
    *,
    at: dt.datetime,
    litres,
    amount,
    plate: str = "",
    card: FuelCard | None = None,
    agency: Agency | None = None,
    odometer_km=None,
    station: str = "",
) -> Refuelling:
    """One refuelling as the station reports it. The agency is the card's (else the car's,
    else the one given); the car is linked when the reported plate is in the register."""
    require(actor, "add")
    row = _refuelling(
        actor,
        at=at,
        litres=litres,
        amount=amount,
        plate=plate,
        card=card,
        agency=agency,
        odometer_km=odometer_km,
        station=station,
    )
    with transaction.atomic():
        _clean(row)
        row.save()
        ensure_in_scope(actor, row, "add")
        _advance_odometers(actor, {row.vehicle_id: row.odometer_km} if row.vehicle_id else {})
    return row


def _refuelling(
    actor, *, at, litres, amount, plate, card, agency, odometer_km, station, vehicle=...
):
    plate = normalize_plate(plate)
    litres, amount = Decimal(litres), Decimal(amount)
    if litres <= 0:
        raise ValidationError({"litres": _("加油量应大于 0")})
    if amount < 0:
        raise ValidationError({"amount": _("金额不能为负数")})
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if vehicle is ...:
        vehicle = vehicle_by_plate(actor, plate) if plate else None
    if vehicle is None and card is not None and card.vehicle_id and not plate:
        vehicle = card.vehicle
        plate = vehicle.plate
    agency = (card.agency if card else None) or agency or (vehicle.agency if vehicle else None)
    if agency is None:
        raise ValidationError({"agency": _("请指定单位（或加油卡）")})
    return Refuelling(
        agency=agency,
        card=card,
        vehicle=vehicle,
        plate=plate,
        at=at,
        litres=litres,
        amount=amount,
        odometer_km=odometer_km,
        station=station,
    )


def _advance_odometers(actor, readings: dict[int, Decimal | None]) -> None:
    """Move each car's odometer forward to its newest reading (never backwards); only cars
    `actor` may change (a reading of a car outside that scope is kept, the car untouched)."""
    for vid, km in readings.items():
        if km is None:
            continue
        car = scoped(Vehicle, actor, "change").filter(pk=vid, odometer_km__lt=km).first()
        if car is not None:
            car.odometer_km = km
            car.save(update_fields=["odometer_km", "updated_at"])


# -- disposal -------------------------------------------------------------------------------


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _eligible_q(age_years: Decimal, mileage: Decimal, both: bool, today: dt.date) -> Q:
    old = Q(purchase_date__lte=_years_before(today, int(age_years)))
    worn = Q(odometer_km__gte=mileage)
    return (old & worn) if both else (old | worn)


def disposal_eligible(user, *, agency: Agency | None = None, today: dt.date | None = None):
    """Cars not yet disposed that meet the disposal rule (thresholds as data, per-agency
    overrides honoured)."""
    today = today or timezone.localdate()
    cars = _in_tree(scoped(Vehicle, user), agency).exclude(status=Vehicle.Status.DISPOSED)
    # Overrides are rare: each agency overriding any of the three keys gets its own rule,
    # every other agency the default one.
    agencies = set(
        Threshold.objects.filter(key__in=DISPOSAL_KEYS, agency__isnull=False).values_list(
            "agency_id", flat=True
        )
    )
    q = Q(pk__in=[])
    for aid in agencies:
        a = Agency(pk=aid)
        q |= Q(agency_id=aid) & _eligible_q(*_disposal_rule(a), today)
    q |= ~Q(agency_id__in=agencies) & _eligible_q(*_disposal_rule(None), today)
    return cars.filter(q)


DISPOSAL_KEYS = ("disposal.age_years", "disposal.mileage_km", "disposal.require_both")


def _disposal_rule(agency) -> tuple[Decimal, Decimal, bool]:
    return (
        threshold_value("disposal.age_years", agency),
        threshold_value("disposal.mileage_km", agency),
        threshold_value("disposal.require_both", agency) != 0,
    )


def disposal_rule_text(agency=None) -> str:
    age, km, both = _disposal_rule(agency)
    joiner = _("且") if both else _("或")
    return _("使用年限满 %(a)s 年%(j)s行驶里程达到 %(k)s 公里") % {
        "a": int(age),
        "j": joiner,
        "k": f"{int(km):,}",
    }


def dispose_vehicle(
    actor,
    vehicle: Vehicle,
    *,
    disposed_on: dt.date,
    method: str,
    reason: str,
    proceeds=ZERO,
    early: bool = False,
) -> Disposal:
    """Dispose of a car: a disposal record, status 已处置, its fuel card unbound. A car
    that does not meet the rule needs `early=True` (提前处置) and a reason."""
    require(actor, "change")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写处置理由")})
    disposed = Disposal.objects.filter(vehicle=vehicle).exists()
    if disposed or vehicle.status == Vehicle.Status.DISPOSED:
        raise ValidationError(_("车辆 %(p)s 已处置") % {"p": vehicle.plate})
    if Decimal(proceeds) < 0:
        raise ValidationError({"proceeds": _("处置收入不能为负数")})
    eligible = disposal_eligible(None, today=disposed_on).filter(pk=vehicle.pk).exists()
    if not eligible and not early:
        raise ValidationError(
            _("车辆 %(p)s 未达到处置条件（%(r)s）；确需提前处置的请注明理由并选择提前处置")
            % {"p": vehicle.plate, "r": disposal_rule_text(vehicle.agency)}
        )
    with transaction.atomic():
        ensure_in_scope(actor, vehicle, "change")
        disposal = Disposal.objects.create(
            vehicle=vehicle,
            disposed_on=disposed_on,
            method=method,
            proceeds=proceeds,
            reason=reason if eligible else _("提前处置：%(r)s") % {"r": reason},
        )
        vehicle.status = Vehicle.Status.DISPOSED
        vehicle.save()
        for card in FuelCard.objects.filter(vehicle=vehicle):
            card.vehicle = None
            card.save()
        ensure_in_scope(actor, disposal, "change")
    return disposal


# -- total cost of ownership ----------------------------------------------------------------

COST_PARTS = ("purchase", "fuel", "maintenance", "insurance", "inspection", "proceeds")


@dataclass
class Cost:
    purchase: Decimal = ZERO
    fuel: Decimal = ZERO
    maintenance: Decimal = ZERO
    insurance: Decimal = ZERO
    inspection: Decimal = ZERO
    proceeds: Decimal = ZERO
    km: Decimal = ZERO
    vehicles: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return (
            self.purchase + self.fuel + self.maintenance + self.insurance + self.inspection
        ) - self.proceeds

    @property
    def per_km(self) -> Decimal | None:
        return (self.total / self.km).quantize(CENT) if self.km > 0 else None

    def add(self, other: Cost) -> None:
        for part in (*COST_PARTS, "km"):
            setattr(self, part, getattr(self, part) + getattr(other, part))
        self.vehicles += other.vehicles

    def as_dict(self) -> dict:
        out = {p: getattr(self, p).quantize(CENT) for p in COST_PARTS}
        out |= {
            "total": self.total.quantize(CENT),
            "km": self.km.quantize(Decimal("0.1")),
            "per_km": self.per_km,
            "vehicles": self.vehicles,
        }
        return out | self.extra


def _overlap_days(a0: dt.date, a1: dt.date, b0: dt.date, b1: dt.date) -> int:
    """Days shared by [a0, a1) and [b0, b1)."""
    return max(0, (min(a1, b1) - max(a0, b0)).days)


def _bounds(start: dt.date, end: dt.date):
    tz = timezone.get_default_timezone()
    return (
        dt.datetime.combine(start, dt.time.min, tz),
        dt.datetime.combine(end, dt.time.min, tz),
    )


def vehicle_costs(
    user, *, start: dt.date, end: dt.date, agency: Agency | None = None, vehicles=None
) -> dict[int, Cost]:
    """Cost of each car in scope over [start, end) (end exclusive), keyed by car id. One
    query per cost part, whatever the number of cars."""
    if end <= start:
        raise ValidationError(_("统计期的结束日期应晚于开始日期"))
    cars = _in_tree(scoped(Vehicle, user), agency).filter(purchase_date__lt=end)
    if vehicles is not None:
        cars = cars.filter(pk__in=vehicles)
    cars = cars.exclude(disposal__disposed_on__lt=start)
    costs: dict[int, Cost] = {}
    ages = dict(Threshold.objects.filter(key="disposal.age_years").values_list("agency", "value"))
    if None not in ages:
        raise LookupError(_("阈值 %(k)s 未配置") % {"k": "disposal.age_years"})
    for vid, aid, price, bought, disposed_on, plate, agency_name in cars.values_list(
        "pk",
        "agency_id",
        "purchase_price",
        "purchase_date",
        "disposal__disposed_on",
        "plate",
        "agency__name",
    ):
        life_end = _years_before(bought, -int(ages.get(aid, ages[None])))
        until = min(end, disposed_on + dt.timedelta(days=1)) if disposed_on else end
        days = _overlap_days(bought, life_end, start, until)
        life_days = (life_end - bought).days or 1
        c = Cost(vehicles=1, extra={"plate": plate, "agency_id": aid, "agency_name": agency_name})
        c.purchase = price * days / life_days
        costs[vid] = c
    ids = list(costs)
    t0, t1 = _bounds(start, end)

    def sums(model, date_filter, amount="amount", **extra):
        qs = scoped(model, user).filter(vehicle_id__in=ids, **date_filter, **extra)
        return qs.values("vehicle_id").annotate(s=Sum(amount)).values_list("vehicle_id", "s")

    for vid, s in sums(Refuelling, {"at__gte": t0, "at__lt": t1}):
        costs[vid].fuel = s or ZERO
    for vid, s in sums(
        Maintenance, {"date__gte": start, "date__lt": end}, status=Maintenance.Status.DONE
    ):
        costs[vid].maintenance = s or ZERO
    for vid, s in sums(Disposal, {"disposed_on__gte": start, "disposed_on__lt": end}, "proceeds"):
        costs[vid].proceeds = s or ZERO
    spread = (
        scoped(Inspection, user)
        .filter(vehicle_id__in=ids, valid_from__lt=end, valid_until__gte=start, cost__gt=0)
        .values_list("vehicle_id", "kind", "valid_from", "valid_until", "cost")
    )
    for vid, kind, v0, v1, cost in spread:
        v1x = v1 + dt.timedelta(days=1)  # valid_until is the last valid day
        share = cost * _overlap_days(v0, v1x, start, end) / max((v1x - v0).days, 1)
        part = "inspection" if kind == Inspection.Kind.INSPECTION else "insurance"
        setattr(costs[vid], part, getattr(costs[vid], part) + share)
    fuel = scoped(Refuelling, user).filter(vehicle_id__in=ids, odometer_km__isnull=False)
    inside = {
        vid: (lo, hi)
        for vid, lo, hi in fuel.filter(at__gte=t0, at__lt=t1)
        .values("vehicle_id")
        .annotate(lo=Min("odometer_km"), hi=Max("odometer_km"))
        .values_list("vehicle_id", "lo", "hi")
    }
    before = dict(
        fuel.filter(at__lt=t0, vehicle_id__in=list(inside))
        .values("vehicle_id")
        .annotate(hi=Max("odometer_km"))
        .values_list("vehicle_id", "hi")
    )
    for vid, (lo, hi) in inside.items():
        costs[vid].km = max(ZERO, hi - before.get(vid, lo))
    return costs


def agency_costs(user, *, start: dt.date, end: dt.date, agency: Agency | None = None) -> list[dict]:
    """Cost per agency (each agency's own cars), largest total first."""
    by_agency: dict[int, Cost] = defaultdict(Cost)
    names = {}
    for c in vehicle_costs(user, start=start, end=end, agency=agency).values():
        by_agency[c.extra["agency_id"]].add(c)
        names[c.extra["agency_id"]] = c.extra["agency_name"]
    rows = [
        {"agency_id": aid, "agency_name": names[aid]} | c.as_dict() for aid, c in by_agency.items()
    ]
    rows.sort(key=lambda r: r["total"], reverse=True)
    return rows


def total_cost(user, *, start: dt.date, end: dt.date, agency: Agency | None = None) -> Cost:
    total = Cost()
    for c in vehicle_costs(user, start=start, end=end, agency=agency).values():
        total.add(c)
    return total
