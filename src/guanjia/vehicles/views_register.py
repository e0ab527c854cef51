"""Pages of the vehicle register: the list (filters, pagination, Excel export and upload),
a vehicle's page with its history (approvals, audit reasons, trips, maintenance,
refuellings, inspections, misuse cases — whatever the other parts record through their
related names), drivers, quotas with the configuration standards and the audit.

Every query starts from `restrict(request.user)`; the upload goes through `registry_io`
(all or nothing, audited, scope re-checked)."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _

from guanjia.core.context import acting_as
from guanjia.web.helpers import paginate, requires

from . import audit, registry_io
from .api_register import agencies_for
from .filters import filter_vehicles
from .forms import DriverFilterForm, VehicleFilterForm, VehicleUploadForm
from .models import BodyType, ConfigurationStandard, Driver, Quota, Vehicle
from .services import may_edit_standards

HISTORY = (
    # (related name on Vehicle, title, order, how many)
    ("trips", "出车记录", "-start_at", 20),
    ("maintenance", "维修保养", "-date", 20),
    ("refuellings", "加油记录", "-at", 20),
    ("inspections", "年检与保险", "-valid_until", 20),
    ("misuse_cases", "违规线索", "-episode_start", 20),
)


def _filtered(request):
    agencies = agencies_for(request.user)
    form = VehicleFilterForm(request.GET or None, agencies=agencies)
    vehicles = Vehicle.objects.restrict(request.user).select_related("agency")
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        vehicles = filter_vehicles(
            vehicles,
            agency=data["agency"],
            category=data["category"],
            status=data["status"],
            energy=data["energy"],
            q=data["q"],
            terminal=data["terminal"],
        )
    elif form.is_bound:
        vehicles = vehicles.none()
    return form, vehicles


@requires("vehicles.view")
def vehicle_list(request):
    form, vehicles = _filtered(request)
    return render(
        request,
        "vehicles/vehicle_list.html",
        {
            "form": form,
            "page": paginate(request, vehicles),
            "can_add": request.user.can("vehicles.add"),
            "query": request.GET.urlencode(),
        },
    )


@requires("vehicles.view")
def vehicle_export(request):
    _form, vehicles = _filtered(request)
    response = HttpResponse(
        registry_io.export_xlsx(vehicles),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="vehicles.xlsx"'
    return response


@requires("vehicles.add")
def vehicle_upload(request):
    agencies = agencies_for(request.user, "add")
    result = None
    if request.method == "POST":
        form = VehicleUploadForm(request.POST, request.FILES, agencies=agencies)
        if form.is_valid():
            f = form.cleaned_data["file"]
            with acting_as(request=request, source="import"):
                result = registry_io.import_file(
                    request.user, f.read(), f.name, default_agency=form.cleaned_data["agency"]
                )
            if not result["failed"]:
                messages.success(request, result["message"])
                return redirect("vehicle_list")
    else:
        form = VehicleUploadForm(agencies=agencies)
    status = 422 if result and result["failed"] else 200
    return render(
        request,
        "vehicles/vehicle_upload.html",
        {"form": form, "result": result, "headers": registry_io.HEADERS},
        status=status,
    )


@requires("vehicles.view")
def vehicle_detail(request, pk: int):
    car = get_object_or_404(
        Vehicle.objects.restrict(request.user).select_related("agency__region", "garage"), pk=pk
    )
    approvals = list(car.approvals.all())
    best = audit.latest_approvals([car.pk]).get(car.pk)
    reasons = (
        []
        if car.status == Vehicle.Status.DISPOSED
        else audit.car_reasons(car, audit.Standards(), best)
    )
    history = []
    for name, title, order, limit in HISTORY:
        manager = getattr(car, name, None)
        if manager is None:
            continue
        rows = manager.restrict(request.user) if hasattr(manager, "restrict") else manager.all()
        history.append({"key": name, "title": _(title), "rows": list(rows.order_by(order)[:limit])})
    return render(
        request,
        "vehicles/vehicle_detail.html",
        {
            "car": car,
            "approvals": approvals,
            "reasons": reasons,
            "history": history,
            "disposal": getattr(car, "disposal", None) if hasattr(car, "disposal") else None,
        },
    )


@requires("vehicles.view")
def driver_list(request):
    agencies = agencies_for(request.user)
    form = DriverFilterForm(request.GET or None, agencies=agencies)
    drivers = Driver.objects.restrict(request.user).select_related("agency")
    if form.is_bound and form.is_valid():
        if form.cleaned_data["agency"]:
            drivers = drivers.filter(agency__path__startswith=form.cleaned_data["agency"].path)
        if q := form.cleaned_data["q"]:
            drivers = drivers.filter(name__contains=q) | drivers.filter(
                licence_number__startswith=q.upper()
            )
    from datetime import date

    return render(
        request,
        "vehicles/driver_list.html",
        {"form": form, "page": paginate(request, drivers), "today": date.today()},
    )


@requires("vehicles.view")
def quota_list(request):
    quotas = list(Quota.objects.restrict(request.user).select_related("agency")[:2000])
    for q in audit.with_actual(request.user, quotas):
        q.over = q.actual > q.quota
    standards = list(ConfigurationStandard.objects.restrict(request.user).select_related("region"))
    for s in standards:
        s.body_labels = "、".join(
            str(BodyType(b).label) if b in BodyType.values else b for b in s.body_types.split()
        )
    agency = request.user.agency
    result = audit.audit_for(request.user, agency) if agency else None
    return render(
        request,
        "vehicles/quota_list.html",
        {
            "quotas": quotas,
            "standards": standards,
            "result": result,
            "agency": agency,
            "can_edit_standards": may_edit_standards(request.user),
        },
    )


@requires("vehicles.view")
def vehicle_audit(request):
    agencies = agencies_for(request.user)
    agency = None
    if request.GET.get("agency"):
        agency = get_object_or_404(agencies, pk=request.GET["agency"])
    result = audit.audit_for(request.user, agency)
    return render(
        request,
        "vehicles/audit_result.html",
        {"result": result, "agency": agency, "agencies": agencies.order_by("path")[:500]},
    )


urlpatterns = [
    path("", vehicle_list, name="vehicle_list"),
    path("export.xlsx", vehicle_export, name="vehicle_export"),
    path("upload/", vehicle_upload, name="vehicle_upload"),
    path("drivers/", driver_list, name="driver_list"),
    path("quotas/", quota_list, name="quota_list"),
    path("audit/", vehicle_audit, name="vehicle_audit"),
    path("<int:pk>/", vehicle_detail, name="vehicle_detail"),
]
