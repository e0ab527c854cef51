"""Lifecycle and running costs under /api/v1/vehicles/: inspections and insurance with
reminders, repair shops, maintenance with approval, fuel cards, refuellings and statement
import, disposal, total cost of ownership.

Reads start from `restrict(request.user)`; writes go through `lifecycle` (the services),
which check the permission and re-check the written object's scope. Objects a write refers
to (a car, a card, a shop, an agency) are looked up within the caller's scope first, so a
caller who cannot see them gets 404.
"""

import datetime as dt
from decimal import Decimal

from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from guanjia.core.api import WRITE_ERRORS, LimitOffset, visible, write_agency
from guanjia.core.models import Agency
from guanjia.core.schemas import Error
from guanjia.core.scope import subtree_q

from . import lifecycle
from .lifecycle_io import import_refuellings
from .models import Disposal, FuelCard, Inspection, Maintenance, Refuelling, RepairShop, Vehicle

router = Router(tags=["公务用车"])
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def _agency(request, pk: int | None) -> Agency | None:
    if pk is None:
        return None
    return get_object_or_404(Agency.objects.restrict(request.user), pk=pk)


def _vehicle(request, pk: int) -> Vehicle:
    return visible(request, Vehicle, pk)


# -- inspections ----------------------------------------------------------------------------


class InspectionOut(Schema):
    id: int
    vehicle_id: int
    plate: str = Field(alias="vehicle.plate")
    agency_id: int = Field(alias="vehicle.agency_id")
    kind: str
    provider: str
    reference: str
    valid_from: dt.date
    valid_until: dt.date
    cost: Decimal


class InspectionIn(Schema):
    vehicle_id: int
    kind: Inspection.Kind
    valid_from: dt.date
    valid_until: dt.date
    provider: str = ""
    reference: str = ""
    cost: Decimal = Decimal("0")


class InspectionFilter(Schema):
    vehicle: int | None = None
    kind: str | None = None
    agency: int | None = Field(None, description="单位 id（含下级单位）")


@router.get("/inspections", response=list[InspectionOut], summary="年检与保险记录")
@paginate(LimitOffset)
def list_inspections(request, filters: Query[InspectionFilter]):
    qs = Inspection.objects.restrict(request.user).select_related("vehicle")
    if filters.vehicle:
        qs = qs.filter(vehicle_id=filters.vehicle)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if agency := _agency(request, filters.agency):
        qs = qs.filter(subtree_q("vehicle__agency", agency))
    return qs.order_by("-valid_until", "pk")


@router.post(
    "/inspections", response={201: InspectionOut, **WRITE_ERRORS}, summary="登记年检或保险"
)
def create_inspection(request, data: InspectionIn):
    item = lifecycle.record_inspection(
        request.user, _vehicle(request, data.vehicle_id), **data.dict(exclude={"vehicle_id"})
    )
    return Status(201, Inspection.objects.select_related("vehicle").get(pk=item.pk))


class ReminderOut(Schema):
    vehicle_id: int
    plate: str
    agency_id: int
    agency_name: str
    kind: str
    kind_label: str
    valid_until: dt.date | None
    days_left: int | None
    state: str


class ReminderFilter(Schema):
    agency: int | None = None
    days: int | None = Field(None, ge=0, le=366, description="默认取阈值 lifecycle.reminder_days")
    include_missing: bool = Field(False, description="同时列出没有该类记录的车辆")


@router.get("/reminders", response=list[ReminderOut], summary="到期提醒")
@paginate(LimitOffset)
def list_reminders(request, filters: Query[ReminderFilter]):
    """年检、交强险、商业险已过期（expired）或将在 days 天内到期（due）的在用车辆，最紧急的在前。"""
    rows = lifecycle.reminders(
        request.user,
        agency=_agency(request, filters.agency),
        days=filters.days,
        include_missing=filters.include_missing,
    )
    return [r.as_dict() for r in rows]


# -- repair shops ---------------------------------------------------------------------------


class ShopOut(Schema):
    id: int
    agency_id: int
    name: str
    address: str
    contract_until: dt.date | None
    is_designated: bool


class ShopIn(Schema):
    agency_id: int | None = None
    name: str
    address: str = ""
    contract_until: dt.date | None = None
    is_designated: bool = True


