"""Forms of the web UI. Model forms validate and render; the views hand the cleaned data to
the service functions (guanjia.core.services), which write, audit and re-check scope."""

from __future__ import annotations

import re

from django import forms
from django.apps import apps
from django.contrib.auth.password_validation import validate_password
from django.contrib.contenttypes.models import ContentType
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from guanjia.core.models import Agency, ChangeLogged, ObjectChange, Region, Role, User
from guanjia.core.services import AGENCY_FIELDS

PERMISSION_RE = re.compile(r"^(\*|[a-z_]+\.(\*|[a-z_]+))$")


class RegionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{'　' * (obj.depth - 1)}{obj.name}（{obj.code}）"


class DateInput(forms.DateInput):
    """An <input type="date">, whose value must be ISO (2026-03-02) whatever the language:
    Chinese formats render dates as 2026/03/02, which the browser's date field rejects and
    shows empty, so an unchanged form would post no date."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class FastSelect(forms.Select):
    """A <select> rendered in Python rather than one template per option: a province's
    2,000 agencies took ~150 ms through Django's option templates, ~5 ms this way."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        attrs["name"] = name
        chosen = "" if value is None else str(value)
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (key, " selected" if key == chosen else "", label)
                for key, label in ((str(v), lbl) for v, lbl in self.choices)
            ),
        )
        return format_html("<select{}>{}</select>", flatatt(attrs), options)


class AgencyChoiceField(forms.ModelChoiceField):
    widget = FastSelect

    def label_from_instance(self, obj):
        return f"{'　' * (obj.depth - 1)}{obj.name}"


class AgencyMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{'　' * (obj.depth - 1)}{obj.name}"


# -- organisation -------------------------------------------------------------------------


class AgencyForm(forms.ModelForm):
    """Create (with a parent chosen among the agencies the user sees) or edit an agency."""

    parent = AgencyChoiceField(
        label=_("上级单位"),
        queryset=Agency.objects.none(),
        required=False,
        empty_label=_("（无，作为顶级单位）"),
    )
    region = RegionChoiceField(label=_("所在地区"), queryset=Region.objects.all())

    class Meta:
        model = Agency
        fields = ["parent", *AGENCY_FIELDS]

    def __init__(self, *args, agencies=None, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["parent"]  # moving an agency is a separate action
        else:
            self.fields["parent"].queryset = (
                agencies if agencies is not None else Agency.objects.none()
            )

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in AGENCY_FIELDS}


# -- people and roles ---------------------------------------------------------------------


