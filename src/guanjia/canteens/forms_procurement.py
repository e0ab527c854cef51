"""Forms of the procurement and stock pages. They validate and render; the views hand the
cleaned data to `procurement` and `stock`, which check permission and scope."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanjia.core.models import Agency
from guanjia.web.forms import AgencyChoiceField, DateInput

from .models import Canteen, Ingredient, StockMovement, Supplier

DATE = DateInput()


class SupplierForm(forms.ModelForm):
    agency = AgencyChoiceField(label=_("单位"), queryset=Agency.objects.none())

    class Meta:
        model = Supplier
        fields = [
            "agency", "name", "uscc", "contact", "phone", "categories", "licence_no",
            "licence_expiry", "is_active",
        ]  # fmt: skip
        widgets = {"licence_expiry": DATE}

    def __init__(self, *args, agencies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies


class FromForecastForm(forms.Form):
    canteen = forms.ModelChoiceField(label=_("食堂"), queryset=Canteen.objects.none())
    start = forms.DateField(label=_("菜单起始日期"), widget=DATE)
    end = forms.DateField(label=_("截止日期（不含）"), widget=DATE)
    needed_on = forms.DateField(label=_("需用日期"), widget=DATE, required=False)

    def __init__(self, *args, canteens, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["canteen"].queryset = canteens
        today = timezone.localdate()
        monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=7)
        self.fields["start"].initial = monday
        self.fields["end"].initial = monday + dt.timedelta(days=7)


class QuotationForm(forms.Form):
    """A supplier's quotation: one pack size and pack price per purchase line."""

    supplier = forms.ModelChoiceField(label=_("供应商"), queryset=Supplier.objects.none())
    received_on = forms.DateField(label=_("报价日期"), widget=DATE)
    valid_until = forms.DateField(label=_("有效期至"), widget=DATE)
    lead_time_days = forms.IntegerField(label=_("供货周期（天）"), min_value=0, initial=1)

    def __init__(self, *args, suppliers, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["supplier"].queryset = suppliers
        self.fields["received_on"].initial = timezone.localdate()
        self.lines = list(lines)
        for line in self.lines:
            unit = line.ingredient.unit
            self.fields[f"size_{line.pk}"] = forms.DecimalField(
                label=_("%(i)s 每包装数量（%(u)s）") % {"i": line.ingredient.name, "u": unit},
                min_value=0.001, decimal_places=3, initial=1,
            )  # fmt: skip
            self.fields[f"price_{line.pk}"] = forms.DecimalField(
                label=_("%(i)s 每包装价格（元）") % {"i": line.ingredient.name},
                min_value=0, decimal_places=2,
            )  # fmt: skip

    def prices(self) -> dict:
        d = self.cleaned_data
        return {ln.pk: (d[f"size_{ln.pk}"], d[f"price_{ln.pk}"]) for ln in self.lines}


class AwardForm(forms.Form):
    quotation = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("选择理由"), required=False, max_length=255)


class ReceiveForm(forms.Form):
    date = forms.DateField(label=_("入库日期"), widget=DATE)


class MovementForm(forms.Form):
    canteen = forms.ModelChoiceField(label=_("食堂"), queryset=Canteen.objects.none())
    ingredient = forms.ModelChoiceField(label=_("食材"), queryset=Ingredient.objects.none())
    kind = forms.ChoiceField(label=_("类型"), choices=StockMovement.Kind.choices)
    quantity = forms.DecimalField(label=_("数量"), min_value=0.001, decimal_places=3)
    date = forms.DateField(label=_("日期"), widget=DATE)
    unit_cost = forms.DecimalField(
        label=_("单价（元）"), min_value=0, decimal_places=2, required=False,
        help_text=_("入库必填；出库、报损按移动加权平均成本"),
    )  # fmt: skip
    note = forms.CharField(label=_("说明"), required=False, max_length=128)

    def __init__(self, *args, canteens, ingredients, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["canteen"].queryset = canteens
        self.fields["ingredient"].queryset = ingredients
        self.fields["date"].initial = timezone.localdate()


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("起始日期"), widget=DATE)
    end = forms.DateField(label=_("截止日期（不含）"), widget=DATE)

    @staticmethod
    def default() -> dict:
        today = timezone.localdate()
        first = today.replace(day=1)
        return {"start": (first - dt.timedelta(days=1)).replace(day=1), "end": first}

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            raise forms.ValidationError(_("截止日期应晚于起始日期"))
        return data
