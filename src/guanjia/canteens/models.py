"""Canteens (机关食堂): diners and forecasts, menus, procurement and stock, waste, food
safety, diner surveys, and the anti-food-waste evaluation (反食品浪费工作成效评估).

Definitions that decide a number are written where the number is kept (the clean plate,
the waste streams, what a served day is), and follow DB50/T 9001—2022 where it defines
them. Every model holding a canteen's data is a ScopedModel reaching its agency through
`canteen__agency`: lists start from `restrict(user, action)`.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanjia.core.models import Agency, ChangeLogged, Region, RuleValue, User
from guanjia.core.scope import ScopedModel

NON_NEGATIVE = [MinValueValidator(0)]
POSITIVE_DECIMAL = [MinValueValidator(Decimal("0"))]


class Meal(models.TextChoices):
    BREAKFAST = "breakfast", _("早餐")
    LUNCH = "lunch", _("午餐")
    DINNER = "dinner", _("晚餐")


class CanteenOwned(ScopedModel, ChangeLogged):
    """A record of one canteen: scoped through the canteen's agency."""

    canteen = models.ForeignKey(
        "canteens.Canteen", verbose_name=_("食堂"), on_delete=models.CASCADE, related_name="+"
    )

    scope_domain = "canteens"
    scope_agency_field = "canteen__agency"

    class Meta:
        abstract = True


class CanteenRule(RuleValue):
    """A number a canteen rule compares against (询价 above 5,000 元 from ≥ 3 suppliers, 留样
    ≥ 125 g for ≥ 48 h, health certificates warned 30 days ahead …), with the clause it comes
    from; an agency may override the default. Loaded from data/rules.json after migrate."""

    scope_domain = "canteens"

    class Meta(RuleValue.Meta):
        verbose_name = _("食堂管理规则")
        verbose_name_plural = _("食堂管理规则")
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=Q(agency__isnull=True), name="canteen_rule_unique_default"
            ),
            models.UniqueConstraint(fields=["key", "agency"], name="canteen_rule_unique_agency"),
        ]


# -- canteens and diners ----------------------------------------------------------------------


class Canteen(ScopedModel, ChangeLogged):
    class Mode(models.TextChoices):
        SELF_RUN = "self_run", _("自营")
        CONTRACTED = "contracted", _("委托经营")

    agency = models.ForeignKey(
        Agency, verbose_name=_("所属单位"), on_delete=models.PROTECT, related_name="canteens"
    )
    name = models.CharField(_("名称"), max_length=128)
    code = models.SlugField(_("编码"), max_length=32, unique=True)
    address = models.CharField(_("地址"), max_length=255, blank=True)
    capacity = models.PositiveIntegerField(_("就餐座位数"), default=0)
    staff_served = models.PositiveIntegerField(
        _("服务人数"), default=0, help_text=_("在编在岗人数")
    )
    meals = models.CharField(
        _("供餐餐次"),
        max_length=64,
        default="lunch",
        help_text=_("逗号分隔：breakfast,lunch,dinner"),
    )
    mode = models.CharField(
        _("经营方式"), max_length=16, choices=Mode.choices, default=Mode.SELF_RUN
    )
    operator = models.CharField(_("承包经营单位"), max_length=128, blank=True)
    # The menu rule of 6.1 of DB50/T 9001—2022 ("三荤两素" + fruit), per meal, and how many
    # days a dish may not come back.
    rule_meat = models.PositiveSmallIntegerField(_("荤菜数"), default=3)
    rule_veg = models.PositiveSmallIntegerField(_("素菜数"), default=2)
    rule_staple = models.PositiveSmallIntegerField(_("主食数"), default=1)
    rule_soup = models.PositiveSmallIntegerField(_("汤品数"), default=1)
    rule_fruit = models.PositiveSmallIntegerField(_("水果数"), default=1)
    no_repeat_days = models.PositiveSmallIntegerField(_("菜品不重复天数"), default=7)
    safety_margin_pct = models.DecimalField(
        _("备餐安全系数（%）"), max_digits=5, decimal_places=2, default=Decimal("5")
    )
    waste_target_g = models.DecimalField(
        _("人均餐厨垃圾目标（克/人次）"),
        max_digits=7,
        decimal_places=1,
        default=Decimal("150"),
        help_text=_("DB50/T 9001—2022 7.2：不应超过150克每人次"),
    )
    survey_token = models.UUIDField(
        _("问卷链接标识"), default=uuid.uuid4, unique=True, editable=False
    )
    is_active = models.BooleanField(_("启用"), default=True)

    scope_domain = "canteens"

    class Meta:
        verbose_name = _("食堂")
        verbose_name_plural = _("食堂")
        ordering = ["agency", "name"]

    def __str__(self):
        return self.name

    @property
    def meal_list(self) -> list[str]:
        return [m for m in (s.strip() for s in self.meals.split(",")) if m in Meal.values]


