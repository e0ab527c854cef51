"""Writes to the vehicle register (Zulip's "actions"): vehicles, drivers, quotas, garages,
exception approvals, configuration standards.

Every function takes the acting `user` first (None = the system: demo world, an operator's
CLI import), refuses early without the permission, writes inside one transaction and
re-checks the written object through the caller's data scope (`ensure_in_scope`) before the
transaction ends. The models are ChangeLogged, so every save lands in the audit trail.

    vehicle = create_vehicle(user, plate="川A12345", vin="LSVAU2180N2183294", category="JYTX",
                             energy_type="gasoline", displacement_l="1.5",
                             purchase_price=118000, purchase_date=date(2022, 3, 1),
                             agency=agency)
    update_vehicle(user, vehicle, status=Vehicle.Status.SEALED)

Plates are normalised (full-width → half-width, upper case, separators dropped) and
validated (GA 36-2018), VINs checked (GB 16735 check digit), terminal numbers stored with
their key without leading zeros (JT/T 808 2013 and 2019 numbers of one SIM match).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from guanjia.core.models import Agency
from guanjia.core.scope import ensure_in_scope, scope_q
from guanjia.core.services import find_agency

from .models import (
    NEW_ENERGY,
    Category,
    ConfigurationStandard,
    Disposal,
    Driver,
    EnergyType,
    ExceptionApproval,
    Garage,
    Quota,
    Vehicle,
)
from .validators import normalize_terminal, validate_plate, validate_vin

__all__ = [
    "approve_exception",
    "create_driver",
    "create_garage",
    "create_vehicle",
    "find_agency",
    "set_quota",
    "update_driver",
    "update_garage",
    "update_standard",
    "update_vehicle",
]

VEHICLE_FIELDS = (
    "plate",
    "vin",
    "category",
    "body_type",
    "brand_model",
    "energy_type",
    "displacement_l",
    "purchase_price",
    "purchase_date",
    "odometer_km",
    "seats",
    "tank_l",
    "fuel_norm_l_100km",
    "is_domestic",
    "agency",
    "status",
    "garage",
    "terminal_number",
    "notes",
)
DRIVER_FIELDS = (
    "agency",
    "name",
    "phone",
    "licence_number",
    "licence_class",
    "licence_expiry",
    "user",
    "is_active",
)
GARAGE_FIELDS = ("agency", "name", "address", "lat", "lon", "radius_m")
STANDARD_FIELDS = (
    "category",
    "body_types",
    "new_energy_only",
    "tier",
    "max_displacement_l",
    "max_price",
    "source",
    "source_url",
    "effective_from",
    "is_active",
)
DECIMALS = ("displacement_l", "purchase_price", "odometer_km", "tank_l", "fuel_norm_l_100km")


def _require(actor, action: str) -> None:
    wanted = f"vehicles.{action}"
    if actor is not None and not actor.can(wanted):
        raise PermissionDenied(_("没有权限：%(perm)s") % {"perm": wanted})


def _check_fields(fields: dict, allowed) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError(_("未知字段：%s") % ", ".join(sorted(unknown)))


# -- vehicles -------------------------------------------------------------------------------


def _decimal(value, field: str):
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValidationError({field: _("“%(v)s”不是数字") % {"v": value}}) from None


def _prepare_vehicle(fields: dict) -> dict:
    """Normalise what a caller gives: plate, VIN, terminal, decimals."""
    fields = dict(fields)
    errors = {}
    if "plate" in fields:
        try:
            fields["plate"] = validate_plate(fields["plate"])
        except ValidationError as e:
            errors["plate"] = e.messages
    if "vin" in fields:
        try:
            fields["vin"] = validate_vin(fields["vin"])
        except ValidationError as e:
            errors["vin"] = e.messages
    if "terminal_number" in fields:
        try:
            number, key = normalize_terminal(fields["terminal_number"] or "")
            fields["terminal_number"], fields["terminal_key"] = number, key
        except ValidationError as e:
            errors["terminal_number"] = e.messages
    for name in DECIMALS:
        if name in fields:
            try:
                fields[name] = _decimal(fields[name], name)
            except ValidationError as e:
                errors.update(e.message_dict)
    if fields.get("odometer_km") is None and "odometer_km" in fields:
        fields["odometer_km"] = Decimal(0)
    if errors:
        raise ValidationError(errors)
    return fields


def _check_vehicle(vehicle: Vehicle, *, unique: bool = True, actor=None) -> None:
    """Rules across fields, then the model's own validation (choices and, unless the
    caller checked them already, uniqueness of plate, VIN and terminal). A clash with a car
    outside `actor`'s scope does not name that car."""
    errors = {}
    if len(vehicle.plate) == 8 and vehicle.energy_type not in NEW_ENERGY:
        errors["energy_type"] = _(
            "新能源号牌“%(p)s”的车辆能源类型应为新能源（纯电动、插电混动、增程式、燃料电池）"
        ) % {"p": vehicle.plate}
    if vehicle.energy_type in (EnergyType.GASOLINE, EnergyType.DIESEL, EnergyType.CNG):
        if vehicle.displacement_l is None:
            errors["displacement_l"] = _("燃油车辆须填写排气量")
    if vehicle.energy_type == EnergyType.BEV and vehicle.displacement_l:
        errors["displacement_l"] = _("纯电动车辆没有排气量")
    if vehicle.purchase_price is not None and vehicle.purchase_price < 0:
        errors["purchase_price"] = _("购置价格不能为负数")
    if vehicle.purchase_date and vehicle.purchase_date > date.today():
        errors["purchase_date"] = _("购置日期不能晚于今天")
    if vehicle.garage_id and vehicle.agency_id:
        garage_agency = vehicle.garage.agency
        if not vehicle.agency.path.startswith(garage_agency.path):
            errors["garage"] = _("定点停放场所应属于本单位或上级单位")
    if unique and vehicle.terminal_key:
        others = Vehicle.objects.filter(terminal_key=vehicle.terminal_key).exclude(pk=vehicle.pk)
        if others.exists():
            seen = others if actor is None else others.restrict(actor)
            other = seen.values_list("plate", flat=True).first()
            errors["terminal_number"] = (
                _("终端手机号%(t)s已登记在车辆%(p)s上") % {"t": vehicle.terminal_number, "p": other}
                if other
                else _("终端手机号%(t)s已被其他单位登记") % {"t": vehicle.terminal_number}
            )
    errors = {field: [message] for field, message in errors.items()}
    try:
        vehicle.full_clean(validate_unique=unique, validate_constraints=unique)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def status_change_error(vehicle: Vehicle, status: str) -> str | None:
    """Why `vehicle` may not go to `status` by an edit: 已处置 is reached only through the
    disposal action (a disposal record, the fuel card unbound), and a car with a disposal
    record keeps it. A new car (no pk) may be registered as disposed (a historical record)."""
    if vehicle.pk is None or status == vehicle.status:
        return None
    if status == Vehicle.Status.DISPOSED:
        return _(
            "车辆 %(p)s 须通过“车辆处置”办理（登记处置记录、解绑加油卡），不能直接改为已处置"
        ) % {"p": vehicle.plate}
    if Disposal.objects.filter(vehicle_id=vehicle.pk).exists():
        return _("车辆 %(p)s 已办理处置，不能更改状态") % {"p": vehicle.plate}
    return None


