"""The standards library: standards down to the clause, their terms and references, and the
quantitative requirements that link a clause to an indicator (the product's spine)."""

from __future__ import annotations

from datetime import date

from django.db import models
from django.db.models import Case, Exists, IntegerField, OuterRef, Q, Value, When
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node

from guanjia.core.models import (
    Agency,
    ChangeLogged,
    CollaborationGroup,
    Region,
    ScopedTreeManager,
    User,
)
from guanjia.core.scope import RestrictedQuerySet, ScopedModel

# Stages a standard passes through before it is published; from publication on, its status
# is derived from its dates and from the editions that replace it.
PRE_PUBLICATION = ("drafting", "soliciting", "under_review", "approved")
# Ranking at equal relevance: the edition in force first, withdrawn last.
STATUS_RANK = {
    "in_force": 0,
    "published": 1,
    "approved": 2,
    "under_review": 3,
    "soliciting": 4,
    "drafting": 5,
    "superseded": 6,
    "withdrawn": 7,
}


def _effective_by(prefix: str, today: date) -> Q:
    """A standard (at `prefix`) has taken effect by `today`: its effective date has come, or
    without one its issue date, or it carries no dates at all (an entry typed in by hand)."""
    p = f"{prefix}__" if prefix else ""
    return (
        Q(**{f"{p}effective_date__lte": today})
        | Q(**{f"{p}effective_date__isnull": True, f"{p}issue_date__lte": today})
        | Q(**{f"{p}effective_date__isnull": True, f"{p}issue_date__isnull": True})
    )


class StandardQuerySet(RestrictedQuerySet):
    def with_status(self, today: date | None = None):
        """Annotate `status` (derived, see `derived_status`) and `status_rank` (0 = in
        force … 7 = withdrawn), so lists can filter and rank by status in the database."""
        today = today or date.today()
        through = Standard.replaces.through
        replaced_in_force = Exists(
            through.objects.filter(to_standard=OuterRef("pk"))
            .exclude(from_standard__stage__in=PRE_PUBLICATION)
            .filter(_effective_by("from_standard", today))
        )
        status = Case(
            When(stage__in=PRE_PUBLICATION, then="stage"),
            When(stage="withdrawn", then=Value("withdrawn")),
            When(withdrawn_date__lte=today, then=Value("withdrawn")),
            When(stage="superseded", then=Value("superseded")),
            When(replaced_in_force, then=Value("superseded")),
            When(effective_date__gt=today, then=Value("published")),
            When(effective_date__isnull=True, issue_date__gt=today, then=Value("published")),
            default=Value("in_force"),
            output_field=models.CharField(),
        )
        rank = Case(
            *(When(status=k, then=Value(v)) for k, v in STATUS_RANK.items()),
            default=Value(9),
            output_field=IntegerField(),
        )
        return self.annotate(status=status).annotate(status_rank=rank)


