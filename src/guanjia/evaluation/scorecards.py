"""Scorecards: an agency scored against a template's weighted items for a period.

The flow: the agency starts its assessment (one score row per item) and scores itself —
indicator items (threshold, linear) are computed through the indicator registry over the
agency and the agencies below it, reviewer items get the agency's points, a note and an
evidence file — then submits. An expert of the expert library, from another agency than
the assessed one, reviews it: points for every reviewer item (the computed items stand as
computed), recorded under the acting user who must not belong to the assessed agency
either. Finalizing turns the expert's total into the final score and grade.

Rankings read the final assessments of a template and period the user may see: agencies
by final score, regions (districts) and provinces by the mean of their agencies.

Every write goes through `_save`: the permission `evaluation.<add|change>`, validation,
and the data-scope re-check inside the transaction (so it lands in the audit trail).
`actor=None` is the system (the demo world).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.core.indicator_registry import IndicatorScope, Period, get_indicator
from guanjia.core.models import Agency, Region
from guanjia.core.scope import ensure_in_scope

from . import scoring
from .models import Assessment, AssessmentScore, ScorecardItem, ScorecardTemplate

YOY = ":yoy"
NO_DATA = "无数据"
Rule = ScorecardItem.Rule
Status = Assessment.Status
LEVELS = ("agency", "district", "province")


def scoped(model, user, action: str = "view"):
    return model.objects.all() if user is None else model.objects.restrict(user, action)


def _require(actor, action: str) -> None:
    wanted = f"evaluation.{action}"
    if actor is not None and not actor.can(wanted):
        raise PermissionDenied(_("没有权限：%(perm)s") % {"perm": wanted})


def _save(actor, obj):
    action = "change" if obj.pk else "add"
    _require(actor, action)
    with transaction.atomic():
        if obj.pk:
            ensure_in_scope(actor, type(obj)._base_manager.get(pk=obj.pk), "change")
        obj.full_clean()
        obj.save()
        ensure_in_scope(actor, obj, action)
    return obj


def parse_period(text: str) -> Period:
    try:
        return Period.parse(text)
    except ValueError as exc:
        raise ValidationError({"period": str(exc)}) from None


# -- indicator items ---------------------------------------------------------------------------


def indicator_value(key: str, agency: Agency, period: Period, user=None) -> float | None:
    """The indicator over the agency and below it, within `user`'s scope; None when the key
    is not registered or has no data. "KEY:yoy" is the change in % against a year before."""
    if key.endswith(YOY):
        base = key.removesuffix(YOY)
        now = indicator_value(base, agency, period, user)
        label = period.label
        before = indicator_value(base, agency, Period.parse(f"{int(label[:4]) - 1}{label[4:]}"),
                                 user)  # fmt: skip
        if now is None or not before:
            return None
        return round(100.0 * (now - before) / before, 2)
    try:
        value = get_indicator(key).compute(IndicatorScope(agency, include_below=True, user=user),
                                           period)  # fmt: skip
    except KeyError:
        return None
    return None if value is None else round(float(value), 4)


def computed_points(item: ScorecardItem, value) -> Decimal:
    if item.rule == Rule.LINEAR:
        return scoring.linear_score(value, item.zero_at, item.full_at, item.weight)
    return scoring.threshold_score(value, item.op or ">=", item.threshold, item.weight)


def rule_text(item: ScorecardItem) -> str:
    """How the item is scored, as the pages and the report say it."""
    num = _num
    if item.rule == Rule.LINEAR:
        return _("%(z)s 得0分，%(f)s 得满分，之间线性") % {"z": num(item.zero_at),
                                                          "f": num(item.full_at)}  # fmt: skip
    if item.rule == Rule.THRESHOLD:
        return _("%(op)s %(t)s 得满分，否则0分") % {"op": item.op or ">=", "t": num(item.threshold)}
    return _("评审打分（0—%(w)s）") % {"w": num(item.weight)}


def _num(d) -> str:
    return "—" if d is None else format(Decimal(d).normalize(), "f")


# -- the flow ---------------------------------------------------------------------------------


def _in_status(assessment: Assessment, *wanted: str) -> None:
    if assessment.status not in wanted:
        raise ValidationError(
            _("考评当前状态为“%(s)s”，不能进行此操作") % {"s": assessment.get_status_display()}
        )


def _not_own_agency(actor, assessment: Assessment, expert=None) -> None:
    if actor is not None and actor.agency_id == assessment.agency_id:
        raise PermissionDenied(_("专家评审须由被考评单位以外的人员进行，不能评审本单位"))
    if expert is not None and expert.agency_id == assessment.agency_id:
        raise ValidationError({"expert": _("专家不能评审本单位的考评")})


@transaction.atomic
def start_assessment(actor, agency: Agency, template: ScorecardTemplate, period: str,
                     compute: bool = True) -> Assessment:  # fmt: skip
    """The agency's assessment of `period` against `template` (created with one score row
    per item), its indicator items computed while it is in self-assessment."""
    _require(actor, "add")
    label = parse_period(period).label
    if not template.is_active:
        raise ValidationError({"template": _("模板已停用")})
    assessment = Assessment.objects.filter(agency=agency, template=template, period=label).first()
    if assessment is None:
        assessment = _save(actor, Assessment(agency=agency, template=template, period=label))
        for item in template.items.all():
            _save(actor, AssessmentScore(assessment=assessment, item=item))
    if compute and assessment.status == Status.SELF:
        compute_indicators(actor, assessment)
    return assessment


@transaction.atomic
def compute_indicators(actor, assessment: Assessment) -> Assessment:
    """(Re)compute every threshold and linear item of a self-assessment, then the total."""
    _in_status(assessment, Status.SELF)
    period = Period.parse(assessment.period)
    rows = assessment.scores.select_related("item").exclude(item__rule=Rule.REVIEWER)
    for row in rows:
        row.value = indicator_value(row.item.indicator, assessment.agency, period, actor)
        row.self_score = computed_points(row.item, row.value)
        row.expert_score = row.self_score
        row.notes = NO_DATA if row.value is None else ""
        _save(actor, row)
    return _refresh_self_total(actor, assessment)


def _reviewer_row(assessment: Assessment, code: str) -> AssessmentScore:
    row = assessment.scores.select_related("item").filter(item__code=code).first()
    if row is None:
        raise ValidationError({"code": _("没有编号为 %(c)s 的考评项") % {"c": code}})
    if row.item.rule != Rule.REVIEWER:
        raise ValidationError(_("指标计分项由系统计算，不能手工评分"))
    return row


def _checked_points(score, item: ScorecardItem) -> Decimal:
    if score is None or score == "":
        raise ValidationError({"score": _("请填写得分")})
    try:
        return scoring.reviewer_score(score, item.weight)
    except (ValueError, ArithmeticError):
        raise ValidationError(
            {"score": _("得分应为 0 与 %(w)s 之间的数") % {"w": _num(item.weight)}}
        ) from None


@transaction.atomic
def score_item(actor, assessment: Assessment, code: str, score, notes: str = "",
               evidence=None) -> AssessmentScore:  # fmt: skip
    """The agency's own points for one reviewer item, a note and optional evidence file."""
    _in_status(assessment, Status.SELF)
    row = _reviewer_row(assessment, code)
    row.self_score = _checked_points(score, row.item)
    row.notes = notes or ""
    if evidence is not None:
        row.evidence = evidence
    _save(actor, row)
    _refresh_self_total(actor, assessment)
    return row


