"""Forms of the register pages: the list's filters and the sheet upload."""

from django import forms
from django.utils.translation import gettext_lazy as _

from guanjia.core.models import Agency
from guanjia.web.forms import AgencyChoiceField

from .models import Category, EnergyType, Vehicle


class VehicleFilterForm(forms.Form):
    q = forms.CharField(label=_("车牌号/车架号"), required=False)
    agency = AgencyChoiceField(
        label=_("单位（含下级）"),
        required=False,
        queryset=Agency.objects.none(),
        empty_label=_("全部"),
    )
    category = forms.ChoiceField(
        label=_("车辆类别"), required=False, choices=[("", _("全部")), *Category.choices]
    )
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部")), *Vehicle.Status.choices]
    )
    energy = forms.ChoiceField(
        label=_("能源类型"),
        required=False,
        choices=[("", _("全部")), ("new_energy", _("全部新能源")), *EnergyType.choices],
    )
    terminal = forms.CharField(label=_("终端手机号"), required=False)

    def __init__(self, *args, agencies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies


class VehicleUploadForm(forms.Form):
    file = forms.FileField(
        label=_("登记表（.xlsx 或 .csv）"),
        help_text=_(
            "表头：车牌号、车架号、车辆类别、排气量(升)、购置价格(元)、能源类型、购置日期、所属单位、"
            "终端手机号；可选：车型、品牌型号、状态、里程(公里)、国产、座位数。"
            "任何一行有误则全部不导入；已登记的车牌号按表格更新。"
        ),
    )
    agency = AgencyChoiceField(
        label=_("默认所属单位"),
        required=False,
        queryset=Agency.objects.none(),
        empty_label=_("（以表格为准）"),
        help_text=_("填写后，“所属单位”为空的行登记到该单位，且表格只能登记该单位及其下级。"),
    )

    def __init__(self, *args, agencies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies

    def clean_file(self):
        f = self.cleaned_data["file"]
        if not f.name.lower().endswith((".xlsx", ".csv")):
            raise forms.ValidationError(_("只支持 .xlsx 和 .csv 文件"))
        if f.size > 50 * 1024 * 1024:
            raise forms.ValidationError(_("文件超过 50 MB"))
        return f


class DriverFilterForm(forms.Form):
    q = forms.CharField(label=_("姓名/驾驶证号"), required=False)
    agency = AgencyChoiceField(
        label=_("单位（含下级）"),
        required=False,
        queryset=Agency.objects.none(),
        empty_label=_("全部"),
    )

    def __init__(self, *args, agencies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies
