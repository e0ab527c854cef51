"""Organisation, people, permissions and the audit trail — what every other app stands on."""

from __future__ import annotations

import hashlib

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import OuterRef, Q, Subquery
from django.db.models.functions import Length, Substr
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node, MP_NodeManager, MP_NodeQuerySet

from .scope import DataScope, RestrictedQuerySet, ScopedModel, permission_matches
from .validators import validate_region_code, validate_uscc


class ChangeLogged(models.Model):
    """Marks a model whose every create/update/delete lands in the audit trail."""

    audit_exclude: tuple[str, ...] = ()
    audit_fingerprint: tuple[str, ...] = ()  # recorded as a short digest (see audit.py)

    class Meta:
        abstract = True

    def audit_agency_id(self) -> int | None:
        path = self.scope_agency_field
        if path is None:
            return None
        if path == "":
            return self.pk
        obj = self
        for part in path.split("__"):
            obj = getattr(obj, part, None)
            if obj is None:
                return None
        return obj.pk


class ScopedTreeQuerySet(RestrictedQuerySet, MP_NodeQuerySet):
    def with_parent(self, field: str = "pk", name: str = "parent_pk", among=None):
        """Annotate `name` with `field` of each node's parent (None for a root), looked up
        among `among` (default: every node), e.g. `among=visible` gives None where the
        parent is not visible. One correlated subquery on the materialised path."""
        among = self.model.objects.all() if among is None else among
        parent_path = Substr(OuterRef("path"), 1, Length(OuterRef("path")) - self.model.steplen)
        parent = among.order_by().filter(path=parent_path).values(field)[:1]
        return self.annotate(**{name: Subquery(parent)})


class ScopedTreeManager(MP_NodeManager):
    def get_queryset(self):
        return ScopedTreeQuerySet(self.model, using=self._db).order_by("path")

    def restrict(self, user, action="view"):
        return self.get_queryset().restrict(user, action)


class Region(MP_Node, ScopedModel, ChangeLogged):
    """GB/T 2260 administrative division. Public reference data: no agency owns it, so
    restrict() only asks for the permission, not for an agency."""

    class Level(models.TextChoices):
        PROVINCE = "province", _("省级")
        CITY = "city", _("地级")
        COUNTY = "county", _("县级")

    code = models.CharField(
        _("行政区划代码"), max_length=6, unique=True, validators=[validate_region_code]
    )
    name = models.CharField(_("名称"), max_length=64)
    level = models.CharField(_("级别"), max_length=16, choices=Level.choices)

    scope_agency_field = None
    node_order_by = ["code"]
    objects = ScopedTreeManager()

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")

    def __str__(self):
        return self.name


