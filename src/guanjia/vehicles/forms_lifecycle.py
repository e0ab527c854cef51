"""Forms of the lifecycle and case pages. They validate and render; the views hand the
cleaned data to the services (`lifecycle`, `cases`), which check permission and scope."""

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanjia.core.models import Agency
from guanjia.web.forms import AgencyChoiceField, DateInput

from .models import Disposal, Inspection, Maintenance, MisuseCase, RepairShop

DATE = DateInput()


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("起始日期"), widget=DATE)
    end = forms.DateField(label=_("截止日期（不含）"), widget=DATE)

    @staticmethod
    def default() -> dict:
        today = timezone.localdate()
        return {"start": dt.date(today.year, 1, 1), "end": dt.date(today.year + 1, 1, 1)}

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            raise forms.ValidationError(_("截止日期应晚于起始日期"))
        return data


class InspectionForm(forms.Form):
    plate = forms.CharField(label=_("车牌号"), max_length=12)
    kind = forms.ChoiceField(label=_("类型"), choices=Inspection.Kind.choices)
    valid_from = forms.DateField(label=_("起始日期"), widget=DATE)
    valid_until = forms.DateField(label=_("有效期至"), widget=DATE)
    provider = forms.CharField(label=_("机构"), required=False, max_length=128)
    reference = forms.CharField(label=_("单号"), required=False, max_length=64)
    cost = forms.DecimalField(label=_("费用（元）"), min_value=0, initial=0, decimal_places=2)


class MaintenanceForm(forms.Form):
    agency = AgencyChoiceField(label=_("单位"), queryset=Agency.objects.none())
    plate = forms.CharField(label=_("结算车牌"), max_length=12)
    shop = forms.ModelChoiceField(label=_("定点维修单位"), queryset=RepairShop.objects.none())
    kind = forms.ChoiceField(label=_("类型"), choices=Maintenance.Kind.choices)
    date = forms.DateField(label=_("日期"), widget=DATE)
    amount = forms.DecimalField(label=_("金额（元）"), min_value=0, decimal_places=2)
    odometer_km = forms.DecimalField(label=_("里程"), required=False, min_value=0)
    items = forms.CharField(
        label=_("项目"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, agencies, shops, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies
        self.fields["shop"].queryset = shops


class DecisionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("approve", _("批准")), ("reject", _("驳回")), ("complete", _("完成"))]
    )
    note = forms.CharField(label=_("意见"), required=False, max_length=255)
    amount = forms.DecimalField(label=_("结算金额"), required=False, min_value=0)


class ShopForm(forms.ModelForm):
    agency = AgencyChoiceField(label=_("单位"), queryset=Agency.objects.none())

    class Meta:
        model = RepairShop
        fields = ["agency", "name", "address", "contract_until", "is_designated"]
        widgets = {"contract_until": DATE}

    def __init__(self, *args, agencies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("加油明细"),
        help_text=_(
            "Excel（.xlsx）或 CSV；表头：加油时间、卡号、车牌号、加油量(升)、金额(元)、"
            "里程(公里)、加油站。任一行有误则整份不导入。"
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )


class CardForm(forms.Form):
    agency = AgencyChoiceField(label=_("单位"), queryset=Agency.objects.none())
    number = forms.CharField(label=_("卡号"), max_length=32)
    plate = forms.CharField(label=_("绑定车牌"), required=False, max_length=12)

    def __init__(self, *args, agencies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies


class BindForm(forms.Form):
    plate = forms.CharField(label=_("车牌号"), required=False, max_length=12)


class DisposeForm(forms.Form):
    disposed_on = forms.DateField(label=_("处置日期"), widget=DATE)
    method = forms.ChoiceField(label=_("处置方式"), choices=Disposal.Method.choices)
    proceeds = forms.DecimalField(label=_("处置收入（元）"), min_value=0, initial=0)
    reason = forms.CharField(label=_("处置理由"), max_length=255)
    early = forms.BooleanField(label=_("提前处置（未达到处置条件）"), required=False)


class CaseFilterForm(forms.Form):
    rule = forms.ChoiceField(label=_("规则"), required=False)
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部")), *MisuseCase.Status.choices]
    )
    plate = forms.CharField(label=_("车牌号"), required=False)
    overdue = forms.BooleanField(label=_("只看超时未处理"), required=False)

    def __init__(self, *args, rules, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rule"].choices = [("", _("全部")), *rules]


class CaseDecisionForm(forms.Form):
    action = forms.ChoiceField(
        label=_("处理"), choices=[("verify", _("核实")), ("dismiss", _("排除"))]
    )
    note = forms.CharField(
        label=_("处理意见"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("排除须填写理由"),
    )
