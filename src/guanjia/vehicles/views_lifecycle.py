"""Pages of the lifecycle: the overview (reminders, approvals waiting, cars due for
disposal, cost by agency with its Excel export), maintenance with approval, inspections,
fuel cards, refuellings with the statement upload, disposal. Every query starts from
`restrict(request.user)`; writes go through `lifecycle`."""

import io

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanjia.core.models import Agency
from guanjia.web.helpers import add_service_error, paginate, requires

from . import lifecycle
from .forms_lifecycle import (
    BindForm,
    CardForm,
    DecisionForm,
    DisposeForm,
    ImportForm,
    InspectionForm,
    MaintenanceForm,
    PeriodForm,
    ShopForm,
)
from .lifecycle_io import import_refuellings
from .models import FuelCard, Inspection, Maintenance, Refuelling, RepairShop, Vehicle
from .validators import normalize_plate

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _error(request, exc) -> None:
    text = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    messages.error(request, text or _("操作失败"))


def _period(request):
    form = PeriodForm(request.GET or None, initial=PeriodForm.default())
    if form.is_bound and form.is_valid():
        return form, form.cleaned_data["start"], form.cleaned_data["end"]
    d = PeriodForm.default()
    return form, d["start"], d["end"]


def _car(user, plate: str) -> Vehicle:
    car = Vehicle.objects.restrict(user).filter(plate=normalize_plate(plate)).first()
    if car is None:
        raise ValidationError(_("找不到车辆 %(p)s（或不在权限范围内）") % {"p": plate})
    return car


@requires("vehicles.view")
def lifecycle_overview(request):
    user = request.user
    form, start, end = _period(request)
    reminders = lifecycle.reminders(user)
    pending = (
        Maintenance.objects.restrict(user)
        .filter(status=Maintenance.Status.REQUESTED)
        .select_related("agency", "shop", "requested_by")
        .order_by("date", "pk")
    )
    eligible = lifecycle.disposal_eligible(user).select_related("agency")
    return render(
        request,
        "vehicles/lifecycle_overview.html",
        {
            "reminders": reminders[:50],
            "reminder_count": len(reminders),
            "pending": pending[:50],
            "pending_count": pending.count(),
            "eligible": eligible.order_by("purchase_date")[:50],
            "eligible_count": eligible.count(),
            "rule": lifecycle.disposal_rule_text(),
            "form": form,
            "costs": lifecycle.agency_costs(user, start=start, end=end),
            "start": start,
            "end": end,
        },
    )


