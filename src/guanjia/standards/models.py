"""The standards library: standards down to the clause, their terms and references, and the
quantitative requirements that link a clause to an indicator (the product's spine)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanjia.core.models import Agency, ChangeLogged, CollaborationGroup, Region, User
from guanjia.core.scope import ScopedModel


class Standard(ScopedModel, ChangeLogged):
    class Level(models.TextChoices):
        NATIONAL = "national", _("国家标准")
        INDUSTRY = "industry", _("行业标准")
        LOCAL = "local", _("地方标准")
        GROUP = "group", _("团体标准")
        INTERNAL = "internal", _("内部标准")

    class Status(models.TextChoices):
        DRAFTING = "drafting", _("起草中")
        SOLICITING = "soliciting", _("征求意见")
        UNDER_REVIEW = "under_review", _("审查中")
        APPROVED = "approved", _("已批准")
        PUBLISHED = "published", _("已发布")
        IN_FORCE = "in_force", _("现行")
        SUPERSEDED = "superseded", _("被代替")
        WITHDRAWN = "withdrawn", _("废止")

    code = models.CharField(_("标准编号"), max_length=64)
    code_key = models.CharField(
        _("编号检索键"), max_length=64, unique=True, help_text=_("规范化编号，如 DB50/T9001-2022")
    )
    code_prefix = models.CharField(_("代号"), max_length=24)  # "DB50/T", "GB", "T/CQJG"
    code_number = models.CharField(_("顺序号"), max_length=24)
    year = models.PositiveSmallIntegerField(_("年代号"), null=True, blank=True)
    title = models.CharField(_("标准名称"), max_length=255)
    english_title = models.CharField(_("英文名称"), max_length=255, blank=True)
    level = models.CharField(_("层级"), max_length=16, choices=Level.choices)
    mandatory = models.BooleanField(_("强制性"), default=False)
    region = models.ForeignKey(
        Region, verbose_name=_("适用地区"), null=True, blank=True, on_delete=models.PROTECT
    )
    issuer = models.CharField(_("发布机构"), max_length=128, blank=True)
    ics = models.CharField("ICS", max_length=32, blank=True)
    ccs = models.CharField("CCS", max_length=32, blank=True)
    issue_date = models.DateField(_("发布日期"), null=True, blank=True)
    effective_date = models.DateField(_("实施日期"), null=True, blank=True)
    withdrawn_date = models.DateField(_("废止日期"), null=True, blank=True)
    stage = models.CharField(
        _("阶段"),
        max_length=16,
        choices=Status.choices,
        default=Status.PUBLISHED,
        help_text=_("起草流程所处阶段；发布后的状态由日期与代替关系推导"),
    )
    replaces = models.ManyToManyField(
        "self", verbose_name=_("代替"), symmetrical=False, related_name="replaced_by", blank=True
    )
    agency = models.ForeignKey(
        Agency, verbose_name=_("维护单位"), on_delete=models.PROTECT, related_name="standards"
    )
    is_public = models.BooleanField(
        _("公开"), default=True, help_text=_("已发布的国家、行业、地方、团体标准对所有用户可见")
    )
    shared_with = models.ManyToManyField(
        CollaborationGroup, verbose_name=_("共享协作小组"), blank=True, related_name="standards"
    )
    source_file = models.FileField(_("原始文件"), upload_to="standards/", blank=True)
    source_format = models.CharField(_("原始格式"), max_length=8, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    scope_domain = "standards"

    class Meta:
        verbose_name = _("标准")
        verbose_name_plural = _("标准")
        ordering = ["code_prefix", "code_number", "-year"]

    def __str__(self):
        return f"{self.code} {self.title}"

    @classmethod
    def scope_extra_q(cls, user, action):
        """Published standards are public documents; drafts and internal standards are read
        by their agency's scope and by the collaboration groups they are shared with."""
        if action != "view":
            return None
        q = Q(is_public=True)
        if user.agency_id:
            groups = CollaborationGroup.members.through.objects.filter(agency_id=user.agency_id)
            q |= Q(shared_with__in=groups.values("collaborationgroup_id"))
        return q


