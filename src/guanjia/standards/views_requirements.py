"""The requirements page of a standard: its quantitative requirements (clause, subject,
comparison, value, unit, strength), the indicator each is linked to — who confirmed it and
when — or the registry indicators suggested by term similarity, and for the standard's
maintainers (standards.change within the scope) the actions: extract and store the
requirements, confirm or change a link, unlink. A confirmed link is what the evaluation
computes on. Queries start from `restrict(request.user)`; writes go through `linking`."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanjia.core.indicator_registry import all_indicators
from guanjia.web.helpers import requires

from . import linking
from .document import document_from_standard
from .models import Requirement, Standard
from .requirements import extract, suggest_indicator


def _standards(user, action="view"):
    return Standard.objects.restrict(user, action).select_related("agency")


def _error(request, exc) -> None:
    text = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    messages.error(request, text or _("操作失败"))


@requires("standards.view")
def requirement_list(request, pk: int):
    user = request.user
    standard = get_object_or_404(_standards(user), pk=pk)
    can_change = user.can("standards.change") and _standards(user, "change").filter(pk=pk).exists()
    indicators = all_indicators()
    labels = {i.key: i.label for i in indicators}
    stored = list(
        Requirement.objects.filter(clause__standard=standard)
        .select_related("clause", "confirmed_by")
        .order_by("clause__position", "pk")
    )
    rows = []
    for r in stored:
        suggestions = [] if r.indicator_key else suggest_indicator(r, indicators)
        rows.append(
            {
                "r": r,
                "clause": r.clause.number,
                "label": labels.get(r.indicator_key, r.indicator_key),
                "suggestions": [(k, labels.get(k, k), s) for k, s in suggestions],
                "selected": r.indicator_key or (suggestions[0][0] if suggestions else ""),
            }
        )
    # Not stored yet: what the text holds, read-only until a maintainer stores it.
    extracted = [] if stored else extract(document_from_standard(standard))
    return render(
        request,
        "standards/requirement_list.html",
        {
            "standard": standard,
            "rows": rows,
            "extracted": extracted,
            "indicators": indicators,
            "can_change": can_change,
            "linked": sum(1 for r in stored if r.indicator_key),
        },
    )


@require_POST
@requires("standards.change")
def requirement_refresh(request, pk: int):
    standard = get_object_or_404(_standards(request.user, "change"), pk=pk)
    try:
        counts = linking.refresh_requirements(request.user, standard)
        messages.success(
            request,
            _("已提取量化要求：新增 %(created)d 条，保留已确认 %(kept)d 条，移除 %(removed)d 条")
            % counts,
        )
    except (ValidationError, PermissionDenied) as exc:
        _error(request, exc)
    return redirect("requirement_list", pk=standard.pk)


@require_POST
@requires("standards.change")
def requirement_link(request, requirement_id: int):
    """Confirm (or change) the requirement's indicator; `action=unlink` removes the link."""
    requirement = get_object_or_404(
        Requirement.objects.restrict(request.user, "change").select_related("clause"),
        pk=requirement_id,
    )
    try:
        if request.POST.get("action") == "unlink":
            linking.unlink(request.user, requirement)
            messages.success(
                request, _("已取消 %(clause)s 的指标关联") % {"clause": requirement.clause.number}
            )
        else:
            key = request.POST.get("indicator_key", "").strip()
            if not key:
                raise ValidationError(_("请选择指标"))
            linking.confirm_link(request.user, requirement, key)
            messages.success(
                request,
                _("已确认 %(clause)s「%(subject)s」对应指标 %(key)s")
                % {"clause": requirement.clause.number, "subject": requirement.subject, "key": key},
            )
    except (ValidationError, PermissionDenied) as exc:
        _error(request, exc)
    return redirect("requirement_list", pk=requirement.clause.standard_id)


urlpatterns = [
    path("<int:pk>/requirements/", requirement_list, name="requirement_list"),
    path("<int:pk>/requirements/refresh/", requirement_refresh, name="requirement_refresh"),
    path("requirements/<int:requirement_id>/link/", requirement_link, name="requirement_link"),
]
