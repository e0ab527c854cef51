"""The vehicle register under /api/v1/vehicles/: vehicles, drivers, quotas, configuration
standards, garages, exception approvals, the configuration audit, import and export.

Every read starts from `restrict(request.user, …)`; an agency named in a filter or a body
must lie within the caller's vehicles scope (else 404); every write goes through `services`
(or `registry_io` for a sheet), which re-check the scope inside the transaction. A sheet is
imported all or nothing: any bad row gives 422 with every error and nothing written.
"""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from guanjia.core.api import LimitOffset
from guanjia.core.models import Agency
from guanjia.core.schemas import Error
from guanjia.core.scope import scope_q

from . import audit, registry_io, services
from .filters import filter_vehicles
from .models import ConfigurationStandard, Driver, ExceptionApproval, Garage, Quota, Vehicle
from .schemas import (
    ApprovalIn,
    ApprovalOut,
    AuditOut,
    DriverIn,
    DriverOut,
    DriverPatch,
    GarageIn,
    GarageOut,
    ImportOut,
    QuotaIn,
    QuotaOut,
    StandardOut,
    StandardPatch,
    VehicleDetailOut,
    VehicleFilter,
    VehicleIn,
    VehicleOut,
    VehiclePatch,
)

router = Router(tags=["公务用车"])
WRITE_ERRORS = {400: Error, 403: Error, 404: Error, 422: Error}
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


def agencies_for(user, action: str = "view"):
    """Agencies within `user`'s vehicles scope for `action`."""
    q = scope_q(Agency, user, "view", wanted=f"vehicles.{action}")
    return Agency.objects.all() if q is None else Agency.objects.filter(q)


def _agency(request, pk: int, action: str = "view") -> Agency:
    return get_object_or_404(agencies_for(request.user, action), pk=pk)


def _vehicles(request, action="view"):
    return Vehicle.objects.restrict(request.user, action).select_related("agency")


def _vehicle(request, pk: int, action="view") -> Vehicle:
    return get_object_or_404(_vehicles(request, action), pk=pk)


def _filtered(request, f: VehicleFilter):
    agency = _agency(request, f.agency) if f.agency else None
    return filter_vehicles(
        _vehicles(request),
        agency=agency,
        include_below=not f.only,
        category=f.category,
        status=f.status,
        energy=f.energy,
        q=f.q,
        terminal=f.terminal,
    )


def _garage(request, pk: int | None):
    if pk is None:
        return None
    return get_object_or_404(Garage.objects.restrict(request.user), pk=pk)


# -- vehicles -------------------------------------------------------------------------------


@router.get("", response=list[VehicleOut], summary="车辆登记列表")
@paginate(LimitOffset)
def list_vehicles(request, filters: Query[VehicleFilter]):
    """agency（单位 id，含下级；only=true 不含下级）、category、status、energy
    （new_energy 为全部新能源）、q（车牌号/车架号）、terminal（终端手机号，忽略前导0）。"""
    return _filtered(request, filters)


@router.post("", response={201: VehicleOut, **WRITE_ERRORS}, summary="登记车辆")
def create_vehicle(request, data: VehicleIn):
    fields = data.dict(exclude={"agency_id", "garage_id"})
    fields["agency"] = _agency(request, data.agency_id, "add")
    fields["garage"] = _garage(request, data.garage_id)
    car = services.create_vehicle(request.user, **fields)
    return Status(201, _vehicle(request, car.pk))


@router.get("/export.xlsx", summary="导出车辆登记（Excel）", response={200: None})
def export_vehicles(request, filters: Query[VehicleFilter]):
    """与列表相同的筛选；表头与导入相同，可直接改后再导入。"""
    data = registry_io.export_xlsx(_filtered(request, filters))
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = 'attachment; filename="vehicles.xlsx"'
    return response


@router.post(
    "/import",
    response={200: ImportOut, 400: Error, 403: Error, 404: Error, 422: ImportOut},
    summary="导入车辆登记（.xlsx/.csv）",
)
def import_vehicles(request, file: File[UploadedFile], agency_id: Form[int | None] = None):
    """全部成功或全部不导入：有任何错误行返回 422 和全部错误（行号同表格，表头为第1行），
    不写入任何数据。已登记的车牌号按表格更新。agency_id：空白“所属单位”的默认单位，并限定
    表格只能登记该单位及其下级。"""
    if file.size and file.size > MAX_UPLOAD_BYTES:
        return Status(400, {"detail": "文件超过 50 MB"})
    default = _agency(request, agency_id, "add") if agency_id else None
    services._require(request.user, "add")
    result = registry_io.import_file(
        request.user, file.read(), file.name or "upload.xlsx", default_agency=default
    )
    return Status(422 if result["failed"] else 200, result)


@router.get("/audit", response=AuditOut, summary="配备审计（超标准、超编制）")
def audit_vehicles(request, agency: int | None = None, only: bool = False):
    """超标准车辆及其理由（限额、实际值、依据）与超编制类别；经批准的车辆按批准档次衡量并
    注明批准文号。agency 为单位 id（默认含下级）。"""
    target = _agency(request, agency) if agency else None
    return audit.audit_for(request.user, target, include_below=not only)


@router.get("/{int:vehicle_id}", response=VehicleDetailOut, summary="车辆详情")
def get_vehicle(request, vehicle_id: int):
    car = _vehicle(request, vehicle_id)
    best = audit.latest_approvals([car.pk]).get(car.pk)
    car.audit_reasons = (
        []
        if car.status == Vehicle.Status.DISPOSED
        else audit.car_reasons(car, audit.Standards(), best)
    )
    return car