class Agency(MP_Node, ScopedModel, ChangeLogged):
    """A bureau, centre or agency. The tree is the service hierarchy: a bureau serves the
    agencies below it, so "own agency and below" is one indexed prefix query on `path`."""

    class Kind(models.TextChoices):
        BUREAU = "bureau", _("机关事务管理局")
        CENTRE = "centre", _("机关事务服务中心")
        SERVICE_UNIT = "service_unit", _("局属事业单位")
        AGENCY = "agency", _("机关单位")
        CANTEEN_OPERATOR = "canteen_operator", _("食堂运营单位")
        MOTORPOOL = "motorpool", _("车队")

    name = models.CharField(_("单位名称"), max_length=128, unique=True)
    short_name = models.CharField(_("简称"), max_length=64, blank=True)
    kind = models.CharField(_("单位类型"), max_length=32, choices=Kind.choices, default=Kind.AGENCY)
    region = models.ForeignKey(
        Region, verbose_name=_("所在地区"), on_delete=models.PROTECT, related_name="agencies"
    )
    credit_code = models.CharField(
        _("统一社会信用代码"),
        max_length=18,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_uscc],
    )
    contact_person = models.CharField(_("联系人"), max_length=32, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=32, blank=True)
    address = models.CharField(_("地址"), max_length=255, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    scope_agency_field = ""
    audit_exclude = ("numchild",)
    objects = ScopedTreeManager()

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")

    def __str__(self):
        return self.name


class CollaborationGroup(ScopedModel, ChangeLogged):
    """A cross-region working group (协作小组). Its convener owns it; members may read it."""

    name = models.CharField(_("名称"), max_length=128, unique=True)
    description = models.TextField(_("说明"), blank=True)
    agency = models.ForeignKey(
        Agency, verbose_name=_("牵头单位"), on_delete=models.PROTECT, related_name="convened_groups"
    )
    members = models.ManyToManyField(
        Agency, verbose_name=_("成员单位"), related_name="collaboration_groups", blank=True
    )

    class Meta:
        verbose_name = _("协作小组")
        verbose_name_plural = _("协作小组")
        ordering = ["name"]

    def __str__(self):
        return self.name

    @classmethod
    def scope_extra_q(cls, user, action):
        if action != "view" or not user.agency_id:
            return None
        mine = cls.members.through.objects.filter(agency_id=user.agency_id)
        return Q(pk__in=mine.values("collaborationgroup_id"))


class Role(ScopedModel, ChangeLogged):
    """Permissions per domain ("org.view", "vehicles.*", "*") and one data scope."""

    name = models.CharField(_("角色名称"), max_length=64)
    key = models.SlugField(_("角色标识"), max_length=64, unique=True)
    description = models.CharField(_("说明"), max_length=255, blank=True)
    permissions = models.JSONField(_("权限"), default=list, blank=True)
    data_scope = models.CharField(
        _("数据范围"), max_length=1, choices=DataScope.choices, default=DataScope.AGENCY
    )
    custom_agencies = models.ManyToManyField(
        Agency, verbose_name=_("自定数据范围"), blank=True, related_name="+"
    )
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("所属单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="roles",
        help_text=_("为空表示全平台通用角色"),
    )
    enabled = models.BooleanField(_("启用"), default=True)

    scope_domain = "system"

    class Meta:
        verbose_name = _("角色")
        verbose_name_plural = _("角色")
        ordering = ["key"]

    def __str__(self):
        return self.name

    @classmethod
    def scope_extra_q(cls, user, action):
        # Platform-wide roles are a shared catalogue: whoever may view roles sees them.
        return Q(agency__isnull=True) if action == "view" else None

    def grants(self, wanted: str) -> bool:
        return self.enabled and any(permission_matches(p, wanted) for p in self.permissions)


class UserManager(DjangoUserManager.from_queryset(RestrictedQuerySet)):
    pass


class User(AbstractUser, ScopedModel, ChangeLogged):
    real_name = models.CharField(_("姓名"), max_length=64, blank=True)
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("所属单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    roles = models.ManyToManyField(Role, verbose_name=_("角色"), blank=True, related_name="users")

    scope_domain = "system"
    scope_owner_field = "pk"
    audit_exclude = ("last_login",)
    audit_fingerprint = ("password",)
    objects = UserManager()

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        ordering = ["username"]

    def __str__(self):
        return self.real_name or self.username

    def roles_with(self, wanted: str) -> list[Role]:
        """Enabled roles granting `wanted`, cached on this user object for one request."""
        cache = getattr(self, "_role_cache", None)
        if cache is None:
            cache = self._role_cache = list(
                self.roles.filter(enabled=True).prefetch_related("custom_agencies")
            )
        return [r for r in cache if r.grants(wanted)]

    def can(self, wanted: str) -> bool:
        return self.is_superuser or bool(self.roles_with(wanted))


class ApiToken(ScopedModel, ChangeLogged):
    """A bearer token for programs. Only its SHA-256 digest is kept: the token is
    high-entropy random, so a slow password hash would buy nothing."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("名称"), max_length=64, blank=True)
    prefix = models.CharField(_("前缀"), max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    expires_at = models.DateTimeField(_("过期时间"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    scope_domain = "system"
    scope_agency_field = "user__agency"
    audit_exclude = ("digest", "last_used_at")
    scope_owner_field = "user"

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self):
        return f"{self.prefix}… ({self.name or self.user})"

    @staticmethod
    def digest_of(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()


class AuditRecord(ScopedModel):
    """What every log row has: when, who, under which agency. Readable within the data
    scope of the "audit" domain; "only own records" means rows about one's own actions."""

    time = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    scope_domain = "audit"
    scope_owner_field = "user"

    class Meta:
        abstract = True
        ordering = ["-time", "-pk"]


class ObjectChange(AuditRecord):
    """One create/update/delete of one object: the audit trail (NetBox's ObjectChange)."""

    class Action(models.TextChoices):
        CREATE = "create", _("新增")
        UPDATE = "update", _("修改")
        DELETE = "delete", _("删除")

    user_name = models.CharField(_("操作人"), max_length=150)
    request_id = models.CharField(_("请求编号"), max_length=36, db_index=True, blank=True)
    source = models.CharField(_("来源"), max_length=16)  # ui / api / cli / import / system
    action = models.CharField(_("动作"), max_length=8, choices=Action.choices)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(_("对象"), max_length=200)
    before = models.JSONField(_("修改前"), null=True, blank=True)
    after = models.JSONField(_("修改后"), null=True, blank=True)

    class Meta(AuditRecord.Meta):
        verbose_name = _("变更记录")
        verbose_name_plural = _("变更记录")
        indexes = [models.Index(fields=["content_type", "object_id"])]


class OperationLog(AuditRecord):
    """操作日志: every state-changing request, whatever it changed (RuoYi's sys_oper_log)."""

    user_name = models.CharField(_("操作人"), max_length=150, blank=True)
    request_id = models.CharField(_("请求编号"), max_length=36, db_index=True)
    method = models.CharField(_("方法"), max_length=8)
    path = models.CharField(_("地址"), max_length=255)
    view_name = models.CharField(_("功能"), max_length=128, blank=True)
    status_code = models.PositiveSmallIntegerField(_("状态码"))
    duration_ms = models.PositiveIntegerField(_("耗时(毫秒)"))
    ip = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)

    class Meta(AuditRecord.Meta):
        verbose_name = _("操作日志")
        verbose_name_plural = _("操作日志")


class LoginLog(AuditRecord):
    """登录日志: successful and failed logins, and lockouts."""

    username = models.CharField(_("登录名"), max_length=150)
    success = models.BooleanField(_("成功"))
    message = models.CharField(_("说明"), max_length=128, blank=True)
    ip = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    user_agent = models.CharField(_("浏览器"), max_length=255, blank=True)

    class Meta(AuditRecord.Meta):
        verbose_name = _("登录日志")
        verbose_name_plural = _("登录日志")


class Heartbeat(models.Model):
    """Last sign of life of a background component (the task worker), for /healthz."""

    name = models.CharField(max_length=32, primary_key=True)
    seen_at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"


class CalendarDay(ScopedModel, ChangeLogged):
    """An entry of the editable calendar table: a day declared a workday or a day off.

    chinese-calendar knows the State Council's holiday arrangements (放假安排, with the
    adjusted working days, 调休) only up to the last year it was released for; each year's
    notice appears around November. An administrator keys the new arrangements here the day
    they are published, and an entry here also wins over the package (a local closure, a
    correction)."""

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("工作日"))
    name = models.CharField(
        _("名称"), max_length=64, blank=True, help_text=_("如 春节、国庆节调休")
    )
    source = models.CharField(
        _("依据"), max_length=255, blank=True, help_text=_("如 国办发明电〔2026〕X号")
    )

    scope_domain = "system"
    scope_agency_field = None  # the calendar is the platform's, not an agency's

    class Meta:
        verbose_name = _("节假日调整")
        verbose_name_plural = _("节假日调整")
        ordering = ["date"]

    def __str__(self):
        kind = _("上班") if self.is_workday else _("休息")
        return f"{self.date} {kind} {self.name}".strip()