def create_vehicle(actor, **fields) -> Vehicle:
    _require(actor, "add")
    _check_fields(fields, VEHICLE_FIELDS)
    fields = _prepare_vehicle(fields)
    with transaction.atomic():
        vehicle = Vehicle(**fields)
        _check_vehicle(vehicle, actor=actor)
        vehicle.save()
        ensure_in_scope(actor, vehicle, "add")
    return vehicle


def update_vehicle(actor, vehicle: Vehicle, **fields) -> Vehicle:
    _require(actor, "change")
    _check_fields(fields, VEHICLE_FIELDS)
    fields = _prepare_vehicle(fields)
    with transaction.atomic():
        ensure_in_scope(actor, vehicle, "change")
        if "status" in fields and (problem := status_change_error(vehicle, fields["status"])):
            raise ValidationError({"status": [problem]})
        for name, value in fields.items():
            setattr(vehicle, name, value)
        _check_vehicle(vehicle, actor=actor)
        vehicle.save()
        ensure_in_scope(actor, vehicle, "change")
    return vehicle


def set_vehicle_status(actor, vehicle: Vehicle, status: str) -> Vehicle:
    return update_vehicle(actor, vehicle, status=status)


# -- drivers --------------------------------------------------------------------------------


def _prepare_driver(fields: dict) -> dict:
    fields = dict(fields)
    if "licence_number" in fields:
        fields["licence_number"] = normalize_plate_like(fields["licence_number"])
    if "licence_class" in fields:
        fields["licence_class"] = normalize_plate_like(fields["licence_class"])
    return fields


def normalize_plate_like(text: str) -> str:
    from .validators import _halfwidth

    return _halfwidth(text or "").upper()


