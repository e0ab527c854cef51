"""Pages of the web UI. Every query starts from `Model.objects.restrict(request.user, …)`;
detail pages look objects up in that restricted queryset (so other agencies' objects are
404); every write goes through guanjia.core.services, which audits and re-checks scope."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.db.models import Count, F, Func, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Substr
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

from guanjia.core import services
from guanjia.core.indicator_registry import IndicatorScope, Period, all_indicators
from guanjia.core.models import (
    Agency,
    CollaborationGroup,
    LoginLog,
    ObjectChange,
    OperationLog,
    Region,
    Role,
    User,
)

from . import forms
from .helpers import call_service, is_htmx, paginate, requires

log = logging.getLogger(__name__)


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


# -- scope-aware queries ------------------------------------------------------------------


def visible_agencies(user):
    return Agency.objects.restrict(user, "view")


def with_child_counts(qs, visible):
    """Annotate `visible_children`: children of each agency that the user may see."""
    children = (
        visible.filter(path__startswith=OuterRef("path"), depth=OuterRef("depth") + 1)
        .order_by()
        .annotate(n=Func(F("pk"), function="COUNT"))
        .values("n")
    )
    return qs.select_related("region").annotate(visible_children=Subquery(children))


def visible_roots(user):
    """Visible agencies whose parent is not visible (or who have none): the tree's roots.
    A user scoped to "own agency" sees their agency as a root though it has a parent."""
    visible = visible_agencies(user)
    return visible.with_parent("pk", "visible_parent", among=visible).filter(
        visible_parent__isnull=True
    )


def with_visible_roles(users, viewer):
    """Prefetch each user's roles as far as `viewer` may see them: a page lists no names
    of roles (other agencies' roles) that the viewer cannot see."""
    return users.prefetch_related(Prefetch("roles", queryset=Role.objects.restrict(viewer)))


# -- home ---------------------------------------------------------------------------------


def agencies_per_province(agencies) -> list[dict]:
    rows = (
        agencies.order_by()
        .annotate(province=Substr("region__path", 1, Region.steplen))
        .values("province")
        .annotate(n=Count("pk"))
        .order_by("province")
    )
    names = dict(Region.objects.filter(depth=1).values_list("path", "name"))
    return [{"name": names.get(r["province"], r["province"]), "count": r["n"]} for r in rows]


@requires()
def home(request):
    from guanjia.evaluation.views_dashboards import role_home

    if (dashboard := role_home(request)) is not None:  # the home page of the user's role
        return dashboard
    user = request.user
    agencies = visible_agencies(user)
    week_ago = timezone.now() - timedelta(days=7)
    counts = [
        (_("单位"), agencies.count(), "agency_tree", "org.view"),
        (_("用户"), User.objects.restrict(user).count(), "user_list", "system.view"),
        (
            _("协作小组"),
            CollaborationGroup.objects.restrict(user).count(),
            "group_list",
            "org.view",
        ),
        (
            _("近7天变更"),
            ObjectChange.objects.restrict(user).filter(time__gte=week_ago).count(),
            "change_list",
            "audit.view",
        ),
    ]
    provinces = agencies_per_province(agencies)
    chart = {
        "title": _("各省（市）单位数"),
        "labels": [p["name"] for p in provinces],
        "values": [p["count"] for p in provinces],
        "series": _("单位数"),
    }
    cards = [
        {"label": label, "count": n, "url": url if user.can(perm) else None}
        for label, n, url, perm in counts
    ]
    return render(
        request, "web/home.html", {"cards": cards, "provinces": provinces, "chart": chart}
    )


# -- agencies -----------------------------------------------------------------------------


@requires("org.view")
def agency_tree(request):
    form = forms.SearchForm(request.GET)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    visible = visible_agencies(request.user)
    context = {"form": form, "query": query}
    if query:
        matches = visible.filter(
            Q(name__contains=query)
            | Q(short_name__contains=query)
            | Q(credit_code__istartswith=query)
        )
        context["matches"] = with_child_counts(matches, visible)[:100]
        context["match_count"] = matches.count()
        fragment = "web/org/_agency_search.html"
    else:
        context["nodes"] = with_child_counts(visible_roots(request.user), visible)
        fragment = "web/org/_agency_roots.html"
    context["can_add"] = request.user.can("org.add")
    template = fragment if is_htmx(request) else "web/org/agency_tree.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])  # one URL, a fragment or the whole page
    return response


@requires("org.view")
def agency_children(request, pk):
    visible = visible_agencies(request.user)
    node = get_object_or_404(visible, pk=pk)
    children = visible.filter(path__startswith=node.path, depth=node.depth + 1)
    return render(
        request, "web/org/_agency_nodes.html", {"nodes": with_child_counts(children, visible)}
    )


@requires("org.view")
def agency_detail(request, pk):
    user = request.user
    visible = visible_agencies(user)
    agency = get_object_or_404(visible.select_related("region"), pk=pk)
    ancestors = list(Agency.objects.get_ancestors(agency))
    seen = set(visible.filter(pk__in=[a.pk for a in ancestors]).values_list("pk", flat=True))
    groups = (
        CollaborationGroup.objects.restrict(user)
        .filter(Q(agency=agency) | Q(members=agency))
        .select_related("agency")
        .distinct()
    )
    context = {
        "agency": agency,
        "chain": [(a, a.pk in seen) for a in ancestors],
        "children": with_child_counts(
            visible.filter(path__startswith=agency.path, depth=agency.depth + 1), visible
        ),
        "groups": groups,
        "users": with_visible_roles(User.objects.restrict(user).filter(agency=agency), user)[:50],
        "changes": ObjectChange.objects.restrict(user)
        .filter(agency=agency)
        .select_related("content_type")[:10],
        "can_change": Agency.objects.restrict(user, "change").filter(pk=pk).exists(),
        "can_add": user.can("org.add"),
        "can_view_users": user.can("system.view"),
        "can_view_audit": user.can("audit.view"),
    }
    return render(request, "web/org/agency_detail.html", context)


@requires("org.add")
def agency_create(request):
    agencies = Agency.objects.restrict(request.user, "add")  # parents the user may add under
    initial = {}
    if parent_id := request.GET.get("parent"):
        initial["parent"] = get_object_or_404(agencies, pk=parent_id)
    form = forms.AgencyForm(request.POST or None, initial=initial, agencies=agencies)
    if request.method == "POST" and form.is_valid():
        agency = call_service(
            form,
            services.create_agency,
            request.user,
            parent=form.cleaned_data["parent"],
            **form.service_fields(),
        )
        if agency:
            messages.success(request, _("已新增单位：%s") % agency.name)
            return redirect("agency_detail", pk=agency.pk)
    return render(request, "web/org/agency_form.html", {"form": form, "agency": None})


@requires("org.change")
def agency_edit(request, pk):
    agency = get_object_or_404(Agency.objects.restrict(request.user, "change"), pk=pk)
    form = forms.AgencyForm(request.POST or None, instance=agency)
    if request.method == "POST" and form.is_valid():
        saved = call_service(
            form, services.update_agency, request.user, agency, **form.service_fields()
        )
        if saved:
            messages.success(request, _("已保存单位：%s") % saved.name)
            return redirect("agency_detail", pk=saved.pk)
    return render(request, "web/org/agency_form.html", {"form": form, "agency": agency})


# -- collaboration groups, regions --------------------------------------------------------


@requires("org.view")
def group_list(request):
    form = forms.SearchForm(request.GET)
    groups = (
        CollaborationGroup.objects.restrict(request.user)
        .select_related("agency")
        .annotate(member_count=Count("members"))
        .order_by("name")
    )
    if form.is_valid() and (q := form.cleaned_data["q"].strip()):
        groups = groups.filter(Q(name__contains=q) | Q(description__contains=q))
    return render(
        request, "web/org/group_list.html", {"form": form, "page": paginate(request, groups)}
    )


@requires("org.view")
def group_detail(request, pk):
    group = get_object_or_404(
        CollaborationGroup.objects.restrict(request.user).select_related("agency"), pk=pk
    )
    members = group.members.select_related("region").order_by("path")
    seen = set(
        visible_agencies(request.user)
        .filter(pk__in=[m.pk for m in members] + [group.agency_id])
        .values_list("pk", flat=True)
    )
    return render(
        request,
        "web/org/group_detail.html",
        {
            "group": group,
            "members": [(m, m.pk in seen) for m in members],
            "convener_visible": group.agency_id in seen,
        },
    )


@requires("org.view")
def region_list(request):
    form = forms.SearchForm(request.GET)
    regions = Region.objects.restrict(request.user)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    if query:
        regions = regions.filter(Q(name__contains=query) | Q(code__startswith=query))
    counts = dict(
        visible_agencies(request.user)
        .order_by()
        .values("region")
        .annotate(n=Count("pk"))
        .values_list("region", "n")
    )
    provinces: list[dict] = []
    for region in regions:
        region.agency_count = counts.get(region.pk, 0)
        key = region.path[: Region.steplen]
        if not provinces or provinces[-1]["path"] != key:
            provinces.append({"path": key, "rows": []})
        provinces[-1]["rows"].append(region)
    names = dict(Region.objects.filter(depth=1).values_list("path", "name"))
    for p in provinces:
        p["name"] = names.get(p["path"], "")
    return render(
        request,
        "web/org/region_list.html",
        {"form": form, "provinces": provinces, "query": query},
    )


# -- users and roles ----------------------------------------------------------------------


@requires("system.view")
def user_list(request):
    agencies = visible_agencies(request.user)
    form = forms.UserFilterForm(request.GET, agencies=agencies)
    users = with_visible_roles(
        User.objects.restrict(request.user).select_related("agency"), request.user
    )
    if form.is_valid():
        if q := form.cleaned_data["q"].strip():
            users = users.filter(
                Q(username__contains=q) | Q(real_name__contains=q) | Q(phone__contains=q)
            )
        if form.cleaned_data["agency"]:
            users = users.filter(agency=form.cleaned_data["agency"])
    editable = set(User.objects.restrict(request.user, "change").values_list("pk", flat=True))
    return render(
        request,
        "web/system/user_list.html",
        {
            "form": form,
            "page": paginate(request, users),
            "editable": editable,
            "can_add": request.user.can("system.add"),
        },
    )


def _user_form(request, instance=None):
    return forms.UserForm(
        request.POST or None,
        instance=instance,
        agencies=visible_agencies(request.user),
        roles=Role.objects.restrict(request.user),
    )


@requires("system.add")
def user_create(request):
    form = _user_form(request)
    if request.method == "POST" and form.is_valid():
        user = call_service(
            form,
            services.create_user,
            request.user,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["new_password"] or None,
            roles=list(form.cleaned_data["roles"]),
            **form.service_fields(),
        )
        if user:
            messages.success(request, _("已新增用户：%s") % user.username)
            return redirect("user_list")
    return render(request, "web/system/user_form.html", {"form": form, "target": None})


@requires("system.change")
def user_edit(request, pk):
    target = get_object_or_404(User.objects.restrict(request.user, "change"), pk=pk)
    form = _user_form(request, target)
    if request.method == "POST" and form.is_valid():
        chosen = set(form.cleaned_data["roles"])
        visible = set(form.fields["roles"].queryset)
        current = set(target.roles.all())
        # Roles the editor cannot see stay as they are; unchanged roles are not rewritten.
        roles = None if chosen == current & visible else list(chosen | (current - visible))
        saved = call_service(
            form,
            services.update_user,
            request.user,
            target,
            roles=roles,
            password=form.cleaned_data["new_password"] or None,
            **form.service_fields(),
        )
        if saved:
            messages.success(request, _("已保存用户：%s") % saved.username)
            return redirect("user_list")
    return render(request, "web/system/user_form.html", {"form": form, "target": target})


@requires("system.view")
def role_list(request):
    roles = (
        Role.objects.restrict(request.user)
        .select_related("agency")
        .annotate(user_count=Count("users"))
        .order_by("key")
    )
    editable = set(Role.objects.restrict(request.user, "change").values_list("pk", flat=True))
    return render(
        request,
        "web/system/role_list.html",
        {
            "page": paginate(request, roles),
            "editable": editable,
            "can_add": request.user.can("system.add"),
        },
    )


def _save_role(request, role):
    agencies = visible_agencies(request.user)
    form = forms.RoleForm(request.POST or None, instance=role, agencies=agencies)
    if request.method == "POST" and form.is_valid():
        custom = list(form.cleaned_data["custom_agencies"])
        if role is not None:  # agencies outside the editor's view are kept
            custom += list(role.custom_agencies.exclude(pk__in=agencies.values("pk")))
        saved = call_service(
            form,
            services.save_role,
            request.user,
            role,
            custom_agencies=custom,
            **form.service_fields(),
        )
        if saved:
            messages.success(request, _("已保存角色：%s") % saved.name)
            return redirect("role_list")
    return render(request, "web/system/role_form.html", {"form": form, "role": role})


@requires("system.add")
def role_create(request):
    return _save_role(request, None)


@requires("system.change")
def role_edit(request, pk):
    return _save_role(
        request, get_object_or_404(Role.objects.restrict(request.user, "change"), pk=pk)
    )


# -- audit --------------------------------------------------------------------------------


def _audit_list(request, model, form_class, template, related=()):
    form = form_class(request.GET)
    qs = form.filter(model.objects.restrict(request.user, "view").select_related(*related))
    page = paginate(request, qs)
    return render(request, template, {"form": form, "page": page})


@requires("audit.view")
def change_list(request):
    return _audit_list(
        request,
        ObjectChange,
        forms.ChangeFilterForm,
        "web/audit/change_list.html",
        related=("content_type", "agency"),
    )


@requires("audit.view")
def operation_list(request):
    return _audit_list(
        request,
        OperationLog,
        forms.OperationFilterForm,
        "web/audit/operation_list.html",
        related=("agency",),
    )


@requires("audit.view")
def login_list(request):
    return _audit_list(
        request, LoginLog, forms.LoginFilterForm, "web/audit/login_list.html", related=("agency",)
    )


# -- indicators ---------------------------------------------------------------------------


def _compute(ind, scope, period):
    try:
        return ind.compute(scope, period), None
    except Exception:  # one broken indicator must not take the page down
        log.exception("indicator %s failed", ind.key)
        return None, _("计算出错")


@requires()
def indicator_list(request):
    user = request.user
    agencies = visible_agencies(user)
    agency = user.agency
    if agency_id := request.GET.get("agency"):
        agency = get_object_or_404(agencies, pk=agency_id)
    today = timezone.localdate()
    period_text = request.GET.get("period") or f"{today.year}-{today.month:02d}"
    error = None
    try:
        period = Period.parse(period_text)
    except ValueError as exc:
        error, period = str(exc), Period.parse(f"{today.year}-{today.month:02d}")
    rows = []
    for ind in all_indicators():
        row = {"indicator": ind, "value": None, "error": None}
        if agency is not None:
            row["value"], row["error"] = _compute(ind, IndicatorScope(agency, True, user), period)
        rows.append(row)
    return render(
        request,
        "web/indicators.html",
        {
            "rows": rows,
            "agency": agency,
            "agencies": agencies.select_related("region"),
            "period": period,
            "period_text": period_text,
            "error": error,
        },
    )