class DinerCount(CanteenOwned):
    """Diners of one meal on one day. 0 means the canteen did not serve that meal (closed)."""

    class Source(models.TextChoices):
        MANUAL = "manual", _("手工录入")
        IMPORT = "import", _("刷卡导入")
        API = "api", _("接口")

    canteen = models.ForeignKey(
        Canteen, verbose_name=_("食堂"), on_delete=models.CASCADE, related_name="diner_counts"
    )
    date = models.DateField(_("日期"))
    meal = models.CharField(_("餐次"), max_length=16, choices=Meal.choices, default=Meal.LUNCH)
    diners = models.PositiveIntegerField(_("就餐人数"))
    source = models.CharField(
        _("来源"), max_length=16, choices=Source.choices, default=Source.MANUAL
    )

    class Meta:
        verbose_name = _("就餐人数")
        verbose_name_plural = _("就餐人数")
        ordering = ["canteen", "date", "meal"]
        constraints = [
            models.UniqueConstraint(fields=["canteen", "date", "meal"], name="diners_unique_day"),
        ]
        indexes = [models.Index(fields=["canteen", "meal", "date"])]

    def __str__(self):
        return f"{self.canteen} {self.date} {self.get_meal_display()} {self.diners}"


class AttendanceEvent(CanteenOwned):
    """A registered event that moves attendance: a meeting or training that brings diners,
    remote-work days that take them away. `change` is the expected number of extra (or, if
    negative, fewer) diners; the forecast adds it to the day it covers."""

    class Kind(models.TextChoices):
        MEETING = "meeting", _("会议")
        TRAINING = "training", _("培训")
        REMOTE = "remote", _("居家办公")
        INSPECTION = "inspection", _("检查接待")
        OTHER = "other", _("其他")

    canteen = models.ForeignKey(
        Canteen, verbose_name=_("食堂"), on_delete=models.CASCADE, related_name="events"
    )
    date = models.DateField(_("日期"))
    meal = models.CharField(
        _("餐次"), max_length=16, choices=Meal.choices, blank=True, help_text=_("留空表示全天")
    )
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    change = models.IntegerField(_("人数变化"), help_text=_("增加为正，减少为负"))
    title = models.CharField(_("事由"), max_length=128)

    class Meta:
        verbose_name = _("用餐事件")
        verbose_name_plural = _("用餐事件")
        ordering = ["canteen", "date"]


class Forecast(CanteenOwned):
    """The forecast of one meal on one day, as last made before that day (a run replaces the
    days from its origin on and leaves earlier days alone, so the stored forecast of a past
    day is what the kitchen planned with)."""

    canteen = models.ForeignKey(
        Canteen, verbose_name=_("食堂"), on_delete=models.CASCADE, related_name="forecasts"
    )
    date = models.DateField(_("日期"))
    meal = models.CharField(_("餐次"), max_length=16, choices=Meal.choices, default=Meal.LUNCH)
    made_on = models.DateField(_("预测日"))
    p10 = models.PositiveIntegerField(_("P10"))
    p50 = models.PositiveIntegerField(_("预测人数"))
    p90 = models.PositiveIntegerField(_("P90"))
    model = models.CharField(_("模型"), max_length=32, default="guanjia")
    tags = models.CharField(_("特殊日"), max_length=128, blank=True)

    class Meta:
        verbose_name = _("就餐预测")
        verbose_name_plural = _("就餐预测")
        ordering = ["canteen", "date", "meal"]
        constraints = [
            models.UniqueConstraint(fields=["canteen", "date", "meal"], name="forecast_unique_day"),
        ]