def derived_status(standard: Standard, today: date | None = None) -> str:
    """Where a standard stands on `today`: its drafting stage before publication; then
    published (before its effective date) → in_force → superseded (an edition replacing it
    has taken effect) or withdrawn (withdrawal date reached). Same rule as
    `Standard.objects.with_status()` computes in the database."""
    today = today or date.today()
    if standard.stage in PRE_PUBLICATION:
        return standard.stage
    if standard.stage == "withdrawn" or (
        standard.withdrawn_date and standard.withdrawn_date <= today
    ):
        return "withdrawn"
    if standard.stage == "superseded":
        return "superseded"
    if standard.pk:
        newer = standard.replaced_by.exclude(stage__in=PRE_PUBLICATION)
        if newer.filter(_effective_by("", today)).exists():
            return "superseded"
    effective = standard.effective_date or standard.issue_date
    if effective and effective > today:
        return "published"
    return "in_force"


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
    foreword = models.TextField(_("前言"), blank=True)
    replaces_keys = models.CharField(
        _("代替编号"),
        max_length=255,
        blank=True,
        help_text=_("文本中“代替…”所列编号的检索键，以空格分隔；被代替标准入库时据此关联"),
    )
    clause_count = models.PositiveIntegerField(_("条款数"), default=0)
    content_digest = models.CharField(
        _("内容摘要"), max_length=64, blank=True, help_text=_("条款、术语、引用的 SHA-256")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    scope_domain = "standards"
    # source_file: core's audit serializer cannot write a FieldFile to JSON yet (reported);
    # the import is still recorded through clause_count, content_digest and source_format.
    audit_exclude = ("updated_at",)
    objects = StandardQuerySet.as_manager()

    class Meta:
        verbose_name = _("标准")
        verbose_name_plural = _("标准")
        ordering = ["code_prefix", "code_number", "-year"]
        indexes = [models.Index(fields=["code_prefix", "code_number"], name="standard_undated")]

    def __str__(self):
        return f"{self.code} {self.title}"

    @property
    def undated_key(self) -> str:
        return f"{self.code_prefix}{self.code_number}"

    @property
    def status(self) -> str:
        """The derived status: annotated by `with_status()` when the row came from such a
        query, else computed for today."""
        if "_status" in self.__dict__:
            return self.__dict__["_status"]
        return derived_status(self)

    @status.setter
    def status(self, value: str) -> None:
        self.__dict__["_status"] = value

    def get_status_display(self) -> str:
        return str(dict(self.Status.choices).get(self.status, self.status))

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
    annex = models.CharField(
        _("附录性质"),
        max_length=12,
        blank=True,
        choices=[("normative", _("规范性")), ("informative", _("资料性"))],
        help_text=_("仅附录标题条款：规范性附录或资料性附录"),
    )
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
        ordering = ["standard", "pk"]

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


# -- frameworks and coverage ----------------------------------------------------------------


class FrameworkNode(MP_Node, ScopedModel, ChangeLogged):
    """A node of a standard-system framework (标准体系框架); a root is a framework.

    Chongqing's "3+7N", Sichuan's "8+N" or an agency's own system: data a bureau edits,
    not code. Every node carries its framework's owner agency and visibility (copied from
    the root by the services), so `restrict()` filters nodes as it filters frameworks: a
    public framework is read by everyone holding standards.view, a private one only within
    its owner's scope."""

    name = models.CharField(_("名称"), max_length=128)
    code = models.CharField(_("体系编号"), max_length=32, blank=True, help_text=_("如 1、1.2"))
    description = models.TextField(_("说明"), blank=True)
    agency = models.ForeignKey(
        Agency, verbose_name=_("维护单位"), on_delete=models.PROTECT, related_name="frameworks"
    )
    is_public = models.BooleanField(_("公开"), default=True)
    standards = models.ManyToManyField(
        Standard, verbose_name=_("标准"), blank=True, related_name="framework_nodes"
    )

    scope_domain = "standards"
    audit_exclude = ("numchild",)
    objects = ScopedTreeManager()

    class Meta:
        verbose_name = _("标准体系节点")
        verbose_name_plural = _("标准体系节点")

    def __str__(self):
        return f"{self.code} {self.name}".strip()

    @classmethod
    def scope_extra_q(cls, user, action):
        return Q(is_public=True) if action == "view" else None

    @property
    def framework_path(self) -> str:
        return self.path[: self.steplen]


class AgencyFunction(ScopedModel, ChangeLogged):
    """One function (职能) of an agency, and the standards that cover it (the coverage
    links). A function is covered when at least one linked standard is in force."""

    agency = models.ForeignKey(
        Agency, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="functions"
    )
    name = models.CharField(_("职能"), max_length=128)
    description = models.TextField(_("说明"), blank=True)
    node = models.ForeignKey(
        FrameworkNode,
        verbose_name=_("体系节点"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="functions",
    )
    standards = models.ManyToManyField(
        Standard, verbose_name=_("覆盖标准"), blank=True, related_name="covered_functions"
    )

    scope_domain = "standards"

    class Meta:
        verbose_name = _("单位职能")
        verbose_name_plural = _("单位职能")
        ordering = ["agency", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="agency_function_name"),
        ]

    def __str__(self):
        return self.name


# -- joint drafting -------------------------------------------------------------------------


class DraftVersion(ScopedModel, ChangeLogged):
    """A snapshot of a draft's clauses (征求意见稿、送审稿 …), numbered 1, 2, …"""

    standard = models.ForeignKey(Standard, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("版本号"))
    note = models.CharField(_("说明"), max_length=128, blank=True)
    clauses = models.JSONField(_("条款快照"), default=list)  # [[number, title, text], …]
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    scope_domain = "standards"
    scope_agency_field = "standard__agency"
    audit_exclude = ("clauses",)

    class Meta:
        verbose_name = _("草案版本")
        verbose_name_plural = _("草案版本")
        ordering = ["standard", "number"]
        constraints = [
            models.UniqueConstraint(fields=["standard", "number"], name="draft_version_number"),
        ]

    def __str__(self):
        return f"{self.standard.code} v{self.number}"

    @classmethod
    def scope_extra_q(cls, user, action):
        if action != "view" or not user.agency_id:
            return None
        periods = CommentPeriod.objects.filter(group__members=user.agency_id)
        return Q(pk__in=periods.values("version_id"))


class CommentPeriod(ScopedModel, ChangeLogged):
    """A comment period (征求意见) on one version of a draft, open to the agencies of a
    collaboration group from `opens` to `closes` (both inclusive)."""

    standard = models.ForeignKey(Standard, on_delete=models.CASCADE, related_name="comment_periods")
    version = models.ForeignKey(
        DraftVersion, on_delete=models.PROTECT, related_name="comment_periods"
    )
    group = models.ForeignKey(
        CollaborationGroup,
        verbose_name=_("征求意见范围"),
        on_delete=models.PROTECT,
        related_name="comment_periods",
    )
    opens = models.DateField(_("开始日期"))
    closes = models.DateField(_("截止日期"))

    scope_domain = "standards"
    scope_agency_field = "standard__agency"

    class Meta:
        verbose_name = _("征求意见")
        verbose_name_plural = _("征求意见")
        ordering = ["-opens", "pk"]

    def __str__(self):
        return f"{self.standard.code} {self.opens}—{self.closes}"

    @classmethod
    def scope_extra_q(cls, user, action):
        if action != "view" or not user.agency_id:
            return None
        return Q(group__members=user.agency_id)

    def is_open(self, today: date) -> bool:
        return self.opens <= today <= self.closes


class Comment(ScopedModel, ChangeLogged):
    """One comment on one clause (or on the whole draft), and how the drafters dealt
    with it (采纳 / 部分采纳 / 未采纳 with the reason)."""

    class Disposition(models.TextChoices):
        PENDING = "pending", _("待处理")
        ADOPTED = "adopted", _("采纳")
        PARTLY = "partly", _("部分采纳")
        REJECTED = "rejected", _("未采纳")

    period = models.ForeignKey(CommentPeriod, on_delete=models.CASCADE, related_name="comments")
    clause_number = models.CharField(_("章条编号"), max_length=32, blank=True)
    agency = models.ForeignKey(
        Agency, verbose_name=_("提出单位"), on_delete=models.PROTECT, related_name="+"
    )
    author = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(_("意见内容"))
    disposition = models.CharField(
        _("处理意见"), max_length=8, choices=Disposition.choices, default=Disposition.PENDING
    )
    reason = models.TextField(_("处理说明"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    scope_domain = "standards"
    scope_agency_field = "period__standard__agency"  # the drafters deal with the comments
    scope_owner_field = "author"

    class Meta:
        verbose_name = _("意见")
        verbose_name_plural = _("意见")
        ordering = ["period", "pk"]

    def __str__(self):
        return f"{self.clause_number or '总体'}：{self.text[:30]}"

    @classmethod
    def scope_extra_q(cls, user, action):
        """A commenting agency reads its own comments (and how they were dealt with)."""
        if action != "view" or not user.agency_id:
            return None
        return Q(agency_id=user.agency_id)


# -- experts ---------------------------------------------------------------------------------


class Expert(ScopedModel, ChangeLogged):
    """A standardisation expert of an agency, who can be asked to review other agencies'
    drafts."""

    name = models.CharField(_("姓名"), max_length=64)
    field = models.CharField(_("专业领域"), max_length=128, blank=True)
    title = models.CharField(_("职称"), max_length=64, blank=True)
    agency = models.ForeignKey(
        Agency, verbose_name=_("所在单位"), on_delete=models.PROTECT, related_name="experts"
    )
    region = models.ForeignKey(
        Region, verbose_name=_("地区"), null=True, blank=True, on_delete=models.PROTECT
    )

    scope_domain = "standards"

    class Meta:
        verbose_name = _("专家")
        verbose_name_plural = _("专家")
        ordering = ["agency", "name", "pk"]

    def __str__(self):
        return self.name


class ReviewAssignment(ScopedModel, ChangeLogged):
    """An expert asked to review a draft (never a draft of the expert's own agency)."""

    standard = models.ForeignKey(
        Standard, verbose_name=_("草案"), on_delete=models.CASCADE, related_name="reviews"
    )
    expert = models.ForeignKey(
        Expert, verbose_name=_("专家"), on_delete=models.PROTECT, related_name="reviews"
    )
    assigned_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField(auto_now_add=True)

    scope_domain = "standards"
    scope_agency_field = "standard__agency"

    class Meta:
        verbose_name = _("审查专家")
        verbose_name_plural = _("审查专家")
        ordering = ["standard", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["standard", "expert"], name="review_once_per_expert")
        ]

    def __str__(self):
        return f"{self.expert} → {self.standard}"


class Document(ScopedModel, ChangeLogged):
    """A working document of an agency (a report, a notice, a reference file), with its text
    read out of .txt/.md/.docx so it can be searched."""

    title = models.CharField(_("标题"), max_length=255)
    file = models.FileField(_("文件"), upload_to="documents/")
    tags = models.CharField(_("标签"), max_length=255, blank=True, help_text=_("以空格分隔"))
    text = models.TextField(_("提取文本"), blank=True)
    agency = models.ForeignKey(
        Agency, verbose_name=_("所属单位"), on_delete=models.PROTECT, related_name="documents"
    )
    uploaded_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    scope_domain = "standards"
    audit_exclude = ("text",)

    class Meta:
        verbose_name = _("文档")
        verbose_name_plural = _("文档")
        ordering = ["-uploaded_at", "-pk"]

    def __str__(self):
        return self.title


class StandardAdoption(ScopedModel, ChangeLogged):
    """An agency applies a standard it is not bound to by region: a 川渝 mutual recognition
    (a Chongqing district centre applying a Sichuan DB51 standard), a group standard, or
    another agency's internal standard. The adoption covers the agency and those below it."""

    agency = models.ForeignKey(
        Agency, verbose_name=_("采用单位"), on_delete=models.CASCADE, related_name="adoptions"
    )
    standard = models.ForeignKey(
        Standard, verbose_name=_("标准"), on_delete=models.CASCADE, related_name="adoptions"
    )
    adopted_on = models.DateField(_("采用日期"))
    note = models.CharField(_("说明"), max_length=255, blank=True)

    scope_domain = "standards"

    class Meta:
        verbose_name = _("标准采用")
        verbose_name_plural = _("标准采用")
        ordering = ["agency", "standard"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "standard"], name="adoption_unique"),
        ]
