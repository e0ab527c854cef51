"""Telemetry's own tables. Positions themselves are not here: they live in the write-ahead
segments and the Parquet archive (see wal.py, archive.py); misuse cases are the vehicles
app's MisuseCase, shared with the data-only 私车公养 detectors."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from guanjia.core.models import Agency, ChangeLogged
from guanjia.core.scope import ScopedModel
from guanjia.vehicles.models import TripRequest, Vehicle


class Terminal(ScopedModel, ChangeLogged):
    """A JT/T 808 terminal that has registered (0x0100) and the auth code it was given
    (0x8100), which it must present (0x0102) on every connection."""

    key = models.CharField(_("终端检索键"), max_length=20, unique=True)
    vehicle = models.ForeignKey(
        Vehicle, verbose_name=_("车辆"), on_delete=models.CASCADE, related_name="terminals"
    )
    auth_code = models.CharField(_("鉴权码"), max_length=64)
    edition = models.CharField(_("协议版本"), max_length=8, default="2013")
    manufacturer = models.CharField(_("制造商"), max_length=16, blank=True)
    model = models.CharField(_("终端型号"), max_length=32, blank=True)
    device_id = models.CharField(_("终端ID"), max_length=32, blank=True)
    registered_at = models.DateTimeField(_("注册时间"), auto_now_add=True)
    last_seen = models.DateTimeField(_("最近上线"), null=True, blank=True)

    scope_domain = "telemetry"
    scope_agency_field = "vehicle__agency"
    audit_exclude = ("last_seen",)
    audit_fingerprint = ("auth_code",)

    class Meta:
        verbose_name = _("车载终端")
        verbose_name_plural = _("车载终端")
        ordering = ["key"]

    def __str__(self):
        return self.key


class Geofence(ScopedModel, ChangeLogged):
    """An area a rule looks at: a forbidden place (娱乐场所, 景区 …), a jurisdiction an
    agency's cars must stay within, or a designated garage (the vehicles app's Garage is
    a circle; a polygon is kept here when a garage is drawn). GeoJSON Polygon/MultiPolygon
    in WGS-84, or a circle (center + radius)."""

    class Kind(models.TextChoices):
        FORBIDDEN = "forbidden", _("禁入区域")
        JURISDICTION = "jurisdiction", _("管辖范围")
        GARAGE = "garage", _("停放场所")

    agency = models.ForeignKey(
        Agency, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="geofences"
    )
    name = models.CharField(_("名称"), max_length=128)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    geometry = models.JSONField(_("范围（GeoJSON）"), null=True, blank=True)
    center_lat = models.FloatField(_("圆心纬度"), null=True, blank=True)
    center_lon = models.FloatField(_("圆心经度"), null=True, blank=True)
    radius_m = models.PositiveIntegerField(_("半径（米）"), null=True, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    scope_domain = "telemetry"

    class Meta:
        verbose_name = _("电子围栏")
        verbose_name_plural = _("电子围栏")
        ordering = ["agency", "kind", "name"]


class RuleSetting(ScopedModel, ChangeLogged):
    """A misuse rule's switch and parameters (speed limit, night hours, report interval …)
    with the clause it enforces; an agency may override the platform default."""

    rule = models.CharField(_("规则"), max_length=48)
    agency = models.ForeignKey(
        Agency, verbose_name=_("单位"), null=True, blank=True, on_delete=models.CASCADE
    )
    enabled = models.BooleanField(_("启用"), default=True)
    params = models.JSONField(_("参数"), default=dict)
    source = models.CharField(_("依据"), max_length=255)

    scope_domain = "telemetry"
    scope_agency_field = None  # platform defaults are reference data; overrides are small

    def audit_agency_id(self) -> int | None:
        # An override's changes belong to its agency's audit trail; a default's to none.
        return self.agency_id

    class Meta:
        verbose_name = _("监控规则")
        verbose_name_plural = _("监控规则")
        ordering = ["rule"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule"], condition=models.Q(agency__isnull=True), name="rule_default"
            ),
            models.UniqueConstraint(fields=["rule", "agency"], name="rule_agency"),
        ]


class Trip(ScopedModel, ChangeLogged):
    """A trip segmented from positions, matched to the dispatch order it fulfils."""

    vehicle = models.ForeignKey(
        Vehicle, verbose_name=_("车辆"), on_delete=models.CASCADE, related_name="telemetry_trips"
    )
    started_at = models.DateTimeField(_("开始时间"))
    ended_at = models.DateTimeField(_("结束时间"))
    start_lat = models.FloatField()
    start_lon = models.FloatField()
    end_lat = models.FloatField()
    end_lon = models.FloatField()
    distance_km = models.FloatField(_("里程（公里）"))
    max_speed_kmh = models.FloatField(_("最高速度"), default=0)
    points = models.PositiveIntegerField(_("定位点数"), default=0)
    order = models.ForeignKey(
        TripRequest,
        verbose_name=_("派车单"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="telemetry_trips",
    )
    match_score = models.FloatField(_("匹配度"), null=True, blank=True)

    scope_domain = "telemetry"
    scope_agency_field = "vehicle__agency"

    class Meta:
        verbose_name = _("行程")
        verbose_name_plural = _("行程")
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["vehicle", "started_at"], name="trip_vehicle_started")]
        constraints = [
            models.UniqueConstraint(fields=["vehicle", "started_at"], name="trip_unique_start")
        ]


class ReportIntervalDay(ScopedModel):
    """How often an agency's terminals reported on one day (China time): a histogram of the
    seconds between consecutive reports of a terminal whose ignition was on, kept by the
    rule engine as it sees positions (bucket = whole seconds, 3600 = an hour or more).
    Machine statistics, rewritten every few seconds, so not change-logged; the indicator
    telemetry.report_interval_p95_s reads its percentile from here."""

    agency = models.ForeignKey(Agency, verbose_name=_("单位"), on_delete=models.CASCADE)
    day = models.DateField(_("日期"))
    histogram = models.JSONField(_("间隔分布"), default=dict)
    count = models.PositiveIntegerField(_("间隔数"), default=0)

    scope_domain = "telemetry"

    class Meta:
        verbose_name = _("定位汇报间隔日统计")
        verbose_name_plural = _("定位汇报间隔日统计")
        constraints = [
            models.UniqueConstraint(fields=["agency", "day"], name="interval_agency_day")
        ]
