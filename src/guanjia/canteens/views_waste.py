"""Pages of waste measurement: the day's entry (several streams at once, and a clean-plate
observation), the weighing list with filters, import and Excel export, the observations,
and a canteen's dashboard (charts, each with its table and Excel export). Every query
starts from `restrict(request.user)`; writes go through `waste`."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _

from guanjia.core.indicator_registry import Period
from guanjia.web.helpers import add_service_error, paginate, requires

from . import waste, waste_io
from .forms_waste import DashboardForm, ImportForm, PlateForm, TodayForm, WasteFilterForm
from .models import Canteen, Meal, PlateObservation, WasteRecord, WasteStream


def _canteens(user, action: str = "view"):
    return Canteen.objects.restrict(user, action).filter(is_active=True).order_by("name")


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=waste_io.XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def clean_definition() -> str:
    """What counts as a clean tray — PlateObservation's definition, in the UI's words
    (shown wherever observations are entered or listed)."""
    return _(
        "餐盘中没有可以食用的剩余食物即为光盘：骨头、虾蟹壳、果核、果皮和汤汁不算剩余；"
        "剩下一粒米饭或一片菜叶即不算光盘。光盘率（DB50/T 9001—2022 3.1）= 光盘数 ÷ 观察餐盘数。"
    )


# -- entry ----------------------------------------------------------------------------------


@requires("canteens.view")
def waste_today(request):
    user = request.user
    canteens = _canteens(user, "add")
    which = request.POST.get("form") if request.method == "POST" else None
    weigh = TodayForm(request.POST if which == "weigh" else None, canteens=canteens)
    plate = PlateForm(request.POST if which == "plate" else None, canteens=canteens)
    if which and not user.can("canteens.add"):
        raise PermissionDenied(_("没有权限：canteens.add"))
    if which == "weigh" and weigh.is_valid():
        d = weigh.cleaned_data
        try:
            rows = waste.record_weighings(
                user, d["canteen"], date=d["date"], meal=d["meal"], entries=weigh.entries()
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_error(weigh, exc)
        else:
            messages.success(request, _("已记录 %(n)d 条称重") % {"n": len(rows)})
            return redirect("canteen_waste_today")
    if which == "plate" and plate.is_valid():
        try:
            waste.record_plate_observation(user, **plate.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            add_service_error(plate, exc)
        else:
            messages.success(request, _("已记录光盘观察"))
            return redirect("canteen_waste_today")
    today = waste.today()
    recent = WasteRecord.objects.restrict(user).filter(date=today).select_related("canteen")
    return render(
        request,
        "canteens/waste_today.html",
        {
            "weigh": weigh,
            "plate": plate,
            "definition": clean_definition(),
            "recent": recent.order_by("canteen__name", "meal", "stream"),
            "today": today,
        },
    )


# -- lists, import and export ---------------------------------------------------------------


def _filtered(request):
    form = WasteFilterForm(request.GET or None, canteens=_canteens(request.user))
    qs = WasteRecord.objects.restrict(request.user).select_related("canteen")
    return form, waste.filter_records(qs, **form.filters()).order_by("-date", "meal", "pk")


@requires("canteens.view")
def waste_list(request):
    user = request.user
    upload = ImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST":
        if not user.can("canteens.add"):
            raise PermissionDenied(_("没有权限：canteens.add"))
        if upload.is_valid():
            f = upload.cleaned_data["file"]
            result = waste_io.import_weighings(user, f.name, f.read())
            if not result["errors"]:
                messages.success(request, _("已导入 %(n)d 条称重记录") % {"n": result["imported"]})
                return redirect("canteen_waste_list")
    form, qs = _filtered(request)
    return render(
        request,
        "canteens/waste_list.html",
        {
            "form": form,
            "upload": upload,
            "result": result,
            "page": paginate(request, qs),
            "query": request.GET.urlencode(),
            "can_add": user.can("canteens.add"),
            "headers": list(waste_io.COLUMNS.values()),
        },
    )


@requires("canteens.view")
def waste_export(request):
    _form, qs = _filtered(request)
    return _xlsx(waste_io.export_weighings(qs), "waste-records.xlsx")


@requires("canteens.view")
def plate_list(request):
    qs = PlateObservation.objects.restrict(request.user).select_related("canteen")
    canteen = request.GET.get("canteen")
    if canteen and canteen.isdigit():
        qs = qs.filter(canteen_id=int(canteen))
    return render(
        request,
        "canteens/waste_plates.html",
        {
            "page": paginate(request, qs.order_by("-date", "meal", "pk")),
            "canteens": _canteens(request.user),
            "canteen": canteen or "",
            "definition": clean_definition(),
        },
    )


# -- dashboard ------------------------------------------------------------------------------


def _dashboard_data(request, pk: int):
    canteen = get_object_or_404(Canteen.objects.restrict(request.user), pk=pk)
    form = DashboardForm(request.GET or None, initial=DashboardForm.default())
    if form.is_bound and form.is_valid():
        period, by = form.cleaned_data["period"], form.cleaned_data["by"]
    else:
        d = DashboardForm.default()
        period, by = Period.parse(d["period"]), d["by"]
    return form, waste.dashboard(request.user, canteen, period, by)


STREAM_LABELS = dict(WasteStream.choices)
MEAL_LABELS = dict(Meal.choices)


def dashboard_tables(data: dict) -> dict[str, tuple[str, list[str], list[list]]]:
    """Each chart's table: (title, headers, rows) — the page shows them, the export saves
    them."""
    target = data["target_g"]
    trend = [
        [str(r["bucket"]), r["kg"], r["diners"], r["g_per_diner"], target] for r in data["trend"]
    ]
    streams = [
        [str(r["bucket"]), str(STREAM_LABELS[r["stream"]]),
         _("可食") if r["edible"] else _("不可食"), r["kg"]]
        for r in data["streams"]
    ]  # fmt: skip
    items = [[r["item"], r["kg"], r["count"]] for r in data["top_items"]]
    forecast = [
        [str(r["date"]), str(MEAL_LABELS.get(r["meal"], r["meal"])), r["p10"], r["p50"], r["p90"],
         r["actual"], r["error_pct"], r["tags"]]
        for r in data["forecast"]
    ]  # fmt: skip
    indicators = [
        [r["label"], r["unit"], r["value"], r["last_year_period"], r["last_year"],
         r["change_pct"], {True: _("改善"), False: _("变差"), None: "—"}[r["improved"]]]
        for r in data["indicators"] or []
    ]  # fmt: skip
    return {
        "trend": (_("人均餐厨垃圾量趋势"),
                  [_("起始日"), _("垃圾量(千克)"), _("就餐人次"), _("克/人次"), _("目标(克/人次)")],
                  trend),
        "streams": (_("分类别重量"), [_("起始日"), _("类别"), _("可食"), _("重量(千克)")], streams),
        "items": (_("品名排行"), [_("品名"), _("重量(千克)"), _("记录数")], items),
        "forecast": (_("预测与实际就餐人数"),
                     [_("日期"), _("餐次"), "P10", _("预测(P50)"), "P90", _("实际"),
                      _("偏差(%)"), _("特殊日")], forecast),
        "indicators": (_("指标及同比"),
                       [_("指标"), _("单位"), data["period"].label, _("上年同期"), _("上年同期值"),
                        _("同比(%)"), _("变化")], indicators),
    }  # fmt: skip


def chart_data(data: dict) -> dict:
    """What the ECharts on the page draw (the same numbers as the tables)."""
    buckets = sorted({str(r["bucket"]) for r in data["streams"]})
    stacks = []
    for code, label in WasteStream.choices:
        for edible in (True, False):
            by_bucket = {
                str(r["bucket"]): r["kg"]
                for r in data["streams"]
                if r["stream"] == code and r["edible"] == edible
            }
            if by_bucket:
                stacks.append(
                    {"name": f"{label}·{_('可食') if edible else _('不可食')}",
                     "stack": "edible" if edible else "inedible",
                     "data": [by_bucket.get(b, 0) for b in buckets]}
                )  # fmt: skip
    return {
        "names": {
            "g": _("克/人次"),
            "kg": _("千克"),
            "diners": _("人次"),
            "target": _("目标"),
            "band": _("目标范围"),
            "p50": _("预测(P50)"),
            "actual": _("实际"),
        },
        "target": data["target_g"],
        "trend": {
            "labels": [str(r["bucket"]) for r in data["trend"]],
            "values": [r["g_per_diner"] for r in data["trend"]],
        },
        "streams": {"labels": buckets, "series": stacks},
        "items": {
            "labels": [r["item"] for r in data["top_items"]][::-1],
            "values": [r["kg"] for r in data["top_items"]][::-1],
        },
        "forecast": {
            "labels": [f"{r['date']} {MEAL_LABELS.get(r['meal'], '')}" for r in data["forecast"]],
            "p50": [r["p50"] for r in data["forecast"]],
            "actual": [r["actual"] for r in data["forecast"]],
        },
    }


@requires("canteens.view")
def waste_dashboards(request):
    """The canteens in scope, each linking to its dashboard."""
    canteens = Canteen.objects.restrict(request.user).select_related("agency").order_by("name")
    if canteens.count() == 1:
        return redirect("canteen_waste_dashboard", pk=canteens.get().pk)
    return render(request, "canteens/waste_dashboards.html", {"canteens": canteens})


@requires("canteens.view")
def waste_dashboard(request, pk: int):
    form, data = _dashboard_data(request, pk)
    return render(
        request,
        "canteens/waste_dashboard.html",
        {
            "form": form,
            "data": data,
            "canteen": data["canteen"],
            "tables": dashboard_tables(data),
            "chart": chart_data(data),
            "query": request.GET.urlencode(),
        },
    )


@requires("canteens.view")
def waste_dashboard_export(request, pk: int):
    _form, data = _dashboard_data(request, pk)
    tables = dashboard_tables(data)
    chart = request.GET.get("chart")
    sheets = [tables[chart]] if chart in tables else list(tables.values())
    name = f"waste-{data['canteen'].code}-{data['period'].label}"
    name += f"-{chart}" if chart in tables else ""
    return _xlsx(waste_io.workbook(sheets), f"{name}.xlsx")


urlpatterns = [
    path("waste/", waste_list, name="canteen_waste_list"),
    path("waste/today/", waste_today, name="canteen_waste_today"),
    path("waste/export.xlsx", waste_export, name="canteen_waste_export"),
    path("waste/plates/", plate_list, name="canteen_plate_list"),
    path("waste/dashboard/", waste_dashboards, name="canteen_waste_dashboards"),
    path("<int:pk>/waste/", waste_dashboard, name="canteen_waste_dashboard"),
    path(
        "<int:pk>/waste/export.xlsx", waste_dashboard_export, name="canteen_waste_dashboard_export"
    ),
]
