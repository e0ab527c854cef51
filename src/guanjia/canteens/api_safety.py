"""Food safety under /api/v1/canteens/: disinfection logs, kitchen staff and health
certificate alerts, sample retention with its deviations, inspections with findings and
rectification. Reads start from `restrict(request.user)`; writes go through `safety`."""

import datetime as dt

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from guanjia.core.api import WRITE_ERRORS, LimitOffset

from . import safety
from .models import (
    Canteen,
    DisinfectionLog,
    KitchenStaff,
    Meal,
    SafetyFinding,
    SafetyInspection,
    SampleRetention,
)

router = Router(tags=["机关食堂"])


def _canteen(request, pk: int) -> Canteen:
    return get_object_or_404(Canteen.objects.restrict(request.user), pk=pk)


def _of(request, model, canteen: int | None):
    qs = model.objects.restrict(request.user)
    if canteen:
        field = "inspection__canteen" if model is SafetyFinding else "canteen"
        qs = qs.filter(**{field: _canteen(request, canteen)})
    return qs


# -- disinfection ---------------------------------------------------------------------------


class DisinfectionOut(Schema):
    id: int
    canteen_id: int
    agency_id: int = Field(alias="canteen.agency_id")
    date: dt.date
    meal: str
    items: str
    method: str
    minutes: int
    temperature_c: int | None
    operator: str


class DisinfectionIn(Schema):
    canteen_id: int
    date: dt.date
    meal: Meal = Meal.LUNCH
    items: str = "餐具"
    method: DisinfectionLog.Method
    minutes: int = Field(ge=1)
    temperature_c: int | None = None
    operator: str


@router.get("/disinfections", response=list[DisinfectionOut], summary="餐具消毒记录")
@paginate(LimitOffset)
def list_disinfections(request, canteen: int | None = None):
    return _of(request, DisinfectionLog, canteen).select_related("canteen").order_by("-date", "pk")


@router.post("/disinfections", response={201: DisinfectionOut, **WRITE_ERRORS},
             summary="登记餐具消毒")  # fmt: skip
def create_disinfection(request, data: DisinfectionIn):
    row = safety.record_disinfection(
        request.user, _canteen(request, data.canteen_id), **data.dict(exclude={"canteen_id"})
    )
    return Status(201, DisinfectionLog.objects.select_related("canteen").get(pk=row.pk))


# -- staff and certificates -----------------------------------------------------------------


class StaffOut(Schema):
    id: int
    canteen_id: int
    agency_id: int = Field(alias="canteen.agency_id")
    name: str
    post: str
    health_cert_no: str
    health_cert_expiry: dt.date | None
    is_active: bool


class StaffIn(Schema):
    canteen_id: int
    name: str
    post: str = ""
    health_cert_no: str = ""
    health_cert_expiry: dt.date | None = None
    is_active: bool = True


class StaffPatch(Schema):
    name: str | None = None
    post: str | None = None
    health_cert_no: str | None = None
    health_cert_expiry: dt.date | None = None
    is_active: bool | None = None


@router.get("/kitchen-staff", response=list[StaffOut], summary="从业人员")
@paginate(LimitOffset)
def list_staff(request, canteen: int | None = None):
    return _of(request, KitchenStaff, canteen).select_related("canteen").order_by("name", "pk")


@router.post("/kitchen-staff", response={201: StaffOut, **WRITE_ERRORS}, summary="登记从业人员")
def create_staff(request, data: StaffIn):
    row = safety.save_staff(
        request.user, _canteen(request, data.canteen_id), **data.dict(exclude={"canteen_id"})
    )
    return Status(201, KitchenStaff.objects.select_related("canteen").get(pk=row.pk))


@router.patch("/kitchen-staff/{staff_id}", response={200: StaffOut, **WRITE_ERRORS},
              summary="修改从业人员（如更新健康证）")  # fmt: skip
def update_staff(request, staff_id: int, data: StaffPatch):
    staff = get_object_or_404(KitchenStaff.objects.restrict(request.user, "change"), pk=staff_id)
    safety.save_staff(request.user, staff=staff, **data.dict(exclude_unset=True))
    return KitchenStaff.objects.select_related("canteen").get(pk=staff.pk)


class CertAlertOut(Schema):
    staff_id: int
    name: str
    post: str
    canteen_id: int
    canteen_name: str
    agency_id: int
    health_cert_no: str
    expiry: dt.date | None
    days_left: int | None
    state: str
    state_label: str


@router.get("/health-cert-alerts", response=list[CertAlertOut], summary="健康证到期提醒")
@paginate(LimitOffset)
def list_cert_alerts(request, canteen: int | None = None):
    """在岗人员中健康证已过期（expired）、将在 health_cert.warn_days 天内到期（due）或未登记
    有效期（missing）的，最紧急的在前。"""
    target = _canteen(request, canteen) if canteen else None
    return [a.as_dict() for a in safety.cert_alerts(request.user, canteen=target)]