@router.patch("/{int:vehicle_id}", response={200: VehicleOut, **WRITE_ERRORS}, summary="修改车辆")
def update_vehicle(request, vehicle_id: int, data: VehiclePatch):
    car = _vehicle(request, vehicle_id, "change")
    fields = data.dict(exclude_unset=True, exclude={"agency_id", "garage_id"})
    if data.agency_id is not None:
        fields["agency"] = _agency(request, data.agency_id, "change")
    if "garage_id" in data.model_fields_set:
        fields["garage"] = _garage(request, data.garage_id)
    services.update_vehicle(request.user, car, **fields)
    return _vehicle(request, vehicle_id)


# -- drivers --------------------------------------------------------------------------------


def _drivers(request, action="view"):
    return Driver.objects.restrict(request.user, action).select_related("agency")


@router.get("/drivers", response=list[DriverOut], summary="驾驶员")
@paginate(LimitOffset)
def list_drivers(
    request, agency: int | None = None, q: str | None = None, active: bool | None = None
):
    qs = _drivers(request)
    if agency:
        qs = qs.filter(agency__path__startswith=_agency(request, agency).path)
    if q:
        qs = qs.filter(name__contains=q) | qs.filter(licence_number__startswith=q.upper())
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs


@router.post("/drivers", response={201: DriverOut, **WRITE_ERRORS}, summary="新增驾驶员")
def create_driver(request, data: DriverIn):
    fields = data.dict(exclude={"agency_id"})
    fields["agency"] = _agency(request, data.agency_id, "add")
    driver = services.create_driver(request.user, **fields)
    return Status(201, _drivers(request).get(pk=driver.pk))


@router.patch(
    "/drivers/{int:driver_id}", response={200: DriverOut, **WRITE_ERRORS}, summary="修改驾驶员"
)
def update_driver(request, driver_id: int, data: DriverPatch):
    driver = get_object_or_404(_drivers(request, "change"), pk=driver_id)
    fields = data.dict(exclude_unset=True, exclude={"agency_id"})
    if data.agency_id is not None:
        fields["agency"] = _agency(request, data.agency_id, "change")
    services.update_driver(request.user, driver, **fields)
    return _drivers(request).get(pk=driver_id)


# -- quotas ---------------------------------------------------------------------------------


@router.get("/quotas", response=list[QuotaOut], summary="车辆编制")
def list_quotas(request, agency: int | None = None):
    """各单位各类别的编制数与实有数（在用、封存、维修）。"""
    qs = Quota.objects.restrict(request.user).select_related("agency")
    if agency:
        qs = qs.filter(agency__path__startswith=_agency(request, agency).path)
    return audit.with_actual(request.user, list(qs[:5000]))


@router.put("/quotas", response={200: QuotaOut, **WRITE_ERRORS}, summary="核定编制")
def put_quota(request, data: QuotaIn):
    """按单位和类别设置编制数（已有则替换）。"""
    agency = _agency(request, data.agency_id, "change")
    quota = services.set_quota(request.user, agency, data.category, data.quota, data.basis)
    quota = Quota.objects.select_related("agency").get(pk=quota.pk)
    return audit.with_actual(request.user, [quota])[0]


# -- configuration standards ----------------------------------------------------------------


@router.get("/standards", response=list[StandardOut], summary="配备标准（含依据）")
def list_standards(request, category: str | None = None, active: bool | None = True):
    qs = ConfigurationStandard.objects.restrict(request.user).select_related("region")
    if category:
        qs = qs.filter(category=category)
    if active is not None:
        qs = qs.filter(is_active=active)
    return list(qs)


@router.patch(
    "/standards/{int:standard_id}",
    response={200: StandardOut, **WRITE_ERRORS},
    summary="修改配备标准",
)
def update_standard(request, standard_id: int, data: StandardPatch):
    """仅限全部数据权限的公务用车管理员（配备标准为全国或地区统一数据）。"""
    standard = get_object_or_404(
        ConfigurationStandard.objects.restrict(request.user, "change"), pk=standard_id
    )
    services.update_standard(request.user, standard, **data.dict(exclude_unset=True))
    return ConfigurationStandard.objects.select_related("region").get(pk=standard_id)


# -- garages --------------------------------------------------------------------------------


@router.get("/garages", response=list[GarageOut], summary="定点停放场所")
@paginate(LimitOffset)
def list_garages(request, agency: int | None = None):
    qs = Garage.objects.restrict(request.user).select_related("agency")
    if agency:
        qs = qs.filter(agency__path__startswith=_agency(request, agency).path)
    return qs


@router.post("/garages", response={201: GarageOut, **WRITE_ERRORS}, summary="新增定点停放场所")
def create_garage(request, data: GarageIn):
    fields = data.dict(exclude={"agency_id"})
    fields["agency"] = _agency(request, data.agency_id, "add")
    garage = services.create_garage(request.user, **fields)
    return Status(201, Garage.objects.select_related("agency").get(pk=garage.pk))


# -- exception approvals --------------------------------------------------------------------


@router.get("/approvals", response=list[ApprovalOut], summary="超标准配备批准")
@paginate(LimitOffset)
def list_approvals(request, vehicle: int | None = None):
    qs = ExceptionApproval.objects.restrict(request.user).select_related("vehicle")
    if vehicle:
        qs = qs.filter(vehicle_id=vehicle)
    return qs


@router.post(
    "/approvals", response={201: ApprovalOut, **WRITE_ERRORS}, summary="登记超标准配备批准"
)
def create_approval(request, data: ApprovalIn):
    car = _vehicle(request, data.vehicle_id, "change")
    approval = services.approve_exception(request.user, car, **data.dict(exclude={"vehicle_id"}))
    return Status(201, ExceptionApproval.objects.select_related("vehicle").get(pk=approval.pk))
