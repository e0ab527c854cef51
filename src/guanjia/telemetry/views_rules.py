"""The misuse rules page (/telemetry/rules/): every rule with its switch, parameters and
the clause it enforces; a holder of telemetry.change at data scope "all" edits them in
place (rule_defs.update_setting). Under each rule, the agencies' own settings the user can
see, with a link to the page that sets them (views_rule_overrides)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _

from guanjia.web.helpers import requires

from . import rule_defs as R
from .models import RuleSetting


def _value_text(value) -> str:
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, list):
        return "，".join(str(v) for v in value)
    return str(value)


def _params(params: dict) -> list[dict]:
    return [
        {
            "name": k,
            "label": R.PARAM_LABELS.get(k, k),
            "value": v,
            "text": _value_text(v),
            "is_bool": isinstance(v, bool),
        }
        for k, v in (params or {}).items()
    ]


def _rows(user):
    order = {k: i for i, k in enumerate(R.RULES)}
    overrides: dict[str, list] = {}
    for o in R.visible_overrides(user):
        o.param_rows = _params(o.params)
        overrides.setdefault(o.rule, []).append(o)
    rows = []
    for s in sorted(
        RuleSetting.objects.restrict(user).filter(agency=None), key=lambda r: order.get(r.rule, 99)
    ):
        rule = R.RULES.get(s.rule)
        rows.append(
            {
                "key": s.rule,
                "label": rule.label if rule else s.rule,
                "description": rule.description if rule else "",
                "enabled": s.enabled,
                "source": s.source,
                "params": _params(s.params),
                "overrides": overrides.get(s.rule, []),
            }
        )
    return rows


@requires("telemetry.view")
def rule_list(request):
    user = request.user
    can_edit = R.can_edit(user) and user.can("telemetry.change")
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied(_("只有数据范围为“全部”的监控管理员可以修改监控规则"))
        rule = request.POST.get("rule", "")
        current = RuleSetting.objects.filter(rule=rule, agency=None).first()
        params = {}
        for name, value in (current.params if current else {}).items():
            if isinstance(value, bool):
                params[name] = request.POST.get(f"param_{name}") == "on"
            elif f"param_{name}" in request.POST:
                params[name] = request.POST[f"param_{name}"]
        try:
            R.update_setting(
                user,
                rule,
                enabled=request.POST.get("enabled") == "on",
                params=params,
                source=request.POST.get("source", ""),
            )
        except ValidationError as exc:
            for msg in exc.messages:
                messages.error(request, msg)
        else:
            messages.success(request, _("已保存：%s") % R.RULES[rule].label)
        return redirect("rule_list")
    return render(
        request,
        "telemetry/rule_list.html",
        {
            "rows": _rows(user),
            "can_edit": can_edit,
            "can_override": R.override_agencies(user).exists(),
        },
    )


urlpatterns = [path("rules/", rule_list, name="rule_list")]