def _refresh_self_total(actor, assessment: Assessment) -> Assessment:
    scores = assessment.scores.exclude(self_score=None).values_list("self_score", flat=True)
    assessment.self_score = sum(scores, scoring.ZERO)
    return _save(actor, assessment)


@transaction.atomic
def submit(actor, assessment: Assessment) -> Assessment:
    """Every reviewer item self-scored → submitted for expert review."""
    _in_status(assessment, Status.SELF)
    missing = sorted(
        assessment.scores.filter(item__rule=Rule.REVIEWER, self_score=None).values_list(
            "item__code", flat=True
        )
    )
    if missing:
        raise ValidationError(_("以下评审项尚未自评：%(c)s") % {"c": "、".join(missing)})
    assessment.status = Status.SUBMITTED
    return _refresh_self_total(actor, assessment)


@transaction.atomic
def review(actor, assessment: Assessment, expert, marks: dict) -> Assessment:
    """The expert's points for every reviewer item: `marks` = {code: (score, notes)}.
    Neither the expert nor the acting user may belong to the assessed agency."""
    _in_status(assessment, Status.SUBMITTED, Status.REVIEWED)
    _not_own_agency(actor, assessment, expert)
    if actor is not None:
        ensure_in_scope(actor, expert, "view")
    rows = {r.item.code: r for r in assessment.scores.select_related("item")}
    unknown = sorted(set(marks) - set(rows))
    if unknown:
        raise ValidationError({"code": _("没有编号为 %(c)s 的考评项") % {"c": "、".join(unknown)}})
    missing = sorted(c for c, r in rows.items() if r.item.rule == Rule.REVIEWER and c not in marks)
    if missing:
        raise ValidationError(_("以下评审项尚未评分：%(c)s") % {"c": "、".join(missing)})
    for code, (score, notes) in marks.items():
        row = rows[code]
        if row.item.rule != Rule.REVIEWER:
            raise ValidationError(_("指标计分项由系统计算，不能手工评分"))
        row.expert_score = _checked_points(score, row.item)
        row.expert_notes = notes or ""
        _save(actor, row)
    assessment.reviewer = expert
    assessment.reviewed_at = timezone.now()
    assessment.status = Status.REVIEWED
    return _save(actor, assessment)