@router.get("/repair-shops", response=list[ShopOut], summary="定点维修单位")
@paginate(LimitOffset)
def list_shops(request, agency: int | None = None):
    qs = RepairShop.objects.restrict(request.user)
    if a := _agency(request, agency):
        qs = qs.filter(subtree_q("agency", a))
    return qs


@router.post("/repair-shops", response={201: ShopOut, **WRITE_ERRORS}, summary="新增定点维修单位")
def create_shop(request, data: ShopIn):
    fields = data.dict(exclude={"agency_id"})
    shop = lifecycle.save_repair_shop(
        request.user, agency=write_agency(request, data.agency_id), **fields
    )
    return Status(201, shop)


# -- maintenance ----------------------------------------------------------------------------


class MaintenanceOut(Schema):
    id: int
    agency_id: int
    vehicle_id: int | None
    plate: str
    shop_id: int | None
    kind: str
    date: dt.date
    odometer_km: Decimal | None
    items: str
    amount: Decimal
    status: str
    requested_by_id: int | None
    approver_id: int | None
    approved_at: dt.datetime | None
    decision_note: str


class MaintenanceIn(Schema):
    agency_id: int | None = None
    plate: str
    shop_id: int
    kind: Maintenance.Kind
    date: dt.date
    amount: Decimal
    items: str = ""
    odometer_km: Decimal | None = None


class MaintenanceFilter(Schema):
    status: str | None = None
    agency: int | None = None
    vehicle: int | None = None
    plate: str | None = None


class NoteIn(Schema):
    note: str = ""


class ReasonIn(Schema):
    reason: str


class CompleteIn(Schema):
    amount: Decimal | None = None
    odometer_km: Decimal | None = None


@router.get("/maintenance", response=list[MaintenanceOut], summary="维修保养记录")
@paginate(LimitOffset)
def list_maintenance(request, filters: Query[MaintenanceFilter]):
    """status：requested（待审批）/ approved / rejected / done。"""
    qs = Maintenance.objects.restrict(request.user)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if a := _agency(request, filters.agency):
        qs = qs.filter(subtree_q("agency", a))
    if filters.vehicle:
        qs = qs.filter(vehicle_id=filters.vehicle)
    if filters.plate:
        qs = qs.filter(plate__contains=filters.plate.upper())
    return qs.order_by("-date", "-pk")


@router.post(
    "/maintenance", response={201: MaintenanceOut, **WRITE_ERRORS}, summary="维修申请或登记"
)
def create_maintenance(request, data: MaintenanceIn):
    """金额达到审批阈值（maintenance.approval_amount）的为待审批，低于阈值的直接完成；
    维修单位须为本单位或上级单位的定点维修单位，且协议在有效期内。"""
    m = lifecycle.request_maintenance(
        request.user,
        agency=write_agency(request, data.agency_id),
        shop=visible(request, RepairShop, data.shop_id),
        **data.dict(exclude={"agency_id", "shop_id"}),
    )
    return Status(201, m)


@router.post(
    "/maintenance/{int:maintenance_id}/approve",
    response={200: MaintenanceOut, **WRITE_ERRORS},
    summary="批准维修申请",
)
def approve_maintenance(request, maintenance_id: int, data: NoteIn):
    """须由申请人以外、具有 vehicles.change 权限的人审批。"""
    m = visible(request, Maintenance, maintenance_id, "change")
    return lifecycle.approve_maintenance(request.user, m, data.note)


@router.post(
    "/maintenance/{int:maintenance_id}/reject",
    response={200: MaintenanceOut, **WRITE_ERRORS},
    summary="驳回维修申请",
)
def reject_maintenance(request, maintenance_id: int, data: ReasonIn):
    m = visible(request, Maintenance, maintenance_id, "change")
    return lifecycle.reject_maintenance(request.user, m, data.reason)


@router.post(
    "/maintenance/{int:maintenance_id}/complete",
    response={200: MaintenanceOut, **WRITE_ERRORS},
    summary="登记维修完成",
)
def complete_maintenance(request, maintenance_id: int, data: CompleteIn):
    """结算金额不得超过批准金额。"""
    m = visible(request, Maintenance, maintenance_id, "change")
    return lifecycle.complete_maintenance(
        request.user, m, amount=data.amount, odometer_km=data.odometer_km
    )


# -- fuel cards -----------------------------------------------------------------------------


