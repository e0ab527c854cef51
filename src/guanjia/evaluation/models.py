"""Verdicts of the standards' quantitative requirements for an agency and a period.

A RequirementResult is one requirement (a clause's "光盘率不应低于85%") measured by its
linked indicator over an agency and its subtree for a period: the value, the verdict, the
previous period's value for the trend. Results are stored so pages and rankings read them
without recomputing every indicator; a write to the data an indicator reads marks the
agency's results (and those of the agencies above it) stale, and the next run recomputes
them.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from guanjia.core.models import Agency, ChangeLogged, Region
from guanjia.core.scope import ScopedModel


class Verdict(models.TextChoices):
    PASS = "pass", _("达标")
    FAIL = "fail", _("未达标")
    NO_DATA = "no-data", _("无数据")


class RequirementResult(ScopedModel):
    agency = models.ForeignKey(
        Agency, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="requirement_results"
    )
    period = models.CharField(_("统计期"), max_length=8)
    requirement = models.ForeignKey(
        "standards.Requirement",
        verbose_name=_("量化要求"),
        on_delete=models.CASCADE,
        related_name="results",
    )
    indicator = models.CharField(_("指标"), max_length=64)
    op = models.CharField(_("比较"), max_length=2)
    threshold = models.FloatField(_("阈值"))
    value = models.FloatField(_("指标值"), null=True, blank=True)
    status = models.CharField(_("结论"), max_length=8, choices=Verdict.choices)
    previous_value = models.FloatField(_("上期值"), null=True, blank=True)
    computed_at = models.DateTimeField(_("计算时间"))
    stale = models.BooleanField(_("待重算"), default=False)

    scope_domain = "evaluation"

    class Meta:
        verbose_name = _("达标结论")
        verbose_name_plural = _("达标结论")
        ordering = ["agency", "period", "requirement"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "period", "requirement"], name="requirement_result_unique"
            ),
        ]
        indexes = [models.Index(fields=["agency", "period"])]


# -- scorecards -------------------------------------------------------------------------------


class ScorecardTemplate(ScopedModel, ChangeLogged):
    """A scheme of weighted items and the lines of its grades (data, loaded from
    data/scorecard_templates.json): the standardisation work evaluation, a canteen's
    anti-food-waste evaluation …"""

    key = models.SlugField(_("标识"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=128)
    region = models.ForeignKey(
        Region, verbose_name=_("适用地区"), null=True, blank=True, on_delete=models.SET_NULL,
        help_text=_("留空表示通用"),
    )  # fmt: skip
    source = models.TextField(_("依据"), blank=True)
    pass_line = models.DecimalField(_("合格线"), max_digits=5, decimal_places=1, default=60)
    good_line = models.DecimalField(_("良好线"), max_digits=5, decimal_places=1, default=80)
    excellent_line = models.DecimalField(_("优秀线"), max_digits=5, decimal_places=1, default=90)
    is_active = models.BooleanField(_("启用"), default=True)

    scope_domain = "evaluation"
    scope_agency_field = None  # reference data: the permission is enough

    class Meta:
        verbose_name = _("考评模板")
        verbose_name_plural = _("考评模板")
        ordering = ["key"]

    def __str__(self):
        return self.name


class ScorecardItem(ScopedModel, ChangeLogged):
    class Rule(models.TextChoices):
        THRESHOLD = "threshold", _("达标计分")
        LINEAR = "linear", _("线性计分")
        REVIEWER = "reviewer", _("评审计分")

    template = models.ForeignKey(
        ScorecardTemplate, verbose_name=_("模板"), on_delete=models.CASCADE, related_name="items"
    )
    code = models.CharField(_("编号"), max_length=16)
    section = models.CharField(_("评价内容"), max_length=64)
    title = models.CharField(_("评价项"), max_length=255)
    weight = models.DecimalField(_("分值"), max_digits=5, decimal_places=1)
    rule = models.CharField(_("计分方式"), max_length=16, choices=Rule.choices)
    indicator = models.CharField(_("指标"), max_length=96, blank=True)
    op = models.CharField(_("比较"), max_length=2, blank=True)
    threshold = models.DecimalField(
        _("阈值"), max_digits=12, decimal_places=3, null=True, blank=True
    )
    zero_at = models.DecimalField(
        _("0分值"), max_digits=12, decimal_places=3, null=True, blank=True
    )
    full_at = models.DecimalField(
        _("满分值"), max_digits=12, decimal_places=3, null=True, blank=True
    )
    guidance = models.TextField(_("评分说明"), blank=True)
    order = models.PositiveIntegerField(_("顺序"), default=0)

    scope_domain = "evaluation"
    scope_agency_field = None

    class Meta:
        verbose_name = _("考评项")
        verbose_name_plural = _("考评项")
        ordering = ["template", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["template", "code"], name="scorecard_item_code")
        ]

    def __str__(self):
        return f"{self.code} {self.title}"


class Assessment(ScopedModel, ChangeLogged):
    """One agency's scorecard for a period: self-assessment, then an expert of another
    agency reviews it, then the final score and grade."""

    class Status(models.TextChoices):
        SELF = "self", _("自评中")
        SUBMITTED = "submitted", _("已提交")
        REVIEWED = "reviewed", _("已评审")
        FINAL = "final", _("已定级")

    agency = models.ForeignKey(
        Agency, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="assessments"
    )
    template = models.ForeignKey(
        ScorecardTemplate, verbose_name=_("模板"), on_delete=models.PROTECT,
        related_name="assessments",
    )  # fmt: skip
    period = models.CharField(_("考评期"), max_length=8)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.SELF)
    self_score = models.DecimalField(
        _("自评得分"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    final_score = models.DecimalField(
        _("最终得分"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    grade = models.CharField(_("等级"), max_length=8, blank=True)
    reviewer = models.ForeignKey(
        "standards.Expert", verbose_name=_("评审专家"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="assessments",
    )  # fmt: skip
    reviewed_at = models.DateTimeField(_("评审时间"), null=True, blank=True)
    finalized_at = models.DateTimeField(_("定级时间"), null=True, blank=True)

    scope_domain = "evaluation"

    class Meta:
        verbose_name = _("考评")
        verbose_name_plural = _("考评")
        ordering = ["-period", "agency"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "template", "period"], name="assessment_unique"
            )
        ]

    def __str__(self):
        return f"{self.agency} {self.template} {self.period}"


class AssessmentScore(ScopedModel, ChangeLogged):
    assessment = models.ForeignKey(
        Assessment, verbose_name=_("考评"), on_delete=models.CASCADE, related_name="scores"
    )
    item = models.ForeignKey(
        ScorecardItem, verbose_name=_("考评项"), on_delete=models.PROTECT, related_name="scores"
    )
    value = models.FloatField(_("指标值"), null=True, blank=True)
    self_score = models.DecimalField(
        _("自评分"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    expert_score = models.DecimalField(
        _("专家评分"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    evidence = models.FileField(_("佐证材料"), upload_to="evaluation/evidence/%Y/", blank=True)
    notes = models.TextField(_("自评说明"), blank=True)
    expert_notes = models.TextField(_("专家意见"), blank=True)

    scope_domain = "evaluation"
    scope_agency_field = "assessment__agency"

    class Meta:
        verbose_name = _("考评项得分")
        verbose_name_plural = _("考评项得分")
        ordering = ["assessment", "item__order", "item__code"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "item"], name="assessment_score_item")
        ]