class RuleValue(ScopedModel, ChangeLogged):
    """A number a domain's rules compare against, with the clause or practice it comes from;
    a row without an agency is the default, an agency's own row overrides it for that agency
    (and only it). Each domain keeps its own table of these (vehicles' thresholds, canteens'
    rules), loaded from the JSON beside its code."""

    key = models.CharField(_("标识"), max_length=64)
    value = models.DecimalField(_("数值"), max_digits=14, decimal_places=4)
    unit = models.CharField(_("单位"), max_length=16, blank=True)
    label = models.CharField(_("名称"), max_length=128)
    agency = models.ForeignKey(
        Agency, verbose_name=_("单位"), null=True, blank=True, on_delete=models.CASCADE
    )
    source = models.CharField(_("依据"), max_length=255)

    scope_agency_field = None  # reference data: restrict() checks the permission only

    class Meta:
        abstract = True
        ordering = ["key"]

    def __str__(self):
        return f"{self.label} {self.value}{self.unit}"

    @classmethod
    def applying(cls, key: str, agency=None):
        """The row that applies to `agency`: its own override, else the default.
        LookupError when the key has no default."""
        rows = {r.agency_id: r for r in cls.objects.filter(key=key)}
        chosen = (agency is not None and rows.get(agency.pk)) or rows.get(None)
        if chosen is None:
            raise LookupError(_("规则 %(k)s 未配置") % {"k": key})
        return chosen
