"""Online dispatch (网上派车) under /api/v1/vehicles/trips.

Reads start from `TripRequest.objects.restrict(request.user)` (staff with the "only own"
scope see their own requests; dispatchers their agencies'); cars and drivers from the
caller's vehicles scope. Every write goes through `dispatch` (the services), which checks
the state, the conflicts and who may act, and refuses with 403 or 422 and a Chinese reason.
"""

from datetime import date, datetime, time, timedelta

from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from guanjia.core.api import LimitOffset
from guanjia.core.models import Agency
from guanjia.core.schemas import Error
from guanjia.core.scope import subtree_q

from . import dispatch, pooling
from .models import Driver, TripRequest, Vehicle

router = Router(tags=["公务用车"])
WRITE_ERRORS = {400: Error, 403: Error, 404: Error, 422: Error}


# -- shapes ---------------------------------------------------------------------------------


def _name(user) -> str | None:
    return (user.real_name or user.username) if user else None


def _km(value) -> float | None:
    return None if value is None else float(value)


class TripOut(Schema):
    id: int
    number: str
    status: str
    status_label: str = Field(alias="get_status_display")
    agency_id: int
    agency_name: str = Field(alias="agency.name")
    requester_id: int
    requester_name: str
    purpose: str
    passengers: int
    passenger_names: str
    origin: str
    origin_lat: float | None
    origin_lon: float | None
    destination: str
    destination_lat: float | None
    destination_lon: float | None
    start_at: datetime
    end_at: datetime
    created_at: datetime
    approver_name: str | None
    approved_at: datetime | None
    rejection_reason: str
    vehicle_id: int | None
    plate: str | None
    driver_id: int | None
    driver_name: str | None
    pool_lead_id: int | None
    dispatcher_name: str | None
    assigned_at: datetime | None
    started_at: datetime | None
    start_odometer_km: float | None
    ended_at: datetime | None
    end_odometer_km: float | None
    distance_km: float | None
    rating: int | None
    rating_comment: str
    cancelled_at: datetime | None
    cancel_reason: str

    @staticmethod
    def resolve_requester_name(obj) -> str:
        return _name(obj.requester)

    @staticmethod
    def resolve_approver_name(obj):
        return _name(obj.approver)

    @staticmethod
    def resolve_dispatcher_name(obj):
        return _name(obj.dispatcher)

    @staticmethod
    def resolve_plate(obj):
        return obj.vehicle.plate if obj.vehicle_id else None

    @staticmethod
    def resolve_driver_name(obj):
        return obj.driver.name if obj.driver_id else None

    @staticmethod
    def resolve_start_odometer_km(obj):
        return _km(obj.start_odometer_km)

    @staticmethod
    def resolve_end_odometer_km(obj):
        return _km(obj.end_odometer_km)

    @staticmethod
    def resolve_distance_km(obj):
        if obj.start_odometer_km is None or obj.end_odometer_km is None:
            return None
        return float(obj.end_odometer_km - obj.start_odometer_km)


class TripIn(Schema):
    purpose: str
    passengers: int = 1
    passenger_names: str = ""
    origin: str
    origin_lat: float | None = None
    origin_lon: float | None = None
    destination: str
    destination_lat: float | None = None
    destination_lon: float | None = None
    start_at: datetime
    end_at: datetime
    agency_id: int | None = Field(None, description="用车单位；默认为申请人所在单位")


class TripFilter(Schema):
    status: str | None = Field(None, description="requested / approved / assigned / …")
    date_from: date | None = Field(None, description="用车开始日期不早于")
    date_to: date | None = Field(None, description="用车开始日期不晚于")
    agency: int | None = Field(None, description="用车单位 id（含下级单位）")
    mine: bool = Field(False, description="只列本人提出的申请")


class ReasonIn(Schema):
    reason: str


class AssignIn(Schema):
    vehicle_id: int | None = None
    driver_id: int | None = None
    pool_with_id: int | None = Field(None, description="与该申请拼车（集约管车）")


class OdometerIn(Schema):
    odometer_km: float | None = Field(None, description="出车时默认为车辆登记里程")


class EndIn(Schema):
    odometer_km: float


class RateIn(Schema):
    rating: int = Field(description="1–5")
    comment: str = ""


class TripRef(Schema):
    id: int
    number: str
    status: str
    purpose: str
    origin: str
    destination: str
    start_at: datetime
    end_at: datetime
    passengers: int
    agency_name: str = Field(alias="agency.name")


class PoolOut(Schema):
    trip: TripRef
    score: float
    overlap_minutes: int
    origin_km: float
    destination_km: float
    passengers: int
    vehicle_id: int | None
    plate: str | None

    @staticmethod
    def resolve_vehicle_id(obj):
        return obj.vehicle.pk if obj.vehicle else None

    @staticmethod
    def resolve_plate(obj):
        return obj.vehicle.plate if obj.vehicle else None


class FreeVehicleOut(Schema):
    vehicle_id: int = Field(alias="vehicle.pk")
    plate: str = Field(alias="vehicle.plate")
    seats: int = Field(alias="vehicle.seats")
    agency_name: str = Field(alias="vehicle.agency.name")
    score: float
    idle_hours: float | None
    distance_km: float | None
    where: str
    last_driver_id: int | None


class DriverChoiceOut(Schema):
    id: int
    name: str
    agency_name: str = Field(alias="agency.name")
    licence_class: str
    licence_expiry: date


class SuggestionsOut(Schema):
    pools: list[PoolOut]
    vehicles: list[FreeVehicleOut]
    drivers: list[DriverChoiceOut]


# -- helpers --------------------------------------------------------------------------------


