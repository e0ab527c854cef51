"""The forecast page of a canteen: forecast (with its P10–P90 band) against actual diners,
special days tagged, the deviation over the days shown, an Excel export, and a button that
forecasts the next 14 days now. Queries start from `restrict(request.user)`."""

import io
from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanjia.web.helpers import requires

from . import forecasts
from .forms_canteens import RangeForm
from .models import Canteen, Meal
from .views_canteens import visible_canteen

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _rows(request, canteen):
    form = RangeForm(request.GET or None)
    today = timezone.localdate()
    start, end, meal = today - timedelta(days=28), today + timedelta(days=14), ""
    if form.is_bound and form.is_valid():
        start = form.cleaned_data["start"] or start
        end = form.cleaned_data["end"] or end
        meal = form.cleaned_data["meal"]
    canteens = Canteen.objects.restrict(request.user).filter(pk=canteen.pk)
    return form, forecasts.forecast_vs_actual(canteens, start, end, meal or None), start, end


@requires("canteens.view")
def forecast_page(request, pk: int):
    canteen = visible_canteen(request, pk)
    form, rows, start, end = _rows(request, canteen)
    meals = dict(Meal.choices)
    chart = {
        "days": [
            r.date.isoformat() + ("" if len(canteen.meal_list) == 1 else meals[r.meal])
            for r in rows
        ],
        "forecast": [r.forecast for r in rows],
        "p10": [r.p10 for r in rows],
        "band": [None if r.p90 is None else r.p90 - r.p10 for r in rows],
        "actual": [r.actual for r in rows],
    }
    return render(
        request,
        "canteens/forecast.html",
        {
            "canteen": canteen,
            "form": form,
            "rows": rows,
            "chart": chart,
            "deviation": forecasts.deviation_rate(rows),
            "start": start,
            "end": end,
            "meals": meals,
            "can_change": request.user.can("canteens.change"),
        },
    )


@requires("canteens.view")
def forecast_export(request, pk: int):
    from openpyxl import Workbook

    canteen = visible_canteen(request, pk)
    _form, rows, start, end = _rows(request, canteen)
    book = Workbook()
    sheet = book.active
    sheet.title = "预测与实际"
    sheet.append(["日期", "餐次", "预测人数", "P10", "P90", "实际人数", "偏差率(%)", "特殊日"])
    meals = dict(Meal.choices)
    for r in rows:
        sheet.append(
            [
                r.date,
                str(meals[r.meal]),
                r.forecast,
                r.p10,
                r.p90,
                r.actual,
                r.deviation_pct,
                r.tags,
            ]
        )
    sheet.append([])
    sheet.append(["预估偏差率(%)", forecasts.deviation_rate(rows)])
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    name = f"forecast-{canteen.code}-{start}-{end}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_POST
@requires("canteens.change")
def forecast_refresh(request, pk: int):
    canteen = visible_canteen(request, pk, "change")
    try:
        n = forecasts.refresh(request.user, canteen, origin=timezone.localdate())
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return redirect("canteen_forecast", pk=pk)
    if n:
        messages.success(request, _("已生成未来 14 天预测（%(n)s 个餐次）") % {"n": n})
    else:
        messages.warning(request, _("历史就餐数据不足 4 周，暂不能预测"))
    return redirect("canteen_forecast", pk=pk)


urlpatterns = [
    path("<int:pk>/forecast/", forecast_page, name="canteen_forecast"),
    path("<int:pk>/forecast/export/", forecast_export, name="canteen_forecast_export"),
    path("<int:pk>/forecast/refresh/", forecast_refresh, name="canteen_forecast_refresh"),
]