class Clause(ScopedModel):
    """One numbered clause (章、条) of a standard, in document order."""

    class Kind(models.TextChoices):
        SCOPE = "scope", _("范围")
        REFERENCES = "references", _("规范性引用文件")
        TERM = "term", _("术语")
        REQUIREMENT = "requirement", _("要求（应）")
        RECOMMENDATION = "recommendation", _("推荐（宜）")
        PERMISSION = "permission", _("允许（可）")
        POSSIBILITY = "possibility", _("能力（能）")
        INFORMATIVE = "informative", _("陈述")
        HEADING = "heading", _("章标题")

    standard = models.ForeignKey(Standard, on_delete=models.CASCADE, related_name="clauses")
    number = models.CharField(_("条款号"), max_length=32)
    title = models.CharField(_("标题"), max_length=255, blank=True)
    text = models.TextField(_("内容"), blank=True)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    depth = models.PositiveSmallIntegerField(_("层级"))
    position = models.PositiveIntegerField(_("顺序"))

    scope_domain = "standards"
    scope_agency_field = "standard__agency"

    class Meta:
        verbose_name = _("条款")
        verbose_name_plural = _("条款")
        ordering = ["standard", "position"]
        constraints = [
            models.UniqueConstraint(fields=["standard", "position"], name="clause_position"),
        ]

    def __str__(self):
        return f"{self.number} {self.title or self.text[:30]}"


class Term(ScopedModel):
    standard = models.ForeignKey(Standard, on_delete=models.CASCADE, related_name="terms")
    number = models.CharField(_("条款号"), max_length=32)
    term = models.CharField(_("术语"), max_length=128)
    english = models.CharField(_("英文对应词"), max_length=255, blank=True)
    definition = models.TextField(_("定义"))

    scope_domain = "standards"
    scope_agency_field = "standard__agency"

    class Meta:
        verbose_name = _("术语")
        verbose_name_plural = _("术语")
        ordering = ["standard", "number"]

    def __str__(self):
        return self.term


class Reference(ScopedModel):
    """A normative reference, parsed into a code; linked to the library entry when present."""

    standard = models.ForeignKey(Standard, on_delete=models.CASCADE, related_name="references")
    raw = models.CharField(_("原文"), max_length=255)
    code = models.CharField(_("引用编号"), max_length=64)
    code_key = models.CharField(max_length=64, db_index=True)
    dated = models.BooleanField(_("注日期"))
    title = models.CharField(_("名称"), max_length=255, blank=True)
    target = models.ForeignKey(
        Standard,
        verbose_name=_("库内标准"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cited_by",
    )

    scope_domain = "standards"
    scope_agency_field = "standard__agency"

    class Meta:
        verbose_name = _("规范性引用")
        verbose_name_plural = _("规范性引用")
        ordering = ["standard", "pk"]

    def __str__(self):
        return self.raw


class Requirement(ScopedModel, ChangeLogged):
    """A quantitative requirement of a clause: subject op value unit, with its strength;
    linked to an indicator key once a person confirms the link."""

    class Op(models.TextChoices):
        GE = ">=", "≥"
        GT = ">", ">"
        LE = "<=", "≤"
        LT = "<", "<"
        EQ = "==", "="

    class Strength(models.TextChoices):
        SHALL = "shall", _("应")
        SHOULD = "should", _("宜")
        MAY = "may", _("可")

    clause = models.ForeignKey(Clause, on_delete=models.CASCADE, related_name="requirements")
    subject = models.CharField(_("对象"), max_length=255)
    op = models.CharField(_("比较"), max_length=2, choices=Op.choices)
    value = models.DecimalField(_("阈值"), max_digits=14, decimal_places=4)
    unit = models.CharField(_("单位"), max_length=32, blank=True)
    strength = models.CharField(_("要求强度"), max_length=8, choices=Strength.choices)
    indicator_key = models.CharField(_("指标"), max_length=64, blank=True)
    confirmed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    scope_domain = "standards"
    scope_agency_field = "clause__standard__agency"

    class Meta:
        verbose_name = _("量化要求")
        verbose_name_plural = _("量化要求")
        ordering = ["clause__standard", "clause__position", "pk"]

    def __str__(self):
        return f"{self.subject} {self.op} {self.value}{self.unit}"
