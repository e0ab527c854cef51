"""The verdicts page (/evaluation/): for an agency the user may see and a period, every linked
requirement of its standards with value, threshold, verdict, the clause cited and the trend;
a recompute button for holders of evaluation.change, and an Excel export."""

from __future__ import annotations

import io

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from guanjia.core.indicator_registry import Period, get_indicator
from guanjia.core.models import Agency
from guanjia.core.scope import scope_q
from guanjia.web.forms import AgencyChoiceField
from guanjia.web.helpers import requires

from . import services
from .models import RequirementResult, Verdict

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _agencies(user, action: str = "view"):
    q = scope_q(Agency, user, "view", wanted=f"evaluation.{action}")
    return Agency.objects.all() if q is None else Agency.objects.filter(q)


class PickForm(forms.Form):
    agency = AgencyChoiceField(label=_lazy("单位"), queryset=Agency.objects.none())
    period = forms.CharField(
        label=_lazy("统计期"), max_length=8, help_text=_lazy("2026-03、2026Q3 或 2026")
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = _agencies(user).order_by("path")

    def clean_period(self):
        try:
            return Period.parse(self.cleaned_data["period"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


def _picked(request):
    month, _quarter = _default_periods()
    data = request.GET or {"agency": request.user.agency_id, "period": month.label}
    form = PickForm(data, user=request.user)
    if form.is_valid():
        return form, form.cleaned_data["agency"], form.cleaned_data["period"]
    return form, None, None


def _default_periods():
    return services.last_complete_periods(timezone.localdate())


def _rows(user, agency, period):
    results = (
        RequirementResult.objects.restrict(user)
        .filter(agency=agency, period=period.label)
        .select_related("requirement__clause__standard")
        .order_by("requirement__clause__standard__code", "requirement__clause__position")
    )
    rows = []
    for r in results:
        try:
            label = get_indicator(r.indicator).label
        except KeyError:
            label = r.indicator
        rows.append(
            {"result": r, "label": label, "trend": services.trend(r.value, r.previous_value)}
        )
    return rows


@requires("evaluation.view")
def results_page(request):
    form, agency, period = _picked(request)
    rows = _rows(request.user, agency, period) if agency else []
    return render(
        request,
        "evaluation/results.html",
        {
            "form": form,
            "agency": agency,
            "period": period,
            "rows": rows,
            "summary": services.summary([{"status": r["result"].status} for r in rows]),
            "stale": any(r["result"].stale for r in rows),
            "can_change": agency is not None
            and _agencies(request.user, "change").filter(pk=agency.pk).exists(),
            "verdicts": dict(Verdict.choices),
        },
    )


@require_POST
@requires("evaluation.change")
def recompute(request):
    form = PickForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, _("请选择单位与统计期"))
        return redirect("evaluation_results")
    agency, period = form.cleaned_data["agency"], form.cleaned_data["period"]
    if not _agencies(request.user, "change").filter(pk=agency.pk).exists():
        raise PermissionDenied(_("没有权限重新评价该单位"))
    results = services.evaluate_and_store(agency, period)
    messages.success(request, _("已重新评价：%(n)s 项要求") % {"n": len(results)})
    return redirect(f"/evaluation/?agency={agency.pk}&period={period.label}")


@requires("evaluation.view")
def results_export(request):
    from openpyxl import Workbook

    _form, agency, period = _picked(request)
    book = Workbook()
    sheet = book.active
    sheet.title = "达标评价"
    sheet.append(
        ["标准", "条款", "要求", "指标", "比较", "阈值", "单位", "本期值", "上期值", "结论"]
    )
    for row in _rows(request.user, agency, period) if agency else []:
        r = row["result"]
        sheet.append([
            r.requirement.clause.standard.code, r.requirement.clause.number, str(r.requirement),
            row["label"], r.op, r.threshold, r.requirement.unit, r.value, r.previous_value,
            str(Verdict(r.status).label),
        ])  # fmt: skip
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    label = period.label if period else "none"
    response["Content-Disposition"] = f'attachment; filename="evaluation-{label}.xlsx"'
    return response


urlpatterns = [
    path("", results_page, name="evaluation_results"),
    path("recompute/", recompute, name="evaluation_recompute"),
    path("export/", results_export, name="evaluation_export"),
]
