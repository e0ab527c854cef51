"""Official vehicles: the register, quotas and configuration standards, online dispatch,
lifecycle and running costs, and the misuse cases found in the data.

Categories, thresholds and configuration standards are data with their source cited
(《党政机关公务用车管理办法》, 中办发〔2017〕71号, and local rules); nothing about a limit is
written into code. Every model holding agency data is a ScopedModel: lists start from
`restrict(user, action)`.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanjia.core.models import Agency, ChangeLogged, Region, RuleValue, User
from guanjia.core.scope import ScopedModel


class Category(models.TextChoices):
    """The five categories of 第三条 of the 2017 rules (codes as in the rules note)."""

    JYTX = "JYTX", _("机要通信用车")
    YJBZ = "YJBZ", _("应急保障用车")
    ZFZQ = "ZFZQ", _("执法执勤用车")
    TZZY = "TZZY", _("特种专业技术用车")
    QT = "QT", _("其他按照规定配备的公务用车")


class EnergyType(models.TextChoices):
    GASOLINE = "gasoline", _("汽油")
    DIESEL = "diesel", _("柴油")
    BEV = "bev", _("纯电动")
    PHEV = "phev", _("插电混动")
    EREV = "erev", _("增程式")
    FCEV = "fcev", _("燃料电池")
    HEV = "hev", _("油电混动")
    CNG = "cng", _("天然气")


# New-energy vehicles in the sense of the NEV policy (HEV without a plug is not one).
NEW_ENERGY = (EnergyType.BEV, EnergyType.PHEV, EnergyType.EREV, EnergyType.FCEV)


class BodyType(models.TextChoices):
    """Size classes the configuration standards distinguish (GA 802-2019 types)."""

    SEDAN = "sedan", _("轿车")
    SMALL_BUS = "small_bus", _("其他小型客车")
    MEDIUM_BUS = "medium_bus", _("中型客车")
    LARGE_BUS = "large_bus", _("大型客车")
    OFF_ROAD = "off_road", _("越野车")
    SPECIAL = "special", _("专用车辆")


class Garage(ScopedModel, ChangeLogged):
    """A designated garage (定点停放场所): a circular geofence where a car spends nights
    and holidays."""

    agency = models.ForeignKey(
        Agency, verbose_name=_("所属单位"), on_delete=models.PROTECT, related_name="garages"
    )
    name = models.CharField(_("名称"), max_length=128)
    address = models.CharField(_("地址"), max_length=255, blank=True)
    lat = models.FloatField(_("纬度"), help_text=_("WGS-84"))
    lon = models.FloatField(_("经度"), help_text=_("WGS-84"))
    radius_m = models.PositiveIntegerField(_("半径（米）"), default=150)

    scope_domain = "vehicles"

    class Meta:
        verbose_name = _("定点停放场所")
        verbose_name_plural = _("定点停放场所")
        ordering = ["agency", "name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="garage_unique_name"),
        ]

    def __str__(self):
        return self.name


class Vehicle(ScopedModel, ChangeLogged):
    class Status(models.TextChoices):
        IN_SERVICE = "in_service", _("在用")
        SEALED = "sealed", _("封存")
        IN_REPAIR = "in_repair", _("维修")
        DISPOSED = "disposed", _("已处置")

    plate = models.CharField(_("车牌号"), max_length=8, unique=True)
    vin = models.CharField(_("车架号"), max_length=17, unique=True)
    category = models.CharField(_("车辆类别"), max_length=4, choices=Category.choices)
    body_type = models.CharField(
        _("车型"), max_length=16, choices=BodyType.choices, default=BodyType.SEDAN
    )
    brand_model = models.CharField(_("品牌型号"), max_length=64, blank=True)
    energy_type = models.CharField(_("能源类型"), max_length=16, choices=EnergyType.choices)
    displacement_l = models.DecimalField(
        _("排气量（升）"), max_digits=4, decimal_places=2, null=True, blank=True
    )
    purchase_price = models.DecimalField(_("购置价格（元）"), max_digits=12, decimal_places=2)
    purchase_date = models.DateField(_("购置日期"))
    odometer_km = models.DecimalField(
        _("行驶里程（公里）"), max_digits=10, decimal_places=1, default=0
    )
    seats = models.PositiveSmallIntegerField(_("核定座位数"), default=5)
    tank_l = models.DecimalField(
        _("油箱容积（升）"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    fuel_norm_l_100km = models.DecimalField(
        _("百公里油耗定额（升）"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    is_domestic = models.BooleanField(_("国产"), default=True)
    agency = models.ForeignKey(
        Agency, verbose_name=_("所属单位"), on_delete=models.PROTECT, related_name="vehicles"
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.IN_SERVICE
    )
    garage = models.ForeignKey(
        Garage,
        verbose_name=_("定点停放场所"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="vehicles",
    )
    terminal_number = models.CharField(_("终端手机号"), max_length=20, blank=True)
    # The terminal number without leading zeros: 2013 terminals send 12 BCD digits, 2019
    # terminals 20, and both name the same SIM; this is what the gateway looks up.
    terminal_key = models.CharField(_("终端检索键"), max_length=20, blank=True, db_index=True)
    notes = models.TextField(_("备注"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    scope_domain = "vehicles"
    audit_exclude = ("updated_at",)

    class Meta:
        verbose_name = _("公务用车")
        verbose_name_plural = _("公务用车")
        ordering = ["plate"]
        indexes = [
            models.Index(fields=["agency", "status"], name="vehicle_agency_status"),
            models.Index(fields=["agency", "category"], name="vehicle_agency_category"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["terminal_key"],
                condition=~Q(terminal_key=""),
                name="vehicle_unique_terminal",
            ),
        ]

    def __str__(self):
        return self.plate

    @property
    def is_new_energy(self) -> bool:
        return self.energy_type in NEW_ENERGY


class Driver(ScopedModel, ChangeLogged):
    agency = models.ForeignKey(
        Agency, verbose_name=_("所属单位"), on_delete=models.PROTECT, related_name="drivers"
    )
    name = models.CharField(_("姓名"), max_length=32)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    licence_number = models.CharField(_("驾驶证号"), max_length=32, unique=True)
    licence_class = models.CharField(_("准驾车型"), max_length=8, default="C1")
    licence_expiry = models.DateField(_("驾驶证有效期至"))
    user = models.OneToOneField(
        User,
        verbose_name=_("登录账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="driver",
    )
    is_active = models.BooleanField(_("在岗"), default=True)

    scope_domain = "vehicles"
    audit_fingerprint = ("licence_number",)

    class Meta:
        verbose_name = _("驾驶员")
        verbose_name_plural = _("驾驶员")
        ordering = ["agency", "name"]

    def __str__(self):
        return self.name


class Quota(ScopedModel, ChangeLogged):
    """The approved number of cars (编制) of an agency in one category."""

    agency = models.ForeignKey(
        Agency, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="vehicle_quotas"
    )
    category = models.CharField(_("车辆类别"), max_length=4, choices=Category.choices)
    quota = models.PositiveIntegerField(_("编制数"))
    basis = models.CharField(_("核定依据"), max_length=255, blank=True)

    scope_domain = "vehicles"

    class Meta:
        verbose_name = _("车辆编制")
        verbose_name_plural = _("车辆编制")
        ordering = ["agency", "category"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "category"], name="quota_unique"),
        ]


class ConfigurationStandard(ScopedModel, ChangeLogged):
    """One configuration ceiling (配备标准) as data: which cars it applies to, the limits,
    and the rule or clause it comes from. Reference data: the permission is enough to read
    it; editing needs `vehicles.change` at scope "all" in practice (see services)."""

    class Tier(models.TextChoices):
        BASIC = "basic", _("基本标准")
        NEED = "need", _("因工作需要")
        SPECIAL = "special", _("确因情况特殊")

    key = models.SlugField(_("标识"), max_length=64, unique=True)
    category = models.CharField(
        _("车辆类别"),
        max_length=4,
        choices=Category.choices,
        blank=True,
        help_text=_("空=任何类别"),
    )
    body_types = models.CharField(
        _("适用车型"), max_length=128, blank=True, help_text=_("以空格分隔的车型代码；空=任何车型")
    )
    new_energy_only = models.BooleanField(_("仅新能源"), default=False)
    tier = models.CharField(_("档次"), max_length=8, choices=Tier.choices, default=Tier.BASIC)
    max_displacement_l = models.DecimalField(
        _("排气量上限（升）"), max_digits=4, decimal_places=2, null=True, blank=True
    )
    max_price = models.DecimalField(
        _("价格上限（元）"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("适用地区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text=_("空=全国"),
    )
    source = models.CharField(_("依据"), max_length=255)
    source_url = models.URLField(_("依据出处"), max_length=500, blank=True)
    clause = models.ForeignKey(
        "standards.Clause",
        verbose_name=_("对应条款"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    effective_from = models.DateField(_("施行日期"), null=True, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    scope_domain = "vehicles"
    scope_agency_field = None  # reference data: restrict() checks the permission only

    class Meta:
        verbose_name = _("配备标准")
        verbose_name_plural = _("配备标准")
        ordering = ["category", "tier", "key"]

    def __str__(self):
        return self.key


class Threshold(RuleValue):
    """A number a rule compares against (fuel over norm by 20 %, maintenance approval above
    5,000 元, report interval 30 s …), with its source; an agency may override the national
    or regional value."""

    scope_domain = "vehicles"

    class Meta(RuleValue.Meta):
        verbose_name = _("规则阈值")
        verbose_name_plural = _("规则阈值")
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=Q(agency__isnull=True), name="threshold_unique_default"
            ),
            models.UniqueConstraint(fields=["key", "agency"], name="threshold_unique_agency"),
        ]


class ExceptionApproval(ScopedModel, ChangeLogged):
    """Approval of a car above the basic standard (报省级公务用车主管部门批准): the audit
    then measures the car against the approved tier and names the approval."""

    vehicle = models.ForeignKey(
        Vehicle, verbose_name=_("车辆"), on_delete=models.CASCADE, related_name="approvals"
    )
    tier = models.CharField(_("批准档次"), max_length=8, choices=ConfigurationStandard.Tier.choices)
    reason = models.TextField(_("理由"))
    approved_by = models.CharField(_("批准机关"), max_length=128)
    document_number = models.CharField(_("批准文号"), max_length=64)
    approved_on = models.DateField(_("批准日期"))
    attachment = models.FileField(_("批准文件"), upload_to="vehicles/approvals/", blank=True)

    scope_domain = "vehicles"
    scope_agency_field = "vehicle__agency"

    class Meta:
        verbose_name = _("超标准配备批准")
        verbose_name_plural = _("超标准配备批准")
        ordering = ["-approved_on"]


# -- dispatch -------------------------------------------------------------------------------


class TripRequest(ScopedModel, ChangeLogged):
    """One request for a car and, once dispatched, its 派车单. Requests that share a car
    (集约管车) point at the same `pool_lead`."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("待审批")
        APPROVED = "approved", _("待派车")
        REJECTED = "rejected", _("已驳回")
        ASSIGNED = "assigned", _("已派车")
        IN_PROGRESS = "in_progress", _("出车中")
        COMPLETED = "completed", _("已完成")
        CANCELLED = "cancelled", _("已取消")

    number = models.CharField(_("派车单号"), max_length=20, unique=True)
    agency = models.ForeignKey(
        Agency, verbose_name=_("用车单位"), on_delete=models.PROTECT, related_name="trip_requests"
    )
    requester = models.ForeignKey(
        User, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="trip_requests"
    )
    purpose = models.CharField(_("用车事由"), max_length=255)
    passengers = models.PositiveSmallIntegerField(_("乘车人数"), default=1)
    passenger_names = models.CharField(_("乘车人"), max_length=255, blank=True)
    origin = models.CharField(_("出发地"), max_length=128)
    origin_lat = models.FloatField(_("出发地纬度"), null=True, blank=True)
    origin_lon = models.FloatField(_("出发地经度"), null=True, blank=True)
    destination = models.CharField(_("目的地"), max_length=128)
    destination_lat = models.FloatField(_("目的地纬度"), null=True, blank=True)
    destination_lon = models.FloatField(_("目的地经度"), null=True, blank=True)
    start_at = models.DateTimeField(_("用车开始"))
    end_at = models.DateTimeField(_("用车结束"))
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.REQUESTED
    )
    approver = models.ForeignKey(
        User,
        verbose_name=_("审批人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    rejection_reason = models.CharField(_("驳回理由"), max_length=255, blank=True)
    vehicle = models.ForeignKey(
        Vehicle,
        verbose_name=_("车辆"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="trips",
    )
    driver = models.ForeignKey(
        Driver,
        verbose_name=_("驾驶员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="trips",
    )
    pool_lead = models.ForeignKey(
        "self",
        verbose_name=_("拼车主单"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="pooled",
    )
    dispatcher = models.ForeignKey(
        User,
        verbose_name=_("派车人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    assigned_at = models.DateTimeField(_("派车时间"), null=True, blank=True)
    started_at = models.DateTimeField(_("出车时间"), null=True, blank=True)
    start_odometer_km = models.DecimalField(
        _("出车里程"), max_digits=10, decimal_places=1, null=True, blank=True
    )
    ended_at = models.DateTimeField(_("收车时间"), null=True, blank=True)
    end_odometer_km = models.DecimalField(
        _("收车里程"), max_digits=10, decimal_places=1, null=True, blank=True
    )
    rating = models.PositiveSmallIntegerField(_("评价"), null=True, blank=True)
    rating_comment = models.CharField(_("评价意见"), max_length=255, blank=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    cancel_reason = models.CharField(_("取消原因"), max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    scope_domain = "dispatch"
    scope_owner_field = "requester"
    audit_exclude = ("updated_at",)

    class Meta:
        verbose_name = _("用车申请")
        verbose_name_plural = _("用车申请")
        ordering = ["-start_at"]
        indexes = [
            models.Index(fields=["agency", "status", "start_at"], name="trip_agency_status"),
            models.Index(fields=["vehicle", "start_at"], name="trip_vehicle_start"),
            models.Index(fields=["driver", "start_at"], name="trip_driver_start"),
            models.Index(fields=["status", "start_at"], name="trip_status_start"),
        ]

    def __str__(self):
        return self.number


# -- lifecycle and costs --------------------------------------------------------------------


class Inspection(ScopedModel, ChangeLogged):
    """Annual inspection (年检) or insurance policy: anything with a validity that expires."""

    class Kind(models.TextChoices):
        INSPECTION = "inspection", _("年检")
        COMPULSORY_INSURANCE = "compulsory", _("交强险")
        COMMERCIAL_INSURANCE = "commercial", _("商业险")

    vehicle = models.ForeignKey(
        Vehicle, verbose_name=_("车辆"), on_delete=models.CASCADE, related_name="inspections"
    )
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    provider = models.CharField(_("机构"), max_length=128, blank=True)
    reference = models.CharField(_("单号"), max_length=64, blank=True)
    valid_from = models.DateField(_("起始日期"))
    valid_until = models.DateField(_("有效期至"))
    cost = models.DecimalField(_("费用（元）"), max_digits=10, decimal_places=2, default=0)

    scope_domain = "vehicles"
    scope_agency_field = "vehicle__agency"

    class Meta:
        verbose_name = _("年检与保险")
        verbose_name_plural = _("年检与保险")
        ordering = ["vehicle", "kind", "-valid_until"]
        indexes = [models.Index(fields=["kind", "valid_until"], name="inspection_expiry")]


class RepairShop(ScopedModel, ChangeLogged):
    """A designated maintenance provider (定点维修单位) of an agency."""

    agency = models.ForeignKey(
        Agency, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="repair_shops"
    )
    name = models.CharField(_("名称"), max_length=128)
    address = models.CharField(_("地址"), max_length=255, blank=True)
    contract_until = models.DateField(_("协议有效期至"), null=True, blank=True)
    is_designated = models.BooleanField(_("定点"), default=True)

    scope_domain = "vehicles"

    class Meta:
        verbose_name = _("定点维修单位")
        verbose_name_plural = _("定点维修单位")
        ordering = ["agency", "name"]

    def __str__(self):
        return self.name


class Maintenance(ScopedModel, ChangeLogged):
    """A maintenance or repair bill. `plate` is the plate as billed: a bill for a plate that
    is not in the register (vehicle empty) is itself a 私车公养 signal."""

    class Kind(models.TextChoices):
        SERVICE = "service", _("保养")
        REPAIR = "repair", _("维修")
        ACCIDENT = "accident", _("事故维修")
        TYRES = "tyres", _("轮胎")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("待审批")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("已驳回")
        DONE = "done", _("已完成")

    agency = models.ForeignKey(
        Agency, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="maintenance"
    )
    vehicle = models.ForeignKey(
        Vehicle,
        verbose_name=_("车辆"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="maintenance",
    )
    plate = models.CharField(_("结算车牌"), max_length=8)
    shop = models.ForeignKey(
        RepairShop, verbose_name=_("维修单位"), null=True, blank=True, on_delete=models.PROTECT
    )
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    date = models.DateField(_("日期"))
    odometer_km = models.DecimalField(
        _("里程"), max_digits=10, decimal_places=1, null=True, blank=True
    )
    items = models.TextField(_("项目"), blank=True)
    amount = models.DecimalField(_("金额（元）"), max_digits=12, decimal_places=2)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices)
    approver = models.ForeignKey(
        User, verbose_name=_("审批人"), null=True, blank=True, on_delete=models.SET_NULL
    )
    approved_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    # Who asked (the approver must be someone else) and the approver's note or the reason
    # for a rejection.
    requested_by = models.ForeignKey(
        User,
        verbose_name=_("申请人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decision_note = models.CharField(_("审批意见"), max_length=255, blank=True)

    scope_domain = "vehicles"

    class Meta:
        verbose_name = _("维修保养")
        verbose_name_plural = _("维修保养")
        ordering = ["-date"]
        indexes = [models.Index(fields=["agency", "date"], name="maintenance_agency_date")]


class FuelCard(ScopedModel, ChangeLogged):
    """A fuel card, bound to one car (一车一卡)."""

    agency = models.ForeignKey(
        Agency, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="fuel_cards"
    )
    number = models.CharField(_("卡号"), max_length=32, unique=True)
    vehicle = models.ForeignKey(
        Vehicle,
        verbose_name=_("绑定车辆"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="fuel_cards",
    )
    issued_on = models.DateField(_("发卡日期"), null=True, blank=True)
    is_active = models.BooleanField(_("有效"), default=True)

    scope_domain = "vehicles"

    class Meta:
        verbose_name = _("加油卡")
        verbose_name_plural = _("加油卡")
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(
                fields=["vehicle"],
                condition=Q(is_active=True, vehicle__isnull=False),
                name="fuel_card_one_per_vehicle",
            ),
        ]

    def __str__(self):
        return self.number


class Refuelling(ScopedModel, ChangeLogged):
    """One refuelling (or charging) as the station reports it: the plate it was filled for
    and the card paid with."""

    agency = models.ForeignKey(
        Agency, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="refuellings"
    )
    card = models.ForeignKey(
        FuelCard,
        verbose_name=_("加油卡"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="refuellings",
    )
    vehicle = models.ForeignKey(
        Vehicle,
        verbose_name=_("车辆"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="refuellings",
    )
    plate = models.CharField(_("加油车牌"), max_length=8, blank=True)
    at = models.DateTimeField(_("加油时间"))
    litres = models.DecimalField(_("加油量（升）"), max_digits=7, decimal_places=2)
    amount = models.DecimalField(_("金额（元）"), max_digits=10, decimal_places=2)
    odometer_km = models.DecimalField(
        _("里程"), max_digits=10, decimal_places=1, null=True, blank=True
    )
    station = models.CharField(_("加油站"), max_length=128, blank=True)

    scope_domain = "vehicles"

    class Meta:
        verbose_name = _("加油记录")
        verbose_name_plural = _("加油记录")
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["vehicle", "at"], name="refuelling_vehicle_at"),
            models.Index(fields=["card", "at"], name="refuelling_card_at"),
            models.Index(fields=["agency", "at"], name="refuelling_agency_at"),
        ]


class Disposal(ScopedModel, ChangeLogged):
    class Method(models.TextChoices):
        AUCTION = "auction", _("公开拍卖")
        SCRAP = "scrap", _("报废")
        TRANSFER = "transfer", _("调剂")

    vehicle = models.OneToOneField(
        Vehicle, verbose_name=_("车辆"), on_delete=models.PROTECT, related_name="disposal"
    )
    disposed_on = models.DateField(_("处置日期"))
    method = models.CharField(_("处置方式"), max_length=16, choices=Method.choices)
    proceeds = models.DecimalField(_("处置收入（元）"), max_digits=12, decimal_places=2, default=0)
    reason = models.CharField(_("处置理由"), max_length=255)

    scope_domain = "vehicles"
    scope_agency_field = "vehicle__agency"

    class Meta:
        verbose_name = _("车辆处置")
        verbose_name_plural = _("车辆处置")
        ordering = ["-disposed_on"]


# -- misuse cases ---------------------------------------------------------------------------


class MisuseCase(ScopedModel, ChangeLogged):
    """One episode of suspected misuse with its evidence: found in the data here (私车公养
    signals), in positions by the telemetry rules. A case is verified (confirmed) or
    dismissed with a reason; `dedup_key` keeps a re-run from opening the same case twice."""

    class Status(models.TextChoices):
        OPEN = "open", _("待核查")
        VERIFIED = "verified", _("已核实")
        DISMISSED = "dismissed", _("已排除")

    agency = models.ForeignKey(
        Agency, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="misuse_cases"
    )
    vehicle = models.ForeignKey(
        Vehicle,
        verbose_name=_("车辆"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="misuse_cases",
    )
    rule = models.CharField(_("规则"), max_length=48, db_index=True)
    title = models.CharField(_("摘要"), max_length=255)
    source = models.CharField(_("依据"), max_length=255, blank=True)
    dedup_key = models.CharField(_("去重键"), max_length=128, unique=True)
    episode_start = models.DateTimeField(_("起始时间"))
    episode_end = models.DateTimeField(_("结束时间"), null=True, blank=True)
    evidence = models.JSONField(_("证据"), default=dict)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default="open")
    resolution = models.TextField(_("处理意见"), blank=True)
    handled_by = models.ForeignKey(
        User, verbose_name=_("处理人"), null=True, blank=True, on_delete=models.SET_NULL
    )
    handled_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    opened_at = models.DateTimeField(_("立案时间"), auto_now_add=True)

    scope_domain = "vehicles"

    class Meta:
        verbose_name = _("违规线索")
        verbose_name_plural = _("违规线索")
        ordering = ["-episode_start"]
        indexes = [models.Index(fields=["agency", "status"], name="case_agency_status")]
