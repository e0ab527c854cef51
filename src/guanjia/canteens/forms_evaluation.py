"""Forms of the evaluation pages. They validate and render; the views hand the cleaned data
to `evaluation` (the services), which check permission, scope and the evaluation rules."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanjia.core.models import Region

from . import evaluation
from .models import Canteen, Evaluation, EvaluationItem

PERIOD_HELP = _("季度，如 2026Q3")


def current_quarter() -> str:
    today = timezone.localdate()
    return f"{today.year}Q{(today.month - 1) // 3 + 1}"


class PeriodField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("评估期"))
        kwargs.setdefault("help_text", PERIOD_HELP)
        super().__init__(max_length=8, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return value
        try:
            return evaluation.parse_quarter(value).label
        except forms.ValidationError as exc:  # the service's, keyed by field: flatten
            raise forms.ValidationError(exc.messages) from None


class FilterForm(forms.Form):
    period = PeriodField(required=False)
    kind = forms.ChoiceField(
        label=_("类型"), required=False, choices=[("", _("全部")), *Evaluation.Kind.choices]
    )
    grade = forms.ChoiceField(
        label=_("等级"),
        required=False,
        choices=[("", _("全部"))] + [(g, g) for g in evaluation.GRADES],
    )


class StartForm(forms.Form):
    canteen = forms.ModelChoiceField(label=_("食堂"), queryset=Canteen.objects.none())
    period = PeriodField()
    kind = forms.ChoiceField(label=_("类型"), choices=Evaluation.Kind.choices)

    def __init__(self, *args, canteens, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["canteen"].queryset = canteens
        self.fields["period"].initial = current_quarter()


class MarkForm(forms.Form):
    score = forms.DecimalField(label=_("得分"), min_value=0, decimal_places=1, max_digits=5)
    note = forms.CharField(label=_("评分说明"), required=False, max_length=255)
    evidence = forms.FileField(label=_("佐证材料"), required=False)


class SampleForm(forms.Form):
    region = forms.ModelChoiceField(
        label=_("地区"), queryset=Region.objects.all(), required=False, empty_label=_("全部")
    )
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    seed = forms.CharField(label=_("随机种子"), required=False, max_length=32,
                           help_text=_("留空时按地区与年度确定，同一输入抽取结果相同"))  # fmt: skip


class ItemForm(forms.ModelForm):
    """One row of the template editor; rows ticked "删除" are removed."""

    class Meta:
        model = EvaluationItem
        fields = ("code", "section", "title", "weight", "method", "indicator", "zero_at",
                  "full_at", "guidance", "order")  # fmt: skip
        widgets = {"title": forms.TextInput(attrs={"size": 40})}


ItemFormSet = forms.modelformset_factory(EvaluationItem, form=ItemForm, extra=2, can_delete=True)