def create_driver(actor, **fields) -> Driver:
    _require(actor, "add")
    _check_fields(fields, DRIVER_FIELDS)
    fields = _prepare_driver(fields)
    with transaction.atomic():
        driver = Driver(**fields)
        driver.full_clean()
        driver.save()
        ensure_in_scope(actor, driver, "add")
    return driver


def update_driver(actor, driver: Driver, **fields) -> Driver:
    _require(actor, "change")
    _check_fields(fields, DRIVER_FIELDS)
    fields = _prepare_driver(fields)
    with transaction.atomic():
        ensure_in_scope(actor, driver, "change")
        for name, value in fields.items():
            setattr(driver, name, value)
        driver.full_clean()
        driver.save()
        ensure_in_scope(actor, driver, "change")
    return driver


# -- quotas ---------------------------------------------------------------------------------


def set_quota(actor, agency: Agency, category: str, quota: int, basis: str = "") -> Quota:
    """Create or replace the quota (编制) of `agency` in `category`."""
    _require(actor, "change")
    if category not in Category.values:
        raise ValidationError({"category": _("未知的车辆类别：%s") % category})
    if quota is None or int(quota) < 0:
        raise ValidationError({"quota": _("编制数应为非负整数")})
    with transaction.atomic():
        row = Quota.objects.filter(agency=agency, category=category).first()
        if row is not None:
            ensure_in_scope(actor, row, "change")
            row.quota, row.basis = int(quota), basis or row.basis
        else:
            row = Quota(agency=agency, category=category, quota=int(quota), basis=basis)
        row.full_clean()
        row.save()
        ensure_in_scope(actor, row, "change")
    return row


# -- garages --------------------------------------------------------------------------------


def _check_garage(garage: Garage) -> None:
    errors = {}
    if not -90 <= garage.lat <= 90:
        errors["lat"] = _("纬度应在-90到90之间")
    if not -180 <= garage.lon <= 180:
        errors["lon"] = _("经度应在-180到180之间")
    if errors:
        raise ValidationError(errors)
    garage.full_clean()


def create_garage(actor, **fields) -> Garage:
    _require(actor, "add")
    _check_fields(fields, GARAGE_FIELDS)
    with transaction.atomic():
        garage = Garage(**fields)
        _check_garage(garage)
        garage.save()
        ensure_in_scope(actor, garage, "add")
    return garage


def update_garage(actor, garage: Garage, **fields) -> Garage:
    _require(actor, "change")
    _check_fields(fields, GARAGE_FIELDS)
    with transaction.atomic():
        ensure_in_scope(actor, garage, "change")
        for name, value in fields.items():
            setattr(garage, name, value)
        _check_garage(garage)
        garage.save()
        ensure_in_scope(actor, garage, "change")
    return garage


# -- exception approvals --------------------------------------------------------------------


def approve_exception(
    actor,
    vehicle: Vehicle,
    *,
    tier: str,
    reason: str,
    approved_by: str,
    document_number: str,
    approved_on: date,
    attachment=None,
) -> ExceptionApproval:
    """Record the approval (报省级公务用车主管部门批准) of a car above the basic standard;
    the audit then measures it against the approved tier and cites the document."""
    _require(actor, "change")
    if tier == ConfigurationStandard.Tier.BASIC:
        raise ValidationError(
            {"tier": _("基本标准无需批准：批准档次应为“因工作需要”或“确因情况特殊”")}
        )
    with transaction.atomic():
        ensure_in_scope(actor, vehicle, "change")
        approval = ExceptionApproval(
            vehicle=vehicle,
            tier=tier,
            reason=reason,
            approved_by=approved_by,
            document_number=document_number,
            approved_on=approved_on,
        )
        if attachment is not None:
            approval.attachment = attachment
        approval.full_clean()
        approval.save()
        ensure_in_scope(actor, approval, "add")
    return approval


# -- configuration standards ----------------------------------------------------------------


def may_edit_standards(actor) -> bool:
    """Configuration standards are national/provincial data: editing needs vehicles.change
    without a data-scope restriction (scope "all") or a superuser."""
    if actor is None:
        return True
    return actor.can("vehicles.change") and scope_q(Vehicle, actor, "change") is None


def update_standard(actor, standard: ConfigurationStandard, **fields) -> ConfigurationStandard:
    if not may_edit_standards(actor):
        raise PermissionDenied(_("只有全部数据权限的公务用车管理员可以修改配备标准"))
    _check_fields(fields, STANDARD_FIELDS)
    for name in ("max_displacement_l", "max_price"):
        if name in fields:
            fields[name] = _decimal(fields[name], name)
    with transaction.atomic():
        for name, value in fields.items():
            setattr(standard, name, value)
        standard.full_clean()
        standard.save()
    return standard