class UserForm(forms.ModelForm):
    new_password = forms.CharField(
        label=_("密码"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    agency = AgencyChoiceField(label=_("所属单位"), queryset=Agency.objects.none(), required=False)
    roles = forms.ModelMultipleChoiceField(
        label=_("角色"),
        queryset=Role.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = User
        fields = ["username", "real_name", "phone", "email", "agency", "is_active", "roles"]

    def __init__(self, *args, agencies, roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies
        self.fields["roles"].queryset = roles
        if self.instance.pk:
            self.fields["username"].disabled = True
            self.fields["new_password"].help_text = _("留空则不修改密码")
        else:
            self.fields["new_password"].help_text = _("留空则该账户暂不能用密码登录")

    def clean_new_password(self):
        password = self.cleaned_data.get("new_password")
        if password:
            validate_password(password)
        return password

    def service_fields(self) -> dict:
        names = ("real_name", "phone", "email", "agency", "is_active")
        return {name: self.cleaned_data[name] for name in names}


class RoleForm(forms.ModelForm):
    permissions = forms.CharField(
        label=_("权限"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text=_("每行一项，形如 org.view、system.*；* 表示全部权限"),
    )
    custom_agencies = AgencyMultipleChoiceField(
        label=_("自定数据范围"),
        queryset=Agency.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("数据范围为“自定数据权限”时生效"),
    )
    agency = AgencyChoiceField(
        label=_("所属单位"),
        queryset=Agency.objects.none(),
        required=False,
        empty_label=_("（全平台通用）"),
    )

    class Meta:
        model = Role
        fields = [
            "name",
            "key",
            "description",
            "permissions",
            "data_scope",
            "custom_agencies",
            "agency",
            "enabled",
        ]
        widgets = {"data_scope": forms.RadioSelect}

    def __init__(self, *args, agencies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["custom_agencies"].queryset = agencies
        self.fields["agency"].queryset = agencies
        if self.instance.pk and not self.is_bound:
            self.initial["permissions"] = "\n".join(self.instance.permissions or [])

    def clean_permissions(self):
        lines = [line.strip() for line in self.cleaned_data["permissions"].splitlines()]
        perms = list(dict.fromkeys(line for line in lines if line))
        bad = [p for p in perms if not PERMISSION_RE.match(p)]
        if bad:
            raise forms.ValidationError(
                _("格式不正确：%(perms)s（应为 domain.action）"), params={"perms": "、".join(bad)}
            )
        return perms

    def service_fields(self) -> dict:
        names = ("name", "key", "description", "permissions", "data_scope", "agency", "enabled")
        return {name: self.cleaned_data[name] for name in names}


# -- filters ------------------------------------------------------------------------------


class SearchForm(forms.Form):
    q = forms.CharField(label=_("搜索"), required=False)


class UserFilterForm(forms.Form):
    q = forms.CharField(label=_("搜索"), required=False)
    agency = AgencyChoiceField(
        label=_("所属单位"), queryset=Agency.objects.none(), required=False, empty_label=_("全部")
    )

    def __init__(self, *args, agencies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies


class AuditFilterForm(forms.Form):
    """User and date range, common to the three logs; subclasses add their own fields."""

    user_lookup = "user_name__icontains"

    user = forms.CharField(label=_("操作人"), required=False)
    since = forms.DateField(label=_("开始日期"), required=False, widget=DateInput)
    until = forms.DateField(label=_("结束日期"), required=False, widget=DateInput)

    def filter(self, qs):
        if not self.is_valid():
            return qs.none()
        data = self.cleaned_data
        if data["user"]:
            qs = qs.filter(**{self.user_lookup: data["user"].strip()})
        if data["since"]:
            qs = qs.filter(time__date__gte=data["since"])
        if data["until"]:
            qs = qs.filter(time__date__lte=data["until"])
        return self.filter_more(qs, data)

    def filter_more(self, qs, data):
        return qs


def _logged_types():
    models = [m for m in apps.get_models() if issubclass(m, ChangeLogged)]
    types = ContentType.objects.get_for_models(*models)
    choices = sorted((ct.model, m._meta.verbose_name) for m, ct in types.items())
    return [("", _("全部")), *choices]


class ChangeFilterForm(AuditFilterForm):
    action = forms.ChoiceField(
        label=_("动作"), required=False, choices=[("", _("全部")), *ObjectChange.Action.choices]
    )
    object_type = forms.ChoiceField(label=_("对象类型"), required=False)

    field_order = ["user", "action", "object_type", "since", "until"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["object_type"].choices = _logged_types()

    def filter_more(self, qs, data):
        if data["action"]:
            qs = qs.filter(action=data["action"])
        if data["object_type"]:
            qs = qs.filter(content_type__model=data["object_type"])
        return qs


class OperationFilterForm(AuditFilterForm):
    method = forms.ChoiceField(
        label=_("方法"),
        required=False,
        choices=[("", _("全部"))] + [(m, m) for m in ("POST", "PUT", "PATCH", "DELETE")],
    )

    field_order = ["user", "method", "since", "until"]

    def filter_more(self, qs, data):
        return qs.filter(method=data["method"]) if data["method"] else qs


class LoginFilterForm(AuditFilterForm):
    user_lookup = "username__icontains"

    user = forms.CharField(label=_("登录名"), required=False)
    success = forms.ChoiceField(
        label=_("结果"),
        required=False,
        choices=[("", _("全部")), ("1", _("成功")), ("0", _("失败"))],
    )

    field_order = ["user", "success", "since", "until"]

    def filter_more(self, qs, data):
        return qs.filter(success=data["success"] == "1") if data["success"] else qs
