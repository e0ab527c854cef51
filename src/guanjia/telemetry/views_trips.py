"""The trips page (/telemetry/trips/): trips segmented from positions, with the dispatch
order each was matched to; filtered by date, plate and whether matched."""

from __future__ import annotations

from django import forms
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext_lazy as _

from guanjia.web.forms import DateInput
from guanjia.web.helpers import paginate, requires

from .api_trips import TripFilter, filtered


class TripFilterForm(forms.Form):
    date = forms.DateField(label=_("日期"), required=False, widget=DateInput())
    plate = forms.CharField(label=_("车牌号"), required=False)
    matched = forms.ChoiceField(
        label=_("派车单"),
        required=False,
        choices=[("", _("全部")), ("yes", _("已匹配")), ("no", _("未匹配"))],
    )


@requires("telemetry.view")
def telemetry_trips(request):
    form = TripFilterForm(request.GET or None)
    f = TripFilter()
    plate = ""
    if form.is_bound and form.is_valid():
        d = form.cleaned_data
        f = TripFilter(date=d["date"], matched={"yes": True, "no": False}.get(d["matched"]))
        plate = d["plate"].strip().upper()
    qs = filtered(request.user, f)
    if plate:
        qs = qs.filter(vehicle__plate__contains=plate)
    return render(
        request, "telemetry/trip_list.html", {"page": paginate(request, qs), "form": form}
    )


urlpatterns = [path("trips/", telemetry_trips, name="telemetry_trips")]