# -- menus --------------------------------------------------------------------------------


class DishCategory(models.TextChoices):
    MEAT = "meat", _("荤菜")
    VEG = "veg", _("素菜")
    STAPLE = "staple", _("主食")
    SOUP = "soup", _("汤品")
    FRUIT = "fruit", _("水果")


class Ingredient(ScopedModel, ChangeLogged):
    """A raw material an agency's canteens buy, in one stock unit (kg, 个, L …)."""

    agency = models.ForeignKey(Agency, verbose_name=_("所属单位"), on_delete=models.CASCADE)
    name = models.CharField(_("名称"), max_length=64)
    unit = models.CharField(_("计量单位"), max_length=8, default="kg")
    category = models.CharField(
        _("类别"), max_length=32, blank=True, help_text=_("如 肉类、蔬菜、粮油")
    )
    shelf_life_days = models.PositiveSmallIntegerField(_("保质期（天）"), null=True, blank=True)

    scope_domain = "canteens"

    class Meta:
        verbose_name = _("食材")
        verbose_name_plural = _("食材")
        ordering = ["agency", "name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="ingredient_unique_name"),
        ]

    def __str__(self):
        return f"{self.name}（{self.unit}）"


class Dish(CanteenOwned):
    canteen = models.ForeignKey(
        Canteen, verbose_name=_("食堂"), on_delete=models.CASCADE, related_name="dishes"
    )
    name = models.CharField(_("菜名"), max_length=64)
    category = models.CharField(_("类别"), max_length=16, choices=DishCategory.choices)
    portion_g = models.PositiveIntegerField(_("每份重量（克）"), default=150)
    cost = models.DecimalField(
        _("每份成本（元）"), max_digits=8, decimal_places=2, default=Decimal("0")
    )
    allergens = models.CharField(_("过敏原"), max_length=128, blank=True, help_text=_("逗号分隔"))
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("菜品")
        verbose_name_plural = _("菜品")
        ordering = ["canteen", "category", "name"]
        constraints = [
            models.UniqueConstraint(fields=["canteen", "name"], name="dish_unique_name"),
        ]

    def __str__(self):
        return self.name


class RecipeLine(CanteenOwned):
    """One ingredient of a dish: quantity per portion in the ingredient's unit."""

    canteen = None  # reached through the dish
    dish = models.ForeignKey(
        Dish, verbose_name=_("菜品"), on_delete=models.CASCADE, related_name="recipe"
    )
    ingredient = models.ForeignKey(Ingredient, verbose_name=_("食材"), on_delete=models.PROTECT)
    quantity = models.DecimalField(
        _("每份用量"), max_digits=10, decimal_places=4, validators=POSITIVE_DECIMAL
    )

    scope_agency_field = "dish__canteen__agency"

    class Meta:
        verbose_name = _("配方")
        verbose_name_plural = _("配方")
        constraints = [
            models.UniqueConstraint(fields=["dish", "ingredient"], name="recipe_unique_line"),
        ]