@requires("vehicles.view")
def lifecycle_tco_export(request):
    from openpyxl import Workbook

    _form, start, end = _period(request)
    rows = lifecycle.agency_costs(request.user, start=start, end=end)
    wb = Workbook()
    ws = wb.active
    ws.title = "全生命周期成本"
    ws.append([_("统计期"), f"{start.isoformat()} 至 {end.isoformat()}（不含）"])
    heads = [
        _("单位"), _("车辆数"), _("购置折旧(元)"), _("燃油(元)"), _("维修保养(元)"),
        _("保险(元)"), _("年检(元)"), _("处置收入(元)"), _("合计(元)"), _("里程(公里)"),
        _("每公里成本(元)"),
    ]  # fmt: skip
    ws.append(heads)
    for r in rows:
        ws.append(
            [
                r["agency_name"], r["vehicles"], float(r["purchase"]), float(r["fuel"]),
                float(r["maintenance"]), float(r["insurance"]), float(r["inspection"]),
                float(r["proceeds"]), float(r["total"]), float(r["km"]),
                None if r["per_km"] is None else float(r["per_km"]),
            ]
        )  # fmt: skip
    buf = io.BytesIO()
    wb.save(buf)
    response = HttpResponse(buf.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="tco-{start}-{end}.xlsx"'
    return response


# -- maintenance ----------------------------------------------------------------------------


@requires("vehicles.view")
def lifecycle_maintenance(request):
    user = request.user
    agencies = Agency.objects.restrict(user).order_by("path")
    shops = RepairShop.objects.restrict(user).filter(is_designated=True)
    form = MaintenanceForm(
        request.POST or None,
        agencies=agencies,
        shops=shops,
        initial={"agency": user.agency_id},
    )
    if request.method == "POST":
        if not user.can("vehicles.add"):
            raise PermissionDenied(_("没有权限：vehicles.add"))
        if form.is_valid():
            d = form.cleaned_data
            try:
                m = lifecycle.request_maintenance(
                    user, agency=d["agency"], plate=d["plate"], shop=d["shop"], kind=d["kind"],
                    date=d["date"], amount=d["amount"], items=d["items"],
                    odometer_km=d["odometer_km"],
                )  # fmt: skip
            except (ValidationError, PermissionDenied) as exc:
                add_service_error(form, exc)
            else:
                if m.status == Maintenance.Status.REQUESTED:
                    messages.info(request, _("金额达到审批标准，已提交审批"))
                else:
                    messages.success(request, _("已登记"))
                return redirect("lifecycle_maintenance")
    status = request.GET.get("status", "")
    qs = Maintenance.objects.restrict(user).select_related(
        "agency", "shop", "vehicle", "requested_by", "approver"
    )
    if status:
        qs = qs.filter(status=status)
    return render(
        request,
        "vehicles/lifecycle_maintenance.html",
        {
            "page": paginate(request, qs.order_by("-date", "-pk")),
            "form": form,
            "status": status,
            "statuses": Maintenance.Status.choices,
            "limit": lifecycle.threshold_value("maintenance.approval_amount"),
            "can_add": user.can("vehicles.add"),
            "can_change": user.can("vehicles.change"),
        },
    )


@require_POST
@requires("vehicles.change")
def lifecycle_maintenance_decide(request, pk: int):
    m = get_object_or_404(Maintenance.objects.restrict(request.user, "change"), pk=pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            if d["action"] == "approve":
                lifecycle.approve_maintenance(request.user, m, d["note"])
            elif d["action"] == "reject":
                lifecycle.reject_maintenance(request.user, m, d["note"])
            else:
                lifecycle.complete_maintenance(request.user, m, amount=d["amount"])
            messages.success(request, _("已处理"))
        except (ValidationError, PermissionDenied) as exc:
            _error(request, exc)
    return redirect("lifecycle_maintenance")


@requires("vehicles.view")
def lifecycle_shops(request):
    user = request.user
    form = ShopForm(request.POST or None, agencies=Agency.objects.restrict(user).order_by("path"))
    if request.method == "POST" and form.is_valid():
        try:
            lifecycle.save_repair_shop(user, **form.cleaned_data)
            messages.success(request, _("已保存"))
            return redirect("lifecycle_shops")
        except (ValidationError, PermissionDenied) as exc:
            _error(request, exc)
    shops = RepairShop.objects.restrict(user).select_related("agency")
    return render(
        request,
        "vehicles/lifecycle_shops.html",
        {"page": paginate(request, shops), "form": form, "can_add": user.can("vehicles.add")},
    )


# -- inspections ----------------------------------------------------------------------------


@requires("vehicles.view")
def lifecycle_inspections(request):
    user = request.user
    form = InspectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = dict(form.cleaned_data)
        try:
            car = _car(user, d.pop("plate"))
            lifecycle.record_inspection(user, car, **d)
            messages.success(request, _("已登记"))
            return redirect("lifecycle_inspections")
        except (ValidationError, PermissionDenied) as exc:
            _error(request, exc)
    qs = Inspection.objects.restrict(user).select_related("vehicle", "vehicle__agency")
    if plate := request.GET.get("plate"):
        qs = qs.filter(vehicle__plate__contains=normalize_plate(plate))
    return render(
        request,
        "vehicles/lifecycle_inspections.html",
        {
            "page": paginate(request, qs.order_by("-valid_until", "-pk")),
            "form": form,
            "can_add": user.can("vehicles.add"),
        },
    )


# -- fuel cards and refuelling --------------------------------------------------------------


@requires("vehicles.view")
def lifecycle_cards(request):
    user = request.user
    form = CardForm(
        request.POST or None,
        agencies=Agency.objects.restrict(user).order_by("path"),
        initial={"agency": user.agency_id},
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            car = _car(user, d["plate"]) if d["plate"] else None
            lifecycle.issue_fuel_card(user, agency=d["agency"], number=d["number"], vehicle=car)
            messages.success(request, _("已登记"))
            return redirect("lifecycle_cards")
        except (ValidationError, PermissionDenied) as exc:
            _error(request, exc)
    cards = FuelCard.objects.restrict(user).select_related("agency", "vehicle")
    if q := request.GET.get("q"):
        cards = cards.filter(number__contains=q) | cards.filter(vehicle__plate__contains=q)
    return render(
        request,
        "vehicles/lifecycle_cards.html",
        {
            "page": paginate(request, cards),
            "form": form,
            "can_add": user.can("vehicles.add"),
            "can_change": user.can("vehicles.change"),
        },
    )


@require_POST
@requires("vehicles.change")
def lifecycle_card_bind(request, pk: int):
    card = get_object_or_404(FuelCard.objects.restrict(request.user, "change"), pk=pk)
    form = BindForm(request.POST)
    if form.is_valid():
        try:
            plate = form.cleaned_data["plate"]
            car = _car(request.user, plate) if plate else None
            lifecycle.bind_card(request.user, card, car)
            messages.success(request, _("已绑定") if car else _("已解绑"))
        except (ValidationError, PermissionDenied) as exc:
            _error(request, exc)
    return redirect("lifecycle_cards")


@requires("vehicles.view")
def lifecycle_refuelling(request):
    user = request.user
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST":
        if not user.can("vehicles.add"):
            raise PermissionDenied(_("没有权限：vehicles.add"))
        if form.is_valid():
            upload = form.cleaned_data["file"]
            result = import_refuellings(user, upload.name, upload.read())
            if not result["errors"]:
                messages.success(request, _("已导入 %(n)d 条加油记录") % {"n": result["imported"]})
                return redirect("lifecycle_refuelling")
    qs = Refuelling.objects.restrict(user).select_related("card", "vehicle", "agency")
    if plate := request.GET.get("plate"):
        qs = qs.filter(plate__contains=normalize_plate(plate))
    return render(
        request,
        "vehicles/lifecycle_refuelling.html",
        {
            "page": paginate(request, qs.order_by("-at", "-pk")),
            "form": form,
            "result": result,
            "can_add": user.can("vehicles.add"),
        },
    )


# -- disposal -------------------------------------------------------------------------------


@requires("vehicles.view")
def lifecycle_disposal(request):
    user = request.user
    eligible = lifecycle.disposal_eligible(user).select_related("agency").order_by("purchase_date")
    return render(
        request,
        "vehicles/lifecycle_disposal.html",
        {
            "page": paginate(request, eligible),
            "rule": lifecycle.disposal_rule_text(),
            "form": DisposeForm(initial={"disposed_on": lifecycle.timezone.localdate()}),
            "can_change": user.can("vehicles.change"),
        },
    )


@require_POST
@requires("vehicles.change")
def lifecycle_dispose(request, pk: int):
    car = get_object_or_404(Vehicle.objects.restrict(request.user, "change"), pk=pk)
    form = DisposeForm(request.POST)
    if form.is_valid():
        try:
            lifecycle.dispose_vehicle(request.user, car, **form.cleaned_data)
            messages.success(request, _("车辆 %(p)s 已处置") % {"p": car.plate})
        except (ValidationError, PermissionDenied) as exc:
            _error(request, exc)
    else:
        messages.error(request, _("请填写处置日期、方式与理由"))
    return redirect("lifecycle_disposal")


urlpatterns = [
    path("lifecycle/", lifecycle_overview, name="lifecycle_overview"),
    path("lifecycle/tco.xlsx", lifecycle_tco_export, name="lifecycle_tco_export"),
    path("lifecycle/maintenance/", lifecycle_maintenance, name="lifecycle_maintenance"),
    path(
        "lifecycle/maintenance/<int:pk>/decide/",
        lifecycle_maintenance_decide,
        name="lifecycle_maintenance_decide",
    ),
    path("lifecycle/shops/", lifecycle_shops, name="lifecycle_shops"),
    path("lifecycle/inspections/", lifecycle_inspections, name="lifecycle_inspections"),
    path("lifecycle/cards/", lifecycle_cards, name="lifecycle_cards"),
    path("lifecycle/cards/<int:pk>/bind/", lifecycle_card_bind, name="lifecycle_card_bind"),
    path("lifecycle/refuelling/", lifecycle_refuelling, name="lifecycle_refuelling"),
    path("lifecycle/disposal/", lifecycle_disposal, name="lifecycle_disposal"),
    path("lifecycle/disposal/<int:pk>/", lifecycle_dispose, name="lifecycle_dispose"),
]
