"""Pages of food safety: the overview of alerts (health certificates, samples, overdue
findings), disinfection logs, kitchen staff, samples, inspections with findings and
rectification. Every query starts from `restrict(request.user)`; writes go through
`safety`."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanjia.web.helpers import add_service_error, paginate, requires

from . import safety
from .forms_safety import (
    CertRenewForm,
    DisinfectionForm,
    FindingForm,
    InspectionForm,
    RectifyForm,
    SampleForm,
    StaffForm,
)
from .models import (
    Canteen,
    DisinfectionLog,
    KitchenStaff,
    SafetyFinding,
    SafetyInspection,
    SampleRetention,
)


def _canteens(user, action="add"):
    return Canteen.objects.restrict(user, action).filter(is_active=True).order_by("name")


def _error(request, exc) -> None:
    text = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    messages.error(request, text or _("操作失败"))


def _entry_page(request, form_class, record, template, list_qs, name, extra=None):
    """A list with an entry form above it: POST records through `record(user, canteen,
    **fields)` and comes back to the list."""
    user = request.user
    form = form_class(request.POST or None, canteens=_canteens(user))
    if request.method == "POST":
        if not user.can("canteens.add"):
            raise PermissionDenied(_("没有权限：canteens.add"))
        if form.is_valid():
            fields = dict(form.cleaned_data)
            try:
                record(user, fields.pop("canteen"), **fields)
            except (ValidationError, PermissionDenied) as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("已登记"))
                return redirect(name)
    context = {
        "form": form,
        "page": paginate(request, list_qs),
        "can_add": user.can("canteens.add"),
        "can_change": user.can("canteens.change"),
    }
    return render(request, template, context | (extra or {}))


@requires("canteens.view")
def safety_overview(request):
    return render(request, "canteens/safety_overview.html", safety.overview(request.user))


@requires("canteens.view")
def safety_disinfections(request):
    qs = DisinfectionLog.objects.restrict(request.user).select_related("canteen")
    return _entry_page(
        request, DisinfectionForm, safety.record_disinfection,
        "canteens/safety_disinfections.html", qs.order_by("-date", "-pk"),
        "canteen_safety_disinfections",
    )  # fmt: skip


@requires("canteens.view")
def safety_staff(request):
    qs = KitchenStaff.objects.restrict(request.user).select_related("canteen")
    alerts = {a.staff_id: a for a in safety.cert_alerts(request.user)}
    return _entry_page(
        request, StaffForm, safety.save_staff, "canteens/safety_staff.html",
        qs.order_by("-is_active", "canteen__name", "name"), "canteen_safety_staff",
        {"alerts": alerts, "renew": CertRenewForm()},
    )  # fmt: skip


@require_POST
@requires("canteens.change")
def safety_staff_renew(request, pk: int):
    staff = get_object_or_404(KitchenStaff.objects.restrict(request.user, "change"), pk=pk)
    form = CertRenewForm(request.POST)
    if form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
        try:
            safety.save_staff(request.user, staff=staff, **fields)
            messages.success(request, _("已更新 %(n)s 的健康证") % {"n": staff.name})
        except (ValidationError, PermissionDenied) as exc:
            _error(request, exc)
    else:
        messages.error(request, _("请填写健康证有效期"))
    return redirect("canteen_safety_staff")


@require_POST
@requires("canteens.change")
def safety_staff_leave(request, pk: int):
    staff = get_object_or_404(KitchenStaff.objects.restrict(request.user, "change"), pk=pk)
    try:
        safety.save_staff(request.user, staff=staff, is_active=not staff.is_active)
    except (ValidationError, PermissionDenied) as exc:
        _error(request, exc)
    return redirect("canteen_safety_staff")


@requires("canteens.view")
def safety_samples(request):
    qs = SampleRetention.objects.restrict(request.user).order_by("-date", "-pk")
    deviating = bool(request.GET.get("deviating"))
    rows = [(s, d) for s, d in safety.with_deviations(qs) if d or not deviating]
    weight, hours = safety.sample_limits(request.user.agency)
    extra = {"deviating": deviating, "min_weight": weight, "min_hours": hours}
    return _entry_page(
        request, SampleForm, safety.record_sample, "canteens/safety_samples.html", rows,
        "canteen_safety_samples", extra,
    )  # fmt: skip


@requires("canteens.view")
def safety_inspections(request):
    qs = (
        SafetyInspection.objects.restrict(request.user)
        .select_related("canteen")
        .annotate(
            finding_count=Count("findings"),
            open_count=Count("findings", filter=Q(findings__rectified_on__isnull=True)),
        )
        .order_by("-date", "-pk")
    )
    return _entry_page(
        request, InspectionForm, safety.record_inspection, "canteens/safety_inspections.html",
        qs, "canteen_safety_inspections",
    )  # fmt: skip


@requires("canteens.view")
def safety_inspection(request, pk: int):
    user = request.user
    inspection = get_object_or_404(
        SafetyInspection.objects.restrict(user).select_related("canteen"), pk=pk
    )
    form = FindingForm(request.POST or None)
    if request.method == "POST":
        if not user.can("canteens.add"):
            raise PermissionDenied(_("没有权限：canteens.add"))
        if form.is_valid():
            try:
                safety.add_finding(user, inspection, **form.cleaned_data)
            except (ValidationError, PermissionDenied) as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("已添加问题"))
                return redirect("canteen_safety_inspection", pk=pk)
    findings = [
        (f, safety.finding_state(f), str(safety.FINDING_STATES[safety.finding_state(f)]))
        for f in inspection.findings.restrict(user).order_by("deadline", "pk")
    ]
    return render(
        request,
        "canteens/safety_inspection.html",
        {
            "inspection": inspection,
            "findings": findings,
            "form": form,
            "rectify": RectifyForm(),
            "can_add": user.can("canteens.add"),
            "can_change": user.can("canteens.change"),
        },
    )


@require_POST
@requires("canteens.change")
def safety_rectify(request, pk: int):
    finding = get_object_or_404(
        SafetyFinding.objects.restrict(request.user, "change").select_related("inspection"), pk=pk
    )
    form = RectifyForm(request.POST)
    if form.is_valid():
        try:
            safety.rectify(request.user, finding, **form.cleaned_data)
            messages.success(request, _("已登记整改"))
        except (ValidationError, PermissionDenied) as exc:
            _error(request, exc)
    else:
        messages.error(request, _("请填写整改完成日期与整改情况"))
    return redirect("canteen_safety_inspection", pk=finding.inspection_id)


urlpatterns = [
    path("safety/", safety_overview, name="canteen_safety"),
    path("safety/disinfection/", safety_disinfections, name="canteen_safety_disinfections"),
    path("safety/staff/", safety_staff, name="canteen_safety_staff"),
    path("safety/staff/<int:pk>/renew/", safety_staff_renew, name="canteen_safety_staff_renew"),
    path("safety/staff/<int:pk>/active/", safety_staff_leave, name="canteen_safety_staff_active"),
    path("safety/samples/", safety_samples, name="canteen_safety_samples"),
    path("safety/inspections/", safety_inspections, name="canteen_safety_inspections"),
    path("safety/inspections/<int:pk>/", safety_inspection, name="canteen_safety_inspection"),
    path("safety/findings/<int:pk>/rectify/", safety_rectify, name="canteen_safety_rectify"),
]