class MenuPlan(CanteenOwned):
    """A week's menu (Monday to Sunday) of one canteen."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")

    canteen = models.ForeignKey(
        Canteen, verbose_name=_("食堂"), on_delete=models.CASCADE, related_name="menu_plans"
    )
    week_start = models.DateField(_("周一日期"))
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )

    class Meta:
        verbose_name = _("周菜单")
        verbose_name_plural = _("周菜单")
        ordering = ["canteen", "-week_start"]
        constraints = [
            models.UniqueConstraint(fields=["canteen", "week_start"], name="menu_unique_week"),
        ]


class MenuItem(CanteenOwned):
    canteen = None  # reached through the plan
    plan = models.ForeignKey(
        MenuPlan, verbose_name=_("周菜单"), on_delete=models.CASCADE, related_name="items"
    )
    date = models.DateField(_("日期"))
    meal = models.CharField(_("餐次"), max_length=16, choices=Meal.choices, default=Meal.LUNCH)
    dish = models.ForeignKey(Dish, verbose_name=_("菜品"), on_delete=models.PROTECT)

    scope_agency_field = "plan__canteen__agency"

    class Meta:
        verbose_name = _("菜单菜品")
        verbose_name_plural = _("菜单菜品")
        ordering = ["date", "meal", "dish__category"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "date", "meal", "dish"], name="menu_item_unique"
            ),
        ]


# -- procurement and stock ----------------------------------------------------------------


class Supplier(ScopedModel, ChangeLogged):
    agency = models.ForeignKey(Agency, verbose_name=_("所属单位"), on_delete=models.CASCADE)
    name = models.CharField(_("名称"), max_length=128)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    contact = models.CharField(_("联系人"), max_length=32, blank=True)
    phone = models.CharField(_("电话"), max_length=32, blank=True)
    categories = models.CharField(_("供应品类"), max_length=128, blank=True)
    licence_no = models.CharField(_("食品经营许可证号"), max_length=64, blank=True)
    licence_expiry = models.DateField(_("许可证有效期至"), null=True, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    scope_domain = "canteens"

    class Meta:
        verbose_name = _("供应商")
        verbose_name_plural = _("供应商")
        ordering = ["agency", "name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="supplier_unique_name"),
        ]

    def __str__(self):
        return self.name


class PurchaseRequest(CanteenOwned):
    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        INQUIRING = "inquiring", _("询价中")
        AWARDED = "awarded", _("已定供应商")
        RECEIVED = "received", _("已入库")
        CANCELLED = "cancelled", _("已取消")

    canteen = models.ForeignKey(
        Canteen, verbose_name=_("食堂"), on_delete=models.CASCADE, related_name="purchase_requests"
    )
    needed_on = models.DateField(_("需用日期"))
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    note = models.CharField(_("说明"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        User,
        verbose_name=_("申请人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    awarded = models.ForeignKey(
        "canteens.Quotation",
        verbose_name=_("选定报价"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    award_reason = models.CharField(
        _("选择理由"), max_length=255, blank=True, help_text=_("未选最低价时必填")
    )

    class Meta:
        verbose_name = _("采购申请")
        verbose_name_plural = _("采购申请")
        ordering = ["canteen", "-needed_on"]


class PurchaseLine(CanteenOwned):
    canteen = None
    request = models.ForeignKey(
        PurchaseRequest, verbose_name=_("采购申请"), on_delete=models.CASCADE, related_name="lines"
    )
    ingredient = models.ForeignKey(Ingredient, verbose_name=_("食材"), on_delete=models.PROTECT)
    quantity = models.DecimalField(
        _("数量"), max_digits=12, decimal_places=3, validators=POSITIVE_DECIMAL
    )
    estimated_price = models.DecimalField(
        _("预估单价（元）"), max_digits=10, decimal_places=2, default=Decimal("0")
    )

    scope_agency_field = "request__canteen__agency"

    class Meta:
        verbose_name = _("采购明细")
        verbose_name_plural = _("采购明细")
        constraints = [
            models.UniqueConstraint(fields=["request", "ingredient"], name="purchase_unique_line"),
        ]


class Quotation(CanteenOwned):
    """A supplier's answer to a price inquiry (询价) for one purchase request."""

    canteen = None
    request = models.ForeignKey(
        PurchaseRequest,
        verbose_name=_("采购申请"),
        on_delete=models.CASCADE,
        related_name="quotations",
    )
    supplier = models.ForeignKey(Supplier, verbose_name=_("供应商"), on_delete=models.PROTECT)
    received_on = models.DateField(_("报价日期"))
    valid_until = models.DateField(_("有效期至"))
    lead_time_days = models.PositiveSmallIntegerField(_("供货周期（天）"), default=1)

    scope_agency_field = "request__canteen__agency"

    class Meta:
        verbose_name = _("报价")
        verbose_name_plural = _("报价")
        constraints = [
            models.UniqueConstraint(
                fields=["request", "supplier"], name="quotation_unique_supplier"
            ),
        ]


