"""Django admin for platform administrators (superusers). Edits are audited by the same
signals as every other write; day-to-day work happens in the Guanjia UI and API."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from .models import (
    Agency,
    ApiToken,
    CalendarDay,
    CollaborationGroup,
    LoginLog,
    ObjectChange,
    OperationLog,
    Region,
    Role,
    User,
)

admin.site.site_header = _("管家 Guanjia 管理后台")
admin.site.site_title = _("管家 Guanjia")


@admin.register(Region)
class RegionAdmin(TreeAdmin):
    form = movenodeform_factory(Region)
    list_display = ("name", "code", "level")
    search_fields = ("name", "code")


@admin.register(Agency)
class AgencyAdmin(TreeAdmin):
    form = movenodeform_factory(Agency)
    list_display = ("name", "kind", "region", "credit_code", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "short_name", "credit_code")
    autocomplete_fields = ("region",)


@admin.register(CollaborationGroup)
class CollaborationGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "agency")
    filter_horizontal = ("members",)


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ("key", "name", "data_scope", "agency", "enabled")
    filter_horizontal = ("custom_agencies",)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "real_name", "agency", "is_active", "is_superuser")
    list_filter = ("is_active", "is_superuser", "roles")
    search_fields = ("username", "real_name", "phone")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("管家"), {"fields": ("real_name", "phone", "agency", "roles")}),
    )
    filter_horizontal = ("roles", "groups", "user_permissions")
    autocomplete_fields = ("agency",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "name", "user", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "digest", "created_at", "last_used_at")


class ReadOnlyLogAdmin(admin.ModelAdmin):
    """Logs are evidence: nobody edits or deletes them, not even an administrator."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ObjectChange)
class ObjectChangeAdmin(ReadOnlyLogAdmin):
    list_display = ("time", "user_name", "source", "action", "content_type", "object_repr")
    list_filter = ("action", "source", "content_type")
    search_fields = ("object_repr", "user_name", "request_id")


@admin.register(OperationLog)
class OperationLogAdmin(ReadOnlyLogAdmin):
    list_display = ("time", "user_name", "method", "path", "status_code", "duration_ms")
    list_filter = ("method", "status_code")


@admin.register(LoginLog)
class LoginLogAdmin(ReadOnlyLogAdmin):
    list_display = ("time", "username", "success", "message", "ip")
    list_filter = ("success",)


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ("date", "is_workday", "name", "source")
    list_filter = ("is_workday",)
    date_hierarchy = "date"
