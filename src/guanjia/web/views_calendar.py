"""The working calendar page: the table of declared workdays and days off that goes before
chinese-calendar, per year, with which years the package covers (the rest fall back to the
fixed-date holidays and Monday–Friday until the State Council's notice is keyed in)."""

from datetime import date

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from guanjia.core import services
from guanjia.core.calendar import covered_by_package
from guanjia.core.models import CalendarDay

from .forms import DateInput
from .helpers import add_service_error, requires


class CalendarDayForm(forms.Form):
    date = forms.DateField(label=_lazy("日期"), widget=DateInput())
    is_workday = forms.TypedChoiceField(
        label=_lazy("安排"),
        choices=[("0", _lazy("放假")), ("1", _lazy("上班（调休）"))],
        coerce=lambda v: v == "1",
    )
    name = forms.CharField(label=_lazy("名称"), max_length=64, required=False)
    source = forms.CharField(label=_lazy("依据"), max_length=255, required=False)


@requires("system.view")
def calendar_days(request):
    today = timezone.localdate()
    text = request.GET.get("year", "")
    year = int(text) if text.isdigit() and 2000 <= int(text) <= 2100 else today.year
    form = CalendarDayForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.save_calendar_day(request.user, **form.cleaned_data)
            messages.success(request, _("已保存 %(d)s") % {"d": entry.date})
            return redirect(f"{request.path}?year={entry.date.year}")
        except (ValidationError, PermissionDenied) as exc:
            add_service_error(form, exc)
    years = [
        {"year": y, "covered": covered_by_package(date(y, 6, 1))}
        for y in range(today.year - 1, today.year + 3)
    ]
    entries = CalendarDay.objects.restrict(request.user).filter(date__year=year)
    return render(
        request,
        "web/system/calendar.html",
        {
            "year": year,
            "years": years,
            "entries": entries,
            "form": form,
            "can_change": request.user.can("system.change"),
        },
    )


@require_POST
@requires("system.delete")
def calendar_day_delete(request, pk: int):
    entry = get_object_or_404(CalendarDay.objects.restrict(request.user, "delete"), pk=pk)
    services.delete_calendar_day(request.user, entry)
    messages.success(request, _("已删除 %(d)s") % {"d": entry.date})
    return redirect(f"/system/calendar/?year={entry.date.year}")