class QuotationLine(CanteenOwned):
    """A quoted price for one line, per pack; the normalised unit price is per stock unit
    (pack_price / pack_size), so a 5 kg bag and a 500 g bag compare."""

    canteen = None
    quotation = models.ForeignKey(
        Quotation, verbose_name=_("报价"), on_delete=models.CASCADE, related_name="lines"
    )
    line = models.ForeignKey(PurchaseLine, verbose_name=_("采购明细"), on_delete=models.CASCADE)
    pack_size = models.DecimalField(
        _("每包装数量"), max_digits=10, decimal_places=3, default=Decimal("1"),
        help_text=_("以食材计量单位计"),
    )  # fmt: skip
    pack_price = models.DecimalField(_("每包装价格（元）"), max_digits=10, decimal_places=2)

    scope_agency_field = "quotation__request__canteen__agency"

    class Meta:
        verbose_name = _("报价明细")
        verbose_name_plural = _("报价明细")
        constraints = [
            models.CheckConstraint(condition=Q(pack_size__gt=0), name="quotation_pack_positive"),
            models.CheckConstraint(condition=Q(pack_price__gte=0), name="quotation_price_nonneg"),
        ]

    @property
    def unit_price(self) -> Decimal:
        return self.pack_price / self.pack_size


class StockMovement(CanteenOwned):
    """Stock in (receipt, at cost), out (issued to the kitchen), or written off (报损)."""

    class Kind(models.TextChoices):
        IN = "in", _("入库")
        OUT = "out", _("出库")
        LOSS = "loss", _("报损")

    canteen = models.ForeignKey(
        Canteen, verbose_name=_("食堂"), on_delete=models.CASCADE, related_name="stock_movements"
    )
    date = models.DateField(_("日期"))
    ingredient = models.ForeignKey(Ingredient, verbose_name=_("食材"), on_delete=models.PROTECT)
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices)
    quantity = models.DecimalField(
        _("数量"), max_digits=12, decimal_places=3, validators=POSITIVE_DECIMAL
    )
    unit_cost = models.DecimalField(
        _("单价（元）"), max_digits=10, decimal_places=2, default=Decimal("0")
    )
    request = models.ForeignKey(
        PurchaseRequest,
        verbose_name=_("采购申请"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    note = models.CharField(_("说明"), max_length=128, blank=True)

    class Meta:
        verbose_name = _("出入库")
        verbose_name_plural = _("出入库")
        ordering = ["canteen", "date"]
        indexes = [models.Index(fields=["canteen", "date"])]


# -- waste ---------------------------------------------------------------------------------


class WasteStream(models.TextChoices):
    """The four streams of the FLW Standard / WRAP practice; 倾销量 (DB50/T 9001—2022 3.3) is
    the unserved stream."""

    PREPARATION = "preparation", _("加工损耗")
    SPOILAGE = "spoilage", _("变质过期")
    UNSERVED = "unserved", _("倾销量（未售出成品）")
    PLATE = "plate", _("餐盘剩余")


class WasteRecord(CanteenOwned):
    """One weighing. Kitchen waste (餐厨垃圾) of 3.2 is the sum of all streams, edible and
    inedible."""

    canteen = models.ForeignKey(
        Canteen, verbose_name=_("食堂"), on_delete=models.CASCADE, related_name="waste_records"
    )
    date = models.DateField(_("日期"))
    meal = models.CharField(_("餐次"), max_length=16, choices=Meal.choices, default=Meal.LUNCH)
    stream = models.CharField(_("类别"), max_length=16, choices=WasteStream.choices)
    edible = models.BooleanField(
        _("可食部分"), default=True, help_text=_("骨头、果核、菜根等为不可食部分")
    )
    weight_kg = models.DecimalField(
        _("重量（千克）"), max_digits=9, decimal_places=3, validators=POSITIVE_DECIMAL
    )
    item = models.CharField(_("品名"), max_length=64, blank=True)
    recorded_by = models.ForeignKey(
        User,
        verbose_name=_("记录人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("称重记录")
        verbose_name_plural = _("称重记录")
        ordering = ["canteen", "-date"]
        indexes = [models.Index(fields=["canteen", "date"])]
        constraints = [
            models.CheckConstraint(condition=Q(weight_kg__gte=0), name="waste_weight_nonneg"),
        ]


class PlateObservation(CanteenOwned):
    """Trays observed at the tray return and how many were clean.

    Clean (光盘): no food left that could have been eaten — bones, shells, fruit stones and
    peel, and sauce film do not count; a grain of rice or a leaf left does. 光盘率 of
    DB50/T 9001—2022 3.1 = clean trays ÷ trays observed."""

    canteen = models.ForeignKey(
        Canteen, verbose_name=_("食堂"), on_delete=models.CASCADE, related_name="plate_observations"
    )
    date = models.DateField(_("日期"))
    meal = models.CharField(_("餐次"), max_length=16, choices=Meal.choices, default=Meal.LUNCH)
    trays_observed = models.PositiveIntegerField(_("观察餐盘数"))
    clean_trays = models.PositiveIntegerField(_("光盘数"))
    observer = models.CharField(_("观察人"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("光盘观察")
        verbose_name_plural = _("光盘观察")
        ordering = ["canteen", "-date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(clean_trays__lte=models.F("trays_observed")),
                name="plate_clean_le_observed",
            ),
        ]


# -- food safety ---------------------------------------------------------------------------


class DisinfectionLog(CanteenOwned):
    class Method(models.TextChoices):
        HEAT = "heat", _("热力消毒")
        STEAM = "steam", _("蒸汽消毒")
        CHEMICAL = "chemical", _("化学消毒")
        CABINET = "cabinet", _("消毒柜")

    canteen = models.ForeignKey(
        Canteen, verbose_name=_("食堂"), on_delete=models.CASCADE, related_name="disinfections"
    )
    date = models.DateField(_("日期"))
    meal = models.CharField(_("餐次"), max_length=16, choices=Meal.choices, default=Meal.LUNCH)
    items = models.CharField(_("消毒物品"), max_length=128, default="餐具")
    method = models.CharField(_("方式"), max_length=16, choices=Method.choices)
    minutes = models.PositiveSmallIntegerField(_("时长（分钟）"))
    temperature_c = models.PositiveSmallIntegerField(_("温度（℃）"), null=True, blank=True)
    operator = models.CharField(_("操作人"), max_length=32)

    class Meta:
        verbose_name = _("餐具消毒记录")
        verbose_name_plural = _("餐具消毒记录")
        ordering = ["canteen", "-date"]


class KitchenStaff(CanteenOwned):
    canteen = models.ForeignKey(
        Canteen, verbose_name=_("食堂"), on_delete=models.CASCADE, related_name="staff"
    )
    name = models.CharField(_("姓名"), max_length=32)
    post = models.CharField(_("岗位"), max_length=32, blank=True)
    health_cert_no = models.CharField(_("健康证号"), max_length=64, blank=True)
    health_cert_expiry = models.DateField(_("健康证有效期至"), null=True, blank=True)
    is_active = models.BooleanField(_("在岗"), default=True)

    class Meta:
        verbose_name = _("从业人员")
        verbose_name_plural = _("从业人员")
        ordering = ["canteen", "name"]


class SampleRetention(CanteenOwned):
    """留样: each dish of a meal kept ≥ 125 g for ≥ 48 h (GB 31654—2021 and 《餐饮服务食品
    安全操作规范》); the thresholds live in data/food_safety.json."""

    canteen = models.ForeignKey(
        Canteen, verbose_name=_("食堂"), on_delete=models.CASCADE, related_name="samples"
    )
    date = models.DateField(_("日期"))
    meal = models.CharField(_("餐次"), max_length=16, choices=Meal.choices, default=Meal.LUNCH)
    dish_name = models.CharField(_("菜品"), max_length=64)
    weight_g = models.PositiveIntegerField(_("留样重量（克）"))
    kept_hours = models.PositiveSmallIntegerField(_("留样时长（小时）"), default=48)
    keeper = models.CharField(_("留样人"), max_length=32)

    class Meta:
        verbose_name = _("留样记录")
        verbose_name_plural = _("留样记录")
        ordering = ["canteen", "-date"]


class SafetyInspection(CanteenOwned):
    class Kind(models.TextChoices):
        SELF = "self", _("自查")
        SUPERVISION = "supervision", _("监督检查")

    canteen = models.ForeignKey(
        Canteen, verbose_name=_("食堂"), on_delete=models.CASCADE, related_name="inspections"
    )
    date = models.DateField(_("检查日期"))
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.SELF)
    inspector = models.CharField(_("检查人"), max_length=64)
    summary = models.TextField(_("检查情况"), blank=True)

    class Meta:
        verbose_name = _("食品安全检查")
        verbose_name_plural = _("食品安全检查")
        ordering = ["canteen", "-date"]


class SafetyFinding(CanteenOwned):
    canteen = None
    inspection = models.ForeignKey(
        SafetyInspection, verbose_name=_("检查"), on_delete=models.CASCADE, related_name="findings"
    )
    description = models.CharField(_("问题"), max_length=255)
    deadline = models.DateField(_("整改期限"))
    rectified_on = models.DateField(_("整改完成日期"), null=True, blank=True)
    rectification = models.CharField(_("整改情况"), max_length=255, blank=True)

    scope_agency_field = "inspection__canteen__agency"

    class Meta:
        verbose_name = _("检查问题")
        verbose_name_plural = _("检查问题")
        ordering = ["deadline"]


# -- surveys ---------------------------------------------------------------------------------


class SurveyResponse(CanteenOwned):
    """One anonymous answer to the diner satisfaction form (no user, no address kept).
    Satisfied = an overall score of 4 or 5 out of 5."""

    canteen = models.ForeignKey(
        Canteen, verbose_name=_("食堂"), on_delete=models.CASCADE, related_name="survey_responses"
    )
    submitted_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    overall = models.PositiveSmallIntegerField(
        _("总体满意度"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    taste = models.PositiveSmallIntegerField(
        _("口味"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    variety = models.PositiveSmallIntegerField(
        _("品种"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    hygiene = models.PositiveSmallIntegerField(
        _("卫生"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    service = models.PositiveSmallIntegerField(
        _("服务"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.CharField(_("意见建议"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("满意度问卷")
        verbose_name_plural = _("满意度问卷")
        ordering = ["canteen", "-submitted_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(overall__gte=1, overall__lte=5), name="survey_overall_range"
            ),
        ]


# -- anti-food-waste evaluation ------------------------------------------------------------------


class EvaluationTemplate(ScopedModel, ChangeLogged):
    """The 反食品浪费工作成效评估 items and weights a region applies (data, editable)."""

    region = models.ForeignKey(
        Region, verbose_name=_("适用地区"), null=True, blank=True, on_delete=models.CASCADE,
        help_text=_("留空表示通用"),
    )  # fmt: skip
    name = models.CharField(_("名称"), max_length=128)
    source = models.CharField(_("依据"), max_length=255)
    pass_score = models.DecimalField(
        _("合格分"), max_digits=5, decimal_places=1, default=Decimal("60")
    )
    good_score = models.DecimalField(
        _("良好分"), max_digits=5, decimal_places=1, default=Decimal("80")
    )
    is_active = models.BooleanField(_("启用"), default=True)

    scope_domain = "canteens"
    scope_agency_field = None  # reference data: restrict() checks the permission only

    class Meta:
        verbose_name = _("评估模板")
        verbose_name_plural = _("评估模板")
        ordering = ["name"]

    def __str__(self):
        return self.name


class EvaluationItem(ScopedModel, ChangeLogged):
    class Method(models.TextChoices):
        INDICATOR = "indicator", _("指标自动计分")
        REVIEWER = "reviewer", _("评审人评分")

    template = models.ForeignKey(
        EvaluationTemplate, verbose_name=_("模板"), on_delete=models.CASCADE, related_name="items"
    )
    code = models.CharField(_("编号"), max_length=16)
    section = models.CharField(_("评估内容"), max_length=32, help_text=_("制度建设、措施落实…"))
    title = models.CharField(_("评估项"), max_length=255)
    weight = models.DecimalField(_("分值"), max_digits=5, decimal_places=1)
    method = models.CharField(_("计分方式"), max_length=16, choices=Method.choices)
    indicator = models.CharField(_("指标"), max_length=64, blank=True)
    # Indicator items score linearly from 0 at `zero_at` to full marks at `full_at` (either
    # order, so lower-is-better indicators work too).
    zero_at = models.DecimalField(
        _("零分值"), max_digits=12, decimal_places=3, null=True, blank=True
    )
    full_at = models.DecimalField(
        _("满分值"), max_digits=12, decimal_places=3, null=True, blank=True
    )
    guidance = models.CharField(_("评分说明"), max_length=255, blank=True)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    scope_domain = "canteens"
    scope_agency_field = None

    class Meta:
        verbose_name = _("评估项")
        verbose_name_plural = _("评估项")
        ordering = ["template", "order", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "code"], name="evaluation_item_unique_code"
            ),
        ]


class Evaluation(CanteenOwned):
    class Kind(models.TextChoices):
        SELF = "self", _("季度自评")
        SPOT_CHECK = "spot_check", _("抽查评估")

    class Status(models.TextChoices):
        DRAFT = "draft", _("填报中")
        SUBMITTED = "submitted", _("已提交")
        FINAL = "final", _("已定级")

    canteen = models.ForeignKey(
        Canteen, verbose_name=_("食堂"), on_delete=models.CASCADE, related_name="evaluations"
    )
    template = models.ForeignKey(
        EvaluationTemplate, verbose_name=_("模板"), on_delete=models.PROTECT
    )
    period = models.CharField(_("评估期"), max_length=8, help_text=_("季度，如 2026Q3"))
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.SELF)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    score = models.DecimalField(_("得分"), max_digits=5, decimal_places=1, null=True, blank=True)
    grade = models.CharField(_("等级"), max_length=8, blank=True)
    reviewer = models.ForeignKey(
        User,
        verbose_name=_("评审人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("反食品浪费评估")
        verbose_name_plural = _("反食品浪费评估")
        ordering = ["canteen", "-period"]
        constraints = [
            models.UniqueConstraint(
                fields=["canteen", "period", "kind"], name="evaluation_unique_period"
            ),
        ]


class EvaluationScore(CanteenOwned):
    canteen = None
    evaluation = models.ForeignKey(
        Evaluation, verbose_name=_("评估"), on_delete=models.CASCADE, related_name="scores"
    )
    item = models.ForeignKey(EvaluationItem, verbose_name=_("评估项"), on_delete=models.PROTECT)
    value = models.FloatField(_("指标值"), null=True, blank=True)
    score = models.DecimalField(_("得分"), max_digits=5, decimal_places=1, null=True, blank=True)
    evidence = models.FileField(_("佐证材料"), upload_to="canteens/evidence/%Y/", blank=True)
    note = models.CharField(_("评分说明"), max_length=255, blank=True)
    marked_by = models.ForeignKey(
        User,
        verbose_name=_("评分人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    scope_agency_field = "evaluation__canteen__agency"

    class Meta:
        verbose_name = _("评估得分")
        verbose_name_plural = _("评估得分")
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "item"], name="evaluation_score_unique"),
        ]
