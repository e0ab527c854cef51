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

from guanjia.core.models import Agency
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
