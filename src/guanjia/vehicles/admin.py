"""Django admin for the register (read-mostly: writes belong to the services and pages)."""

from django.contrib import admin

from .models import ConfigurationStandard, Driver, ExceptionApproval, Garage, Quota, Vehicle


@admin.register(Vehicle)
class VehicleAdmin(admin.ModelAdmin):
    list_display = ("plate", "vin", "category", "energy_type", "agency", "status", "terminal_key")
    list_filter = ("category", "status", "energy_type")
    search_fields = ("plate", "vin", "terminal_key")
    raw_id_fields = ("agency", "garage")


@admin.register(Driver)
class DriverAdmin(admin.ModelAdmin):
    list_display = ("name", "agency", "licence_number", "licence_class", "licence_expiry")
    search_fields = ("name", "licence_number")
    raw_id_fields = ("agency", "user")


@admin.register(Quota)
class QuotaAdmin(admin.ModelAdmin):
    list_display = ("agency", "category", "quota", "basis")
    raw_id_fields = ("agency",)


@admin.register(ConfigurationStandard)
class ConfigurationStandardAdmin(admin.ModelAdmin):
    list_display = ("key", "category", "tier", "max_displacement_l", "max_price", "is_active")
    list_filter = ("category", "tier", "is_active")


@admin.register(Garage)
class GarageAdmin(admin.ModelAdmin):
    list_display = ("name", "agency", "lat", "lon", "radius_m")
    raw_id_fields = ("agency",)


@admin.register(ExceptionApproval)
class ExceptionApprovalAdmin(admin.ModelAdmin):
    list_display = ("vehicle", "tier", "document_number", "approved_by", "approved_on")
    raw_id_fields = ("vehicle",)
