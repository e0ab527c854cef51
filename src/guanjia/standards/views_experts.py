"""Pages of the expert library (专家库): the list with filters (field, region, agency), an
expert's page with their review assignments, the add and edit forms, and assigning an
expert to review a draft. Every query starts from `restrict(request.user)`; writes go
through `experts`, which re-checks the scope and refuses an expert reviewing a draft of
their own agency."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_POST

from guanjia.core.models import Agency, Region
from guanjia.core.scope import scope_q
from guanjia.web.forms import AgencyChoiceField, RegionChoiceField
from guanjia.web.helpers import call_service, paginate, requires

from . import experts as svc
from .models import PRE_PUBLICATION, Expert, ReviewAssignment, Standard


def _experts(user, action="view"):
    return Expert.objects.restrict(user, action).select_related("agency", "region")


def _agencies(user, permission: str):
    q = scope_q(Agency, user, "view", wanted=permission)
    return Agency.objects.all() if q is None else Agency.objects.filter(q)


def _regions():
    return Region.objects.filter(depth__lte=3).order_by("path")


def _drafts(user):
    """The drafts the user may assign reviewers to."""
    return (
        Standard.objects.restrict(user, "change")
        .filter(stage__in=PRE_PUBLICATION)
        .select_related("agency")
        .order_by("-updated_at", "pk")
    )


class ExpertFilterForm(forms.Form):
    q = forms.CharField(label=_l("姓名"), required=False)
    field = forms.CharField(label=_l("专业领域"), required=False)
    region = RegionChoiceField(
        label=_l("地区"),
        required=False,
        queryset=Region.objects.filter(depth__lte=2),
        to_field_name="code",
        empty_label=_l("全部"),
    )
    agency = AgencyChoiceField(
        label=_l("所在单位"), required=False, queryset=Agency.objects.none(), empty_label=_l("全部")
    )

    def __init__(self, *args, agencies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies


class ExpertForm(forms.Form):
    name = forms.CharField(label=_l("姓名"), max_length=64)
    field = forms.CharField(label=_l("专业领域"), max_length=128, required=False)
    title = forms.CharField(label=_l("职称"), max_length=64, required=False)
    agency = AgencyChoiceField(label=_l("所在单位"), queryset=Agency.objects.none())
    region = RegionChoiceField(
        label=_l("地区"), required=False, queryset=Region.objects.none(), empty_label="—"
    )

    def __init__(self, *args, agencies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies
        self.fields["region"].queryset = _regions()


@requires("standards.view")
def expert_list(request):
    user = request.user
    experts = _experts(user)
    owners = Agency.objects.filter(pk__in=experts.order_by().values("agency_id")).order_by("path")
    form = ExpertFilterForm(request.GET or None, agencies=owners)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            experts = experts.filter(name__contains=data["q"].strip())
        if data["field"]:
            experts = experts.filter(field__contains=data["field"].strip())
        if data["region"]:
            experts = experts.filter(region__path__startswith=data["region"].path)
        if data["agency"]:
            experts = experts.filter(agency__path__startswith=data["agency"].path)
    elif form.is_bound:
        experts = experts.none()
    assignments = (
        ReviewAssignment.objects.restrict(user)
        .select_related("standard", "expert__agency")
        .order_by("-assigned_at", "-pk")[:20]
    )
    return render(
        request,
        "standards/expert_list.html",
        {
            "form": form,
            "page": paginate(request, experts, 30),
            "assignments": assignments,
            "can_add": user.can("standards.add"),
        },
    )


@requires("standards.view")
def expert_detail(request, pk: int):
    user = request.user
    expert = get_object_or_404(_experts(user), pk=pk)
    can_assign = user.can("standards.change")
    return render(
        request,
        "standards/expert_detail.html",
        {
            "expert": expert,
            "reviews": ReviewAssignment.objects.restrict(user)
            .filter(expert=expert)
            .select_related("standard__agency", "assigned_by"),
            "can_edit": can_assign and _experts(user, "change").filter(pk=pk).exists(),
            "drafts": list(_drafts(user)) if can_assign else [],
        },
    )


@requires("standards.add")
def expert_add(request):
    user = request.user
    initial = {"agency": user.agency} if user.agency_id else {}
    form = ExpertForm(
        request.POST or None, agencies=_agencies(user, "standards.add"), initial=initial
    )
    if request.method == "POST" and form.is_valid():
        expert = call_service(form, svc.create_expert, user, **form.cleaned_data)
        if expert is not None:
            messages.success(request, _("已添加专家 %(name)s") % {"name": expert.name})
            return redirect("expert_detail", pk=expert.pk)
    return render(request, "standards/expert_form.html", {"form": form, "expert": None})


@requires("standards.change")
def expert_edit(request, pk: int):
    user = request.user
    expert = get_object_or_404(_experts(user, "change"), pk=pk)
    initial = {name: getattr(expert, name) for name in svc.EXPERT_FIELDS}
    form = ExpertForm(
        request.POST or None, agencies=_agencies(user, "standards.change"), initial=initial
    )
    if request.method == "POST" and form.is_valid():
        if call_service(form, svc.update_expert, user, expert, **form.cleaned_data):
            messages.success(request, _("已保存"))
            return redirect("expert_detail", pk=expert.pk)
    return render(request, "standards/expert_form.html", {"form": form, "expert": expert})


@require_POST
@requires("standards.change")
def expert_assign(request, pk: int):
    """Assign the expert `pk` to review the draft given in the form."""
    user = request.user
    expert = get_object_or_404(_experts(user), pk=pk)
    raw = request.POST.get("draft", "")
    draft = _drafts(user).filter(pk=int(raw)).first() if raw.isdigit() else None
    if draft is None:
        messages.error(request, _("请选择本单位有权修改的草案"))
        return redirect("expert_detail", pk=pk)
    try:
        svc.assign_reviewer(user, draft, expert)
        messages.success(
            request,
            _("已指派 %(expert)s 审查《%(draft)s》")
            % {"expert": expert.name, "draft": draft.title},
        )
    except (ValidationError, PermissionDenied) as exc:
        text = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        messages.error(request, _("不能指派：%(reason)s") % {"reason": text})
    return redirect("expert_detail", pk=pk)


urlpatterns = [
    path("experts/", expert_list, name="expert_list"),
    path("experts/new/", expert_add, name="expert_add"),
    path("experts/<int:pk>/", expert_detail, name="expert_detail"),
    path("experts/<int:pk>/edit/", expert_edit, name="expert_edit"),
    path("experts/<int:pk>/assign/", expert_assign, name="expert_assign"),
]
