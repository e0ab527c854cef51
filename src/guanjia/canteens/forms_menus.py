"""Forms of the dish and week menu pages. They validate and render; the views hand the
cleaned data to `menus`, which checks permission and scope."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanjia.web.forms import DateInput

from .menus import week_monday
from .models import Canteen, Dish

DATE = DateInput()


class DishForm(forms.ModelForm):
    canteen = forms.ModelChoiceField(label=_("食堂"), queryset=Canteen.objects.none())
    recipe = forms.CharField(
        label=_("配方"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "placeholder": "猪肉,0.15,kg\n青椒,0.05"}),
        help_text=_("每行一种食材：名称,每份用量[,单位]；单位默认 kg，新食材自动登记"),
    )

    class Meta:
        model = Dish
        fields = ["canteen", "name", "category", "portion_g", "cost", "allergens", "is_active"]

    def __init__(self, *args, canteens, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["canteen"].queryset = canteens
        if self.instance.pk:
            self.fields["canteen"].disabled = True


class WeekForm(forms.Form):
    canteen = forms.ModelChoiceField(label=_("食堂"), queryset=Canteen.objects.none())
    week = forms.DateField(label=_("周（任一日期）"), widget=DATE)

    def __init__(self, *args, canteens, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["canteen"].queryset = canteens
        self.fields["canteen"].initial = canteens.first()
        self.fields["week"].initial = week_monday(timezone.localdate())


class SlotForm(forms.Form):
    dishes = forms.ModelMultipleChoiceField(
        label=_("菜品"),
        queryset=Dish.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, dishes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dishes"].queryset = dishes
