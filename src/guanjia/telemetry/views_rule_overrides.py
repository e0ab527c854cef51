"""The page of an agency's own settings of one misuse rule
(/telemetry/rules/<rule>/overrides/): the agencies' settings the user can see, and for the
agencies in the user's telemetry change scope a form to set (rule_defs.set_override) or
remove (rule_defs.clear_override) them. Each parameter starts from the platform default,
or from the agency's current setting when one is being edited."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanjia.core.models import Agency
from guanjia.web.forms import AgencyChoiceField
from guanjia.web.helpers import add_service_error, requires

from . import rule_defs as R
from .models import RuleSetting
from .views_rules import _params, _value_text

PARAM = "param_"


class OverrideForm(forms.Form):
    agency = AgencyChoiceField(label=gettext_lazy("单位"), queryset=Agency.objects.none())
    enabled = forms.BooleanField(label=gettext_lazy("启用"), required=False)
    source = forms.CharField(
        label=gettext_lazy("依据"),
        max_length=255,
        help_text=gettext_lazy("本单位设置所依据的条款或本地规定"),
    )

    def __init__(self, *args, agencies, start: R.Effective, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies
        self.fields["enabled"].initial = start.enabled
        for name, value in start.params.items():
            label = R.PARAM_LABELS.get(name, name)
            if isinstance(value, bool):
                field = forms.BooleanField(label=label, required=False, initial=value)
            else:
                field = forms.CharField(label=label, initial=_value_text(value))
            self.fields[PARAM + name] = field

    def params(self) -> dict:
        return {
            name.removeprefix(PARAM): value
            for name, value in self.cleaned_data.items()
            if name.startswith(PARAM)
        }


def _start(rule: str, current: RuleSetting | None) -> R.Effective:
    """What the form shows first: the agency's current setting, else the platform default
    (with an empty source: the agency names its own)."""
    if current is not None:
        return R.Effective(rule, current.enabled, dict(current.params), current.source)
    default = R.platform_default(rule)
    return R.Effective(rule, default.enabled, dict(default.params), "")


def _remove(request, rule: str, editable):
    agency = get_object_or_404(editable, pk=request.POST.get("agency") or 0)
    try:
        removed = R.clear_override(request.user, rule, agency)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, "；".join(getattr(exc, "messages", [str(exc)])))
    else:
        if removed:
            messages.success(request, _("已删除%s的设置，改按上级或平台默认执行") % agency.name)
    return redirect("rule_overrides", rule=rule)


@requires("telemetry.change")
def rule_overrides(request, rule: str):
    if rule not in R.RULES:
        raise Http404
    user = request.user
    editable = R.override_agencies(user).order_by("path")
    if not editable.exists():
        raise PermissionDenied(_("您的数据范围内没有可以设置监控规则的单位"))
    if request.method == "POST" and request.POST.get("action") == "remove":
        return _remove(request, rule, editable)
    chosen = request.POST.get("agency") or request.GET.get("agency")
    current = None
    if chosen and str(chosen).isdigit():
        current = RuleSetting.objects.filter(
            rule=rule, agency__in=editable, agency_id=int(chosen)
        ).first()
    form = OverrideForm(
        request.POST or None,
        agencies=editable,
        start=_start(rule, current),
        initial={"agency": current.agency_id if current else None},
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            R.set_override(
                user,
                rule,
                d["agency"],
                enabled=d["enabled"],
                params=form.params(),
                source=d["source"],
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("已保存%s的设置") % d["agency"].name)
            return redirect("rule_overrides", rule=rule)
    editable_ids = set(editable.values_list("pk", flat=True))
    overrides = list(R.visible_overrides(user, rule))
    for o in overrides:
        o.param_rows = _params(o.params)
        o.editable = o.agency_id in editable_ids
    return render(
        request,
        "telemetry/rule_overrides.html",
        {
            "rule": R.RULES[rule],
            "default": R.platform_default(rule),
            "default_params": _params(R.platform_default(rule).params),
            "overrides": overrides,
            "form": form,
            "editing": current,
        },
    )


urlpatterns = [path("rules/<str:rule>/overrides/", rule_overrides, name="rule_overrides")]