def _aware(moment: datetime) -> datetime:
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _trip(request, trip_id: int) -> TripRequest:
    return get_object_or_404(dispatch.visible(request.user), pk=trip_id)


def _out(request, trip: TripRequest) -> TripRequest:
    return dispatch.visible(request.user).get(pk=trip.pk)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


# -- routes ---------------------------------------------------------------------------------


def _agency(request, pk: int) -> Agency:
    """An agency the caller may name: their own or one in their scope (else 404)."""
    if pk == request.user.agency_id:
        return request.user.agency
    return get_object_or_404(Agency.objects.restrict(request.user), pk=pk)


@router.get("/trips", response=list[TripOut], summary="用车申请列表")
@paginate(LimitOffset)
def list_trips(request, filters: Query[TripFilter]):
    """本人的申请；调度人员还能看到其数据范围内各单位的申请。"""
    qs = dispatch.visible(request.user)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.date_from:
        qs = qs.filter(start_at__gte=_day_start(filters.date_from))
    if filters.date_to:
        qs = qs.filter(start_at__lt=_day_start(filters.date_to) + timedelta(days=1))
    if filters.agency:
        agency = _agency(request, filters.agency)
        qs = qs.filter(subtree_q("agency", agency))
    if filters.mine:
        qs = qs.filter(requester=request.user)
    return qs.order_by("-start_at", "-pk")


@router.post("/trips", response={201: TripOut, **WRITE_ERRORS}, summary="申请用车")
def create_trip(request, data: TripIn):
    fields = data.dict(exclude={"agency_id"})
    fields["start_at"], fields["end_at"] = _aware(data.start_at), _aware(data.end_at)
    agency = _agency(request, data.agency_id) if data.agency_id else None
    trip = dispatch.request_trip(request.user, agency=agency, **fields)
    return Status(201, _out(request, trip))


@router.get("/trips/{int:trip_id}", response=TripOut, summary="用车申请详情")
def get_trip(request, trip_id: int):
    return _trip(request, trip_id)


@router.post(
    "/trips/{int:trip_id}/approve", response={200: TripOut, **WRITE_ERRORS}, summary="审批通过"
)
def approve_trip(request, trip_id: int):
    """需要对申请单位有 dispatch.change 权限的角色（“仅本人”范围不能审批）；不能审批本人的申请。"""
    return _out(request, dispatch.approve(request.user, _trip(request, trip_id)))


@router.post("/trips/{int:trip_id}/reject", response={200: TripOut, **WRITE_ERRORS}, summary="驳回")
def reject_trip(request, trip_id: int, data: ReasonIn):
    return _out(request, dispatch.reject(request.user, _trip(request, trip_id), data.reason))


@router.post("/trips/{int:trip_id}/assign", response={200: TripOut, **WRITE_ERRORS}, summary="派车")
def assign_trip(request, trip_id: int, data: AssignIn):
    """指派车辆和驾驶员（冲突检查：车辆或驾驶员时间重叠、驾驶证过期、驾驶员不在岗、车辆封存
    或维修、座位不足）。`pool_with_id` 与另一申请拼车：对方已派车时沿用其车辆和驾驶员。"""
    trip = _trip(request, trip_id)
    user = request.user
    vehicle = driver = pool = None
    if data.vehicle_id:
        vehicle = get_object_or_404(Vehicle.objects.restrict(user), pk=data.vehicle_id)
    if data.driver_id:
        driver = get_object_or_404(Driver.objects.restrict(user), pk=data.driver_id)
    if data.pool_with_id:
        pool = _trip(request, data.pool_with_id)
    dispatch.assign(user, trip, vehicle, driver, pool_with=pool)
    return _out(request, trip)


@router.post("/trips/{int:trip_id}/start", response={200: TripOut, **WRITE_ERRORS}, summary="出车")
def start_trip(request, trip_id: int, data: OdometerIn):
    km = data.odometer_km
    return _out(request, dispatch.start(request.user, _trip(request, trip_id), km))


@router.post("/trips/{int:trip_id}/end", response={200: TripOut, **WRITE_ERRORS}, summary="收车")
def end_trip(request, trip_id: int, data: EndIn):
    return _out(request, dispatch.end(request.user, _trip(request, trip_id), data.odometer_km))


@router.post("/trips/{int:trip_id}/rate", response={200: TripOut, **WRITE_ERRORS}, summary="评价")
def rate_trip(request, trip_id: int, data: RateIn):
    """仅申请人，行程完成后评价一次（1–5 分）。"""
    trip = dispatch.rate(request.user, _trip(request, trip_id), data.rating, data.comment)
    return _out(request, trip)


@router.post("/trips/{int:trip_id}/cancel", response={200: TripOut, **WRITE_ERRORS}, summary="取消")
def cancel_trip(request, trip_id: int, data: ReasonIn):
    """出车前由申请人或调度人员取消，释放车辆和驾驶员。"""
    return _out(request, dispatch.cancel(request.user, _trip(request, trip_id), data.reason))


@router.get(
    "/trips/{int:trip_id}/suggestions",
    response={200: SuggestionsOut, 403: Error, 404: Error},
    summary="拼车与派车建议",
)
def trip_suggestions(request, trip_id: int):
    """集约管车：可拼车的申请（时间重叠、路线相近、座位够用）与空闲车辆（时间、地点最近优先）
    和可派驾驶员。评分方法见 guanjia.vehicles.pooling。"""
    trip = _trip(request, trip_id)
    if not dispatch.can_dispatch(request.user, trip):
        return Status(403, {"detail": "没有权限调度该单位的用车申请"})
    return {
        "pools": pooling.pool_suggestions(request.user, trip),
        "vehicles": pooling.vehicle_suggestions(request.user, trip),
        "drivers": pooling.driver_choices(request.user, trip),
    }