@transaction.atomic
def finalize(actor, assessment: Assessment) -> Assessment:
    """The expert's total becomes the final score and grade."""
    _in_status(assessment, Status.REVIEWED)
    _not_own_agency(actor, assessment)
    total = sum(assessment.scores.values_list("expert_score", flat=True), scoring.ZERO)
    t = assessment.template
    assessment.final_score = total
    assessment.grade = scoring.grade(total, t.pass_line, t.good_line, t.excellent_line)
    assessment.status = Status.FINAL
    assessment.finalized_at = timezone.now()
    return _save(actor, assessment)


# -- reading ----------------------------------------------------------------------------------


def assessments(user, period: str | None = None, template=None, status: str | None = None,
                agency=None):  # fmt: skip
    qs = scoped(Assessment, user).select_related("agency__region", "template", "reviewer")
    if period:
        qs = qs.filter(period=parse_period(period).label)
    if template:
        qs = (
            qs.filter(template__key=template)
            if isinstance(template, str)
            else qs.filter(template=template)
        )
    if status:
        qs = qs.filter(status=status)
    if agency:
        qs = qs.filter(agency=agency)
    return qs.order_by("-period", "template__key", "agency__path")


def item_rows(assessment: Assessment) -> list[dict]:
    rows = assessment.scores.select_related("item").order_by("item__order", "item__code")
    return [
        {
            "id": r.pk,
            "code": r.item.code,
            "section": r.item.section,
            "title": r.item.title,
            "rule": r.item.rule,
            "rule_text": rule_text(r.item),
            "indicator": r.item.indicator or None,
            "weight": float(r.item.weight),
            "value": r.value,
            "self_score": None if r.self_score is None else float(r.self_score),
            "expert_score": None if r.expert_score is None else float(r.expert_score),
            "notes": r.notes,
            "expert_notes": r.expert_notes,
            "evidence": r.evidence.name if r.evidence else "",
            "guidance": r.item.guidance,
        }
        for r in rows
    ]


def as_dict(a: Assessment) -> dict:
    return {
        "id": a.pk,
        "agency_id": a.agency_id,
        "agency": a.agency.name,
        "template": a.template.key,
        "template_name": a.template.name,
        "period": a.period,
        "status": a.status,
        "self_score": None if a.self_score is None else float(a.self_score),
        "final_score": None if a.final_score is None else float(a.final_score),
        "grade": a.grade,
        "reviewer": a.reviewer.name if a.reviewer_id else None,
        "items": item_rows(a),
    }


@dataclass
class Ranked:
    rank: int
    key: str  # agency id, region code
    name: str
    score: Decimal  # an agency's final score, a region's mean
    count: int
    grade: str
    agency_id: int | None = None


def rankings(user, template: ScorecardTemplate, period: str, level: str = "agency") -> list:
    """The final assessments of `template` and `period` the user may see, ranked best first:
    agencies by final score; districts (the agencies' regions) and provinces by the mean
    final score of their agencies. Ties share a rank."""
    if level not in LEVELS:
        raise ValidationError({"level": _("排名层级应为 agency、district 或 province")})
    finals = list(assessments(user, period, template, Status.FINAL))
    t = template
    if level == "agency":
        rows = [
            Ranked(0, str(a.agency_id), a.agency.name, a.final_score, 1, a.grade, a.agency_id)
            for a in finals
        ]
    else:
        groups: dict[str, list[Decimal]] = {}
        for a in finals:
            region = a.agency.region
            code = region.path[: Region.steplen] if level == "province" else region.path
            groups.setdefault(code, []).append(a.final_score)
        regions = {r.path: r for r in Region.objects.filter(path__in=groups)}
        rows = []
        for path, scores in groups.items():
            mean = scoring.points(sum(scores, scoring.ZERO) / len(scores))
            grade = scoring.grade(mean, t.pass_line, t.good_line, t.excellent_line)
            region = regions[path]
            rows.append(Ranked(0, region.code, region.name, mean, len(scores), grade))
    rows.sort(key=lambda r: (-r.score, r.name))
    for row, rank in zip(rows, scoring.ranks([r.score for r in rows]), strict=True):
        row.rank = rank
    return rows
