"""Forms of the waste pages. They validate and render; the views hand the cleaned data to
`waste`, which checks permission, scope and the rules."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanjia.core.indicator_registry import Period
from guanjia.web.forms import DateInput

from .models import Canteen, Meal, WasteStream

DATE = DateInput()
KG = {"min_value": 0, "max_digits": 9, "decimal_places": 3, "required": False}


class CanteenField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name}（{obj.code}）"


class TodayForm(forms.Form):
    """One meal's weighings: each stream's edible and inedible weight, plus an item name."""

    canteen = CanteenField(label=_("食堂"), queryset=Canteen.objects.none())
    date = forms.DateField(label=_("日期"), widget=DATE)
    meal = forms.ChoiceField(label=_("餐次"), choices=Meal.choices, initial=Meal.LUNCH)

    def __init__(self, *args, canteens, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["canteen"].queryset = canteens
        self.fields["date"].initial = timezone.localdate()
        for code, label in WasteStream.choices:
            self.fields[f"{code}_edible"] = forms.DecimalField(
                label=_("%s·可食（千克）") % label, **KG
            )
            self.fields[f"{code}_inedible"] = forms.DecimalField(
                label=_("%s·不可食（千克）") % label, **KG
            )
            self.fields[f"{code}_item"] = forms.CharField(
                label=_("%s·品名") % label, max_length=64, required=False
            )

    def stream_rows(self):
        """(label, edible field, inedible field, item field) per stream, for the table."""
        return [
            (label, self[f"{code}_edible"], self[f"{code}_inedible"], self[f"{code}_item"])
            for code, label in WasteStream.choices
        ]

    def entries(self) -> list[dict]:
        d, out = self.cleaned_data, []
        for code in WasteStream.values:
            for edible in (True, False):
                kg = d.get(f"{code}_{'edible' if edible else 'inedible'}")
                if kg:
                    out.append(
                        {"stream": code, "weight_kg": kg, "edible": edible,
                         "item": d.get(f"{code}_item", "")}
                    )  # fmt: skip
        return out


class PlateForm(forms.Form):
    canteen = CanteenField(label=_("食堂"), queryset=Canteen.objects.none())
    date = forms.DateField(label=_("日期"), widget=DATE)
    meal = forms.ChoiceField(label=_("餐次"), choices=Meal.choices, initial=Meal.LUNCH)
    trays_observed = forms.IntegerField(label=_("观察餐盘数"), min_value=1)
    clean_trays = forms.IntegerField(label=_("光盘数"), min_value=0)
    observer = forms.CharField(label=_("观察人"), max_length=32, required=False)

    def __init__(self, *args, canteens, **kwargs):
        super().__init__(*args, prefix="plate", **kwargs)
        self.fields["canteen"].queryset = canteens
        self.fields["date"].initial = timezone.localdate()


class WasteFilterForm(forms.Form):
    canteen = CanteenField(label=_("食堂"), queryset=Canteen.objects.none(), required=False)
    start = forms.DateField(label=_("起始日期"), widget=DATE, required=False)
    end = forms.DateField(label=_("截止日期（不含）"), widget=DATE, required=False)
    stream = forms.ChoiceField(
        label=_("类别"), choices=[("", _("全部")), *WasteStream.choices], required=False
    )
    meal = forms.ChoiceField(
        label=_("餐次"), choices=[("", _("全部")), *Meal.choices], required=False
    )
    edible = forms.ChoiceField(
        label=_("可食"),
        choices=[("", _("全部")), ("1", _("可食")), ("0", _("不可食"))],
        required=False,
    )

    def __init__(self, *args, canteens, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["canteen"].queryset = canteens

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        d = self.cleaned_data
        edible = {"1": True, "0": False}.get(d.get("edible") or "")
        return {
            "canteen": d.get("canteen"), "start": d.get("start"), "end": d.get("end"),
            "stream": d.get("stream") or None, "meal": d.get("meal") or None, "edible": edible,
        }  # fmt: skip


class ImportForm(forms.Form):
    file = forms.FileField(label=_("称重记录文件（.xlsx 或 .csv）"))


class DashboardForm(forms.Form):
    period = forms.CharField(
        label=_("统计期"), max_length=8, help_text=_("如 2026、2026Q3 或 2026-03")
    )
    by = forms.ChoiceField(
        label=_("趋势粒度"), choices=[("week", _("按周")), ("month", _("按月"))], initial="week"
    )

    def clean_period(self):
        try:
            return Period.parse(self.cleaned_data["period"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    @staticmethod
    def default() -> dict:
        return {"period": str(timezone.localdate().year), "by": "week"}