class CardOut(Schema):
    id: int
    agency_id: int
    number: str
    vehicle_id: int | None
    plate: str | None
    issued_on: dt.date | None
    is_active: bool

    @staticmethod
    def resolve_plate(obj) -> str | None:
        return obj.vehicle.plate if obj.vehicle_id else None


class CardIn(Schema):
    agency_id: int | None = None
    number: str
    issued_on: dt.date | None = None
    vehicle_id: int | None = None


class BindIn(Schema):
    vehicle_id: int | None = Field(None, description="为空则解绑")


@router.get("/fuel-cards", response=list[CardOut], summary="加油卡")
@paginate(LimitOffset)
def list_cards(request, agency: int | None = None, unbound: bool | None = None):
    qs = FuelCard.objects.restrict(request.user).select_related("vehicle")
    if a := _agency(request, agency):
        qs = qs.filter(subtree_q("agency", a))
    if unbound is not None:
        qs = qs.filter(vehicle__isnull=unbound)
    return qs


@router.post("/fuel-cards", response={201: CardOut, **WRITE_ERRORS}, summary="登记加油卡")
def create_card(request, data: CardIn):
    vehicle = _vehicle(request, data.vehicle_id) if data.vehicle_id else None
    card = lifecycle.issue_fuel_card(
        request.user,
        agency=write_agency(request, data.agency_id),
        number=data.number,
        issued_on=data.issued_on,
        vehicle=vehicle,
    )
    return Status(201, FuelCard.objects.select_related("vehicle").get(pk=card.pk))


@router.post(
    "/fuel-cards/{int:card_id}/bind",
    response={200: CardOut, **WRITE_ERRORS},
    summary="绑定或解绑加油卡",
)
def bind_card(request, card_id: int, data: BindIn):
    """一车一卡：车辆已有有效加油卡时拒绝绑定。vehicle_id 为空则解绑。"""
    card = visible(request, FuelCard, card_id, "change")
    vehicle = _vehicle(request, data.vehicle_id) if data.vehicle_id else None
    lifecycle.bind_card(request.user, card, vehicle)
    return FuelCard.objects.select_related("vehicle").get(pk=card.pk)


# -- refuellings ----------------------------------------------------------------------------


class RefuellingOut(Schema):
    id: int
    agency_id: int
    card_id: int | None
    vehicle_id: int | None
    plate: str
    at: dt.datetime
    litres: Decimal
    amount: Decimal
    odometer_km: Decimal | None
    station: str


class RefuellingIn(Schema):
    at: dt.datetime
    litres: Decimal
    amount: Decimal
    plate: str = ""
    card_id: int | None = None
    agency_id: int | None = None
    odometer_km: Decimal | None = None
    station: str = ""


class RefuellingFilter(Schema):
    agency: int | None = None
    vehicle: int | None = None
    card: int | None = None
    since: dt.date | None = None
    until: dt.date | None = Field(None, description="不含该日")


class ImportError_(Schema):
    row: int
    column: str
    message: str


class ImportOut(Schema):
    imported: int
    rows: int = 0
    errors: list[ImportError_]


@router.get("/refuellings", response=list[RefuellingOut], summary="加油记录")
@paginate(LimitOffset)
def list_refuellings(request, filters: Query[RefuellingFilter]):
    qs = Refuelling.objects.restrict(request.user)
    if a := _agency(request, filters.agency):
        qs = qs.filter(subtree_q("agency", a))
    if filters.vehicle:
        qs = qs.filter(vehicle_id=filters.vehicle)
    if filters.card:
        qs = qs.filter(card_id=filters.card)
    tz = timezone.get_default_timezone()
    if filters.since:
        qs = qs.filter(at__gte=dt.datetime.combine(filters.since, dt.time.min, tz))
    if filters.until:
        qs = qs.filter(at__lt=dt.datetime.combine(filters.until, dt.time.min, tz))
    return qs.order_by("-at", "-pk")


@router.post("/refuellings", response={201: RefuellingOut, **WRITE_ERRORS}, summary="登记加油")
def create_refuelling(request, data: RefuellingIn):
    card = visible(request, FuelCard, data.card_id) if data.card_id else None
    agency = _agency(request, data.agency_id)
    row = lifecycle.record_refuelling(
        request.user,
        card=card,
        agency=agency,
        **data.dict(exclude={"card_id", "agency_id"}),
    )
    return Status(201, row)


