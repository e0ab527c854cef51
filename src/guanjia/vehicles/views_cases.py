"""Pages of the misuse cases (违规线索): the list filtered by rule and status (and to the
cases open past their 24 hours), marking those overdue, and a case
with its evidence and the verify/dismiss form. Queries start from `restrict(request.user)`;
handling goes through `cases`."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.web.helpers import add_service_error, paginate, requires

from . import cases
from .forms_lifecycle import CaseDecisionForm, CaseFilterForm
from .models import MisuseCase, Refuelling
from .validators import normalize_plate


@requires("vehicles.view")
def case_list(request):
    now = timezone.now()
    qs = MisuseCase.objects.restrict(request.user).select_related("agency", "vehicle")
    form = CaseFilterForm(request.GET or None, rules=cases.rule_choices())
    if form.is_bound and form.is_valid():
        d = form.cleaned_data
        if d["rule"]:
            qs = qs.filter(rule=d["rule"])
        if d["status"]:
            qs = qs.filter(status=d["status"])
        if d["plate"]:
            plate = normalize_plate(d["plate"])
            qs = qs.filter(vehicle__plate__contains=plate) | qs.filter(title__contains=plate)
        if d["overdue"]:
            qs = qs.filter(cases.overdue_q(now))
    page = paginate(request, qs.order_by("-episode_start", "-pk"))
    for case in page:
        case.rule_label = cases.rule_label(case.rule)
        case.overdue = cases.is_overdue(case, now)
    return render(request, "vehicles/case_list.html", {"page": page, "form": form})


@requires("vehicles.view")
def case_detail(request, pk: int):
    user = request.user
    case = get_object_or_404(
        MisuseCase.objects.restrict(user).select_related("agency", "vehicle", "handled_by"), pk=pk
    )
    form = CaseDecisionForm(request.POST or None)
    if request.method == "POST":
        if not MisuseCase.objects.restrict(user, "change").filter(pk=pk).exists():
            raise PermissionDenied(_("没有权限处理此线索"))
        if form.is_valid():
            d = form.cleaned_data
            try:
                if d["action"] == "verify":
                    cases.verify_case(user, case, d["note"])
                else:
                    cases.dismiss_case(user, case, d["note"])
            except (ValidationError, PermissionDenied) as exc:
                if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
                    exc = ValidationError({"note": exc.error_dict.get("reason", exc.messages)})
                add_service_error(form, exc)
            else:
                messages.success(request, _("已处理"))
                return redirect("case_detail", pk=pk)
    ids = case.evidence.get("refuelling_ids") or []
    refuellings = (
        Refuelling.objects.restrict(user).filter(pk__in=ids).select_related("card").order_by("at")
    )
    evidence = [(k, v) for k, v in case.evidence.items() if k not in ("refuelling_ids", "plates")]
    return render(
        request,
        "vehicles/case_detail.html",
        {
            "case": case,
            "rule_label": cases.rule_label(case.rule),
            "evidence": evidence,
            "plates": case.evidence.get("plates") or [],
            "refuellings": refuellings,
            "form": form,
            "can_handle": case.status == MisuseCase.Status.OPEN and user.can("vehicles.change"),
        },
    )


urlpatterns = [
    path("cases/", case_list, name="case_list"),
    path("cases/<int:pk>/", case_detail, name="case_detail"),
]
