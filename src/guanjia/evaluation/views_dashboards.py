"""Dashboard pages: each role's home (/evaluation/dashboard/<kind>/, also rendered at "/"
for users whose roles call for one), the 大屏 (/evaluation/screen/, with a JSON feed it
refreshes from), and every dashboard's Excel export. The figures come from `dashboards`."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _

from guanjia.core.indicator_registry import Period
from guanjia.web.helpers import requires

from . import dashboards
from .dashboard_panels import workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SCREEN_REFRESH_S = 60


def _month(request) -> Period | None:
    """?period=2026-09 picks the compliance month (leaders, 大屏); else the last complete one."""
    try:
        return Period.parse(request.GET["period"]) if request.GET.get("period") else None
    except ValueError:
        return None


def _build(request, kind: str):
    if kind not in dashboards.BUILDERS:
        raise Http404
    perm = dashboards.PERMISSION_OF[kind]
    if not request.user.can(perm):
        raise PermissionDenied(_("没有权限访问此页面（需要 %(perm)s 权限）") % {"perm": perm})
    if kind == dashboards.LEADER:
        return dashboards.leader_dashboard(request.user, period=_month(request))
    return dashboards.BUILDERS[kind](request.user)


def _page(request, board, template="evaluation/dashboard.html", **extra):
    return render(
        request,
        template,
        {"board": board, "board_json": board.as_json(), **extra},
    )


def role_home(request):
    """The home page `request.user`'s roles call for, or None (the caller's own page)."""
    kind = dashboards.dashboard_for(request.user)
    if kind is None or not request.user.can(dashboards.PERMISSION_OF[kind]):
        return None
    return _page(request, dashboards.BUILDERS[kind](request.user))


@requires()
def dashboard_page(request, kind):
    return _page(request, _build(request, kind))


def _xlsx(board, name: str) -> HttpResponse:
    response = HttpResponse(workbook(board), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="dashboard-{name}.xlsx"'
    return response


@requires()
def dashboard_export(request, kind):
    return _xlsx(_build(request, kind), kind)


@requires("evaluation.view")
def screen(request):
    return _page(
        request,
        dashboards.screen_dashboard(request.user, period=_month(request)),
        "evaluation/dashboard_screen.html",
        refresh_s=SCREEN_REFRESH_S,
    )


@requires("evaluation.view")
def screen_data(request):
    return JsonResponse(dashboards.screen_dashboard(request.user, period=_month(request)).as_json())


@requires("evaluation.view")
def screen_export(request):
    return _xlsx(dashboards.screen_dashboard(request.user, period=_month(request)), "screen")


urlpatterns = [
    path("dashboard/<slug:kind>/", dashboard_page, name="dashboard"),
    path("dashboard/<slug:kind>/export/", dashboard_export, name="dashboard_export"),
    path("screen/", screen, name="dashboard_screen"),
    path("screen/data/", screen_data, name="dashboard_screen_data"),
    path("screen/export/", screen_export, name="dashboard_screen_export"),
]