# -- samples --------------------------------------------------------------------------------


class SampleOut(Schema):
    id: int
    canteen_id: int
    agency_id: int
    date: dt.date
    meal: str
    dish_name: str
    weight_g: int
    kept_hours: int
    keeper: str
    deviations: list[str]


class SampleIn(Schema):
    canteen_id: int
    date: dt.date
    meal: Meal = Meal.LUNCH
    dish_name: str
    weight_g: int = Field(ge=0)
    kept_hours: int = Field(48, ge=0)
    keeper: str


def _sample_out(sample, deviations) -> dict:
    return {
        "id": sample.pk, "canteen_id": sample.canteen_id, "agency_id": sample.canteen.agency_id,
        "date": sample.date, "meal": sample.meal, "dish_name": sample.dish_name,
        "weight_g": sample.weight_g, "kept_hours": sample.kept_hours, "keeper": sample.keeper,
        "deviations": deviations,
    }  # fmt: skip


@router.get("/samples", response=list[SampleOut], summary="留样记录")
@paginate(LimitOffset)
def list_samples(request, canteen: int | None = None, deviating: bool = False):
    """deviations 列出不符合 sample.min_weight_g、sample.min_hours 的问题；deviating=true 只列
    有问题的。"""
    rows = safety.with_deviations(_of(request, SampleRetention, canteen).order_by("-date", "pk"))
    return [_sample_out(s, d) for s, d in rows if d or not deviating]


@router.post("/samples", response={201: SampleOut, **WRITE_ERRORS}, summary="登记留样")
def create_sample(request, data: SampleIn):
    row = safety.record_sample(
        request.user, _canteen(request, data.canteen_id), **data.dict(exclude={"canteen_id"})
    )
    return Status(201, _sample_out(row, safety.sample_deviations(row)))


# -- inspections and findings ---------------------------------------------------------------


class FindingOut(Schema):
    id: int
    inspection_id: int
    canteen_id: int = Field(alias="inspection.canteen_id")
    agency_id: int = Field(alias="inspection.canteen.agency_id")
    description: str
    deadline: dt.date
    rectified_on: dt.date | None
    rectification: str
    state: str

    @staticmethod
    def resolve_state(obj):
        return safety.finding_state(obj)


class InspectionOut(Schema):
    id: int
    canteen_id: int
    agency_id: int = Field(alias="canteen.agency_id")
    date: dt.date
    kind: str
    inspector: str
    summary: str
    findings: list[FindingOut]

    @staticmethod
    def resolve_findings(obj):
        return list(obj.findings.all())


class FindingIn(Schema):
    description: str
    deadline: dt.date


class InspectionIn(Schema):
    canteen_id: int
    date: dt.date
    kind: SafetyInspection.Kind = SafetyInspection.Kind.SELF
    inspector: str
    summary: str = ""
    findings: list[FindingIn] = []


class RectifyIn(Schema):
    rectified_on: dt.date
    rectification: str


def _inspection(pk):
    return (
        SafetyInspection.objects.select_related("canteen")
        .prefetch_related("findings__inspection__canteen")
        .get(pk=pk)
    )


@router.get("/inspections", response=list[InspectionOut], summary="食品安全检查")
@paginate(LimitOffset)
def list_inspections(request, canteen: int | None = None):
    return (
        _of(request, SafetyInspection, canteen)
        .select_related("canteen")
        .prefetch_related("findings__inspection__canteen")
        .order_by("-date", "pk")
    )


@router.post("/inspections", response={201: InspectionOut, **WRITE_ERRORS},
             summary="登记检查及发现的问题")  # fmt: skip
def create_inspection(request, data: InspectionIn):
    fields = data.dict(exclude={"canteen_id", "findings"})
    row = safety.record_inspection(
        request.user, _canteen(request, data.canteen_id),
        findings=[f.dict() for f in data.findings], **fields,
    )  # fmt: skip
    return Status(201, _inspection(row.pk))


@router.get("/findings", response=list[FindingOut], summary="检查问题及整改")
@paginate(LimitOffset)
def list_findings(request, canteen: int | None = None, overdue: bool = False):
    """state：open 整改中、overdue 逾期未整改、done 已整改、late 逾期整改；overdue=true 只列逾期
    未整改的。"""
    if overdue:
        target = _canteen(request, canteen) if canteen else None
        return safety.overdue_findings(request.user, canteen=target)
    qs = _of(request, SafetyFinding, canteen).select_related("inspection", "inspection__canteen")
    return qs.order_by("deadline", "pk")


@router.post("/findings/{finding_id}/rectify", response={200: FindingOut, **WRITE_ERRORS},
             summary="登记整改完成")  # fmt: skip
def rectify_finding(request, finding_id: int, data: RectifyIn):
    finding = get_object_or_404(
        SafetyFinding.objects.restrict(request.user, "change").select_related(
            "inspection", "inspection__canteen"
        ),
        pk=finding_id,
    )
    return safety.rectify(request.user, finding, **data.dict())
