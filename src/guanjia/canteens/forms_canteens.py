"""Forms of the canteen, diner and forecast pages. They validate and render; the views hand
the cleaned data to the services, which check permission and scope."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanjia.core.models import Agency
from guanjia.core.scope import scope_q
from guanjia.web.forms import AgencyChoiceField, DateInput

from .models import AttendanceEvent, Canteen, Meal

DATE = DateInput()


class CanteenForm(forms.ModelForm):
    agency = AgencyChoiceField(label=_("所属单位"), queryset=Agency.objects.none())

    class Meta:
        model = Canteen
        fields = [
            "agency", "name", "code", "address", "capacity", "staff_served", "meals", "mode",
            "operator", "rule_meat", "rule_veg", "rule_staple", "rule_soup", "rule_fruit",
            "no_repeat_days", "safety_margin_pct", "waste_target_g", "is_active",
        ]  # fmt: skip

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The agencies whose canteens the user may change (a canteen manager holds
        # canteens.* and only org.view, so Agency's own "change" scope would be empty).
        q = scope_q(Agency, user, "view", wanted="canteens.change")
        self.fields["agency"].queryset = (
            Agency.objects.all() if q is None else Agency.objects.filter(q)
        )


class DinersForm(forms.Form):
    date = forms.DateField(label=_("日期"), widget=DATE)
    meal = forms.ChoiceField(label=_("餐次"), choices=Meal.choices, initial=Meal.LUNCH)
    diners = forms.IntegerField(label=_("就餐人数"), min_value=0)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("date", timezone.localdate())
        super().__init__(*args, **kwargs)


class EventForm(forms.ModelForm):
    class Meta:
        model = AttendanceEvent
        fields = ["date", "meal", "kind", "change", "title"]
        widgets = {"date": DATE}


class UploadForm(forms.Form):
    file = forms.FileField(label=_("文件（.xlsx 或 .csv）"))


class RangeForm(forms.Form):
    start = forms.DateField(label=_("起始日期"), widget=DATE, required=False)
    end = forms.DateField(label=_("截止日期（不含）"), widget=DATE, required=False)
    meal = forms.ChoiceField(
        label=_("餐次"), choices=[("", _("全部")), *Meal.choices], required=False
    )