@router.post(
    "/refuellings/import",
    response={200: ImportOut, 422: ImportOut, 400: Error, 403: Error, 404: Error},
    summary="导入加油明细（Excel/CSV）",
)
def import_statement(request, file: File[UploadedFile], agency_id: Form[int | None] = None):
    """表头：加油时间、卡号、车牌号、加油量(升)、金额(元)、里程(公里)、加油站。全部或全不：
    任一行有误则不导入，返回每处错误的行号（表头为第 1 行）与列名（422）。"""
    if file.size and file.size > MAX_UPLOAD_BYTES:
        return Status(
            422, {"imported": 0, "errors": [{"row": 1, "column": "", "message": "文件超过 20 MB"}]}
        )
    result = import_refuellings(
        request.user, file.name or "upload.csv", file.read(), agency=_agency(request, agency_id)
    )
    return Status(422 if result["errors"] else 200, result)


# -- disposal -------------------------------------------------------------------------------


class EligibleOut(Schema):
    id: int
    plate: str
    agency_id: int
    purchase_date: dt.date
    odometer_km: Decimal
    status: str


class DisposalOut(Schema):
    id: int
    vehicle_id: int
    plate: str = Field(alias="vehicle.plate")
    agency_id: int = Field(alias="vehicle.agency_id")
    disposed_on: dt.date
    method: str
    proceeds: Decimal
    reason: str


class DisposeIn(Schema):
    vehicle_id: int
    disposed_on: dt.date
    method: Disposal.Method
    reason: str
    proceeds: Decimal = Decimal("0")
    early: bool = Field(False, description="未达到处置条件的提前处置（须说明理由）")


@router.get("/disposal/eligible", response=list[EligibleOut], summary="达到处置条件的车辆")
@paginate(LimitOffset)
def list_eligible(request, agency: int | None = None):
    """按阈值 disposal.age_years、disposal.mileage_km、disposal.require_both 判断。"""
    return lifecycle.disposal_eligible(request.user, agency=_agency(request, agency)).order_by(
        "purchase_date", "pk"
    )


@router.get("/disposals", response=list[DisposalOut], summary="处置记录")
@paginate(LimitOffset)
def list_disposals(request, agency: int | None = None):
    qs = Disposal.objects.restrict(request.user).select_related("vehicle")
    if a := _agency(request, agency):
        qs = qs.filter(subtree_q("vehicle__agency", a))
    return qs


@router.post("/disposals", response={201: DisposalOut, **WRITE_ERRORS}, summary="处置车辆")
def dispose(request, data: DisposeIn):
    vehicle = visible(request, Vehicle, data.vehicle_id, "change")
    d = lifecycle.dispose_vehicle(request.user, vehicle, **data.dict(exclude={"vehicle_id"}))
    return Status(201, Disposal.objects.select_related("vehicle").get(pk=d.pk))


# -- total cost of ownership ----------------------------------------------------------------


class CostOut(Schema):
    agency_id: int
    agency_name: str
    vehicle_id: int | None = None
    plate: str | None = None
    purchase: Decimal
    fuel: Decimal
    maintenance: Decimal
    insurance: Decimal
    inspection: Decimal
    proceeds: Decimal
    total: Decimal
    km: Decimal
    per_km: Decimal | None
    vehicles: int


class CostFilter(Schema):
    start: dt.date
    end: dt.date = Field(description="不含该日")
    agency: int | None = None
    by: str = Field("agency", pattern="^(agency|vehicle)$")


@router.get("/tco", response=list[CostOut], summary="全生命周期成本")
@paginate(LimitOffset)
def tco(request, filters: Query[CostFilter]):
    """按单位（by=agency）或按车辆（by=vehicle）的统计期成本：购置折旧（按处置年限直线折旧、
    无残值）、燃油、维修保养、保险、年检，减处置收入；每公里成本按加油记录的里程读数。"""
    agency = _agency(request, filters.agency)
    if filters.by == "agency":
        return lifecycle.agency_costs(
            request.user, start=filters.start, end=filters.end, agency=agency
        )
    costs = lifecycle.vehicle_costs(
        request.user, start=filters.start, end=filters.end, agency=agency
    )
    rows = [{"vehicle_id": vid} | c.as_dict() for vid, c in costs.items()]
    rows.sort(key=lambda r: r["total"], reverse=True)
    return rows
