"""Forms of the dispatch pages: the request form and the list's filters. The rules (times,
coordinates, who may file for which agency) are the services'; these forms only parse."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from guanjia.web.forms import DateInput

from .models import TripRequest

LOCAL = "%Y-%m-%dT%H:%M"


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format=LOCAL, **kwargs)


class TripForm(forms.Form):
    purpose = forms.CharField(label=_("用车事由"), max_length=255)
    passengers = forms.IntegerField(label=_("乘车人数"), min_value=1, max_value=60, initial=1)
    passenger_names = forms.CharField(
        label=_("乘车人"), max_length=255, required=False, help_text=_("多人以顿号分隔，可不填")
    )
    origin = forms.CharField(label=_("出发地"), max_length=128)
    destination = forms.CharField(label=_("目的地"), max_length=128)
    start_at = forms.DateTimeField(
        label=_("用车开始"), input_formats=[LOCAL, "%Y-%m-%d %H:%M"], widget=LocalDateTimeInput()
    )
    end_at = forms.DateTimeField(
        label=_("用车结束"), input_formats=[LOCAL, "%Y-%m-%d %H:%M"], widget=LocalDateTimeInput()
    )
    origin_lat = forms.FloatField(label=_("出发地纬度"), required=False)
    origin_lon = forms.FloatField(label=_("出发地经度"), required=False)
    destination_lat = forms.FloatField(label=_("目的地纬度"), required=False)
    destination_lon = forms.FloatField(
        label=_("目的地经度"),
        required=False,
        help_text=_("经纬度（WGS-84）可不填；填写后拼车建议按距离判断路线是否相近"),
    )


class TripFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部")), *TripRequest.Status.choices]
    )
    date_from = forms.DateField(label=_("用车日期自"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("至"), required=False, widget=DateInput())
    q = forms.CharField(label=_("单号或事由"), required=False)
