"""Forms of the standards pages: the library's filters and the upload of a standard file."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from guanjia.core.models import Agency, Region
from guanjia.web.forms import AgencyChoiceField, RegionChoiceField

from .models import Standard
from .parsing import SUPPORTED_SUFFIXES


class StandardFilterForm(forms.Form):
    q = forms.CharField(label=_("编号或名称"), required=False)
    level = forms.ChoiceField(
        label=_("层级"), required=False, choices=[("", _("全部")), *Standard.Level.choices]
    )
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部")), *Standard.Status.choices]
    )
    region = RegionChoiceField(
        label=_("地区"),
        required=False,
        queryset=Region.objects.filter(depth__lte=2),
        to_field_name="code",
        empty_label=_("全部"),
    )
    agency = AgencyChoiceField(
        label=_("维护单位"), required=False, queryset=Agency.objects.none(), empty_label=_("全部")
    )

    def __init__(self, *args, agencies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("标准文件"),
        help_text=_(
            "支持 .txt、.md（由 PDF 或 Word 转出的文本）、.docx 与 NISO STS .xml；"
            "同编号同年代号的标准会被更新而不会重复"
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(SUPPORTED_SUFFIXES)}),
    )
    agency = AgencyChoiceField(
        label=_("维护单位"),
        queryset=Agency.objects.none(),
        help_text=_("新导入标准的维护单位；已在库的标准保持原维护单位"),
    )
    is_public = forms.BooleanField(
        label=_("公开"),
        required=False,
        initial=True,
        help_text=_("已发布的国家、行业、地方、团体标准通常公开，所有用户可查阅"),
    )

    def __init__(self, *args, agencies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies
