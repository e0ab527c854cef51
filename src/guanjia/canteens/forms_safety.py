"""Forms of the food safety pages; the views hand the cleaned data to `safety`."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .forms_waste import DATE, CanteenField
from .models import Canteen, DisinfectionLog, Meal, SafetyInspection


class CanteenForm(forms.Form):
    canteen = CanteenField(label=_("食堂"), queryset=Canteen.objects.none())

    def __init__(self, *args, canteens, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["canteen"].queryset = canteens
        if "date" in self.fields:
            self.fields["date"].initial = timezone.localdate()


class DisinfectionForm(CanteenForm):
    date = forms.DateField(label=_("日期"), widget=DATE)
    meal = forms.ChoiceField(label=_("餐次"), choices=Meal.choices, initial=Meal.LUNCH)
    items = forms.CharField(label=_("消毒物品"), max_length=128, initial="餐具")
    method = forms.ChoiceField(label=_("方式"), choices=DisinfectionLog.Method.choices)
    minutes = forms.IntegerField(label=_("时长（分钟）"), min_value=1)
    temperature_c = forms.IntegerField(
        label=_("温度（℃）"), min_value=0, max_value=300, required=False
    )
    operator = forms.CharField(label=_("操作人"), max_length=32)


class StaffForm(CanteenForm):
    name = forms.CharField(label=_("姓名"), max_length=32)
    post = forms.CharField(label=_("岗位"), max_length=32, required=False)
    health_cert_no = forms.CharField(label=_("健康证号"), max_length=64, required=False)
    health_cert_expiry = forms.DateField(label=_("健康证有效期至"), widget=DATE, required=False)


class CertRenewForm(forms.Form):
    health_cert_no = forms.CharField(label=_("新健康证号"), max_length=64, required=False)
    health_cert_expiry = forms.DateField(label=_("有效期至"), widget=DATE)


class SampleForm(CanteenForm):
    date = forms.DateField(label=_("日期"), widget=DATE)
    meal = forms.ChoiceField(label=_("餐次"), choices=Meal.choices, initial=Meal.LUNCH)
    dish_name = forms.CharField(label=_("菜品"), max_length=64)
    weight_g = forms.IntegerField(label=_("留样重量（克）"), min_value=0)
    kept_hours = forms.IntegerField(label=_("留样时长（小时）"), min_value=0, initial=48)
    keeper = forms.CharField(label=_("留样人"), max_length=32)


class InspectionForm(CanteenForm):
    date = forms.DateField(label=_("检查日期"), widget=DATE)
    kind = forms.ChoiceField(label=_("类型"), choices=SafetyInspection.Kind.choices)
    inspector = forms.CharField(label=_("检查人"), max_length=64)
    summary = forms.CharField(
        label=_("检查情况"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    findings = forms.CharField(
        label=_("发现的问题"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("每行一项：问题描述|整改期限，如：冷藏柜温度记录缺失|2026-03-09"),
    )

    def clean_findings(self):
        from datetime import date

        found = []
        for n, line in enumerate(self.cleaned_data["findings"].splitlines(), start=1):
            if not line.strip():
                continue
            text, _sep, deadline = line.rpartition("|")
            try:
                found.append(
                    {"description": text.strip(), "deadline": date.fromisoformat(deadline.strip())}
                )
            except ValueError:
                raise forms.ValidationError(
                    _("第%(n)d行应为“问题描述|整改期限（2026-03-09）”") % {"n": n}
                ) from None
            if not text.strip():
                raise forms.ValidationError(_("第%(n)d行缺少问题描述") % {"n": n})
        return found


class FindingForm(forms.Form):
    description = forms.CharField(label=_("问题"), max_length=255)
    deadline = forms.DateField(label=_("整改期限"), widget=DATE)


class RectifyForm(forms.Form):
    rectified_on = forms.DateField(label=_("整改完成日期"), widget=DATE)
    rectification = forms.CharField(label=_("整改情况"), max_length=255)
