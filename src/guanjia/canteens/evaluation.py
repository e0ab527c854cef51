"""The anti-food-waste evaluation (反食品浪费工作成效评估) of canteens.

The regime (机关食堂反食品浪费工作成效评估和通报制度, in force from 2024-01-01): every
canteen evaluates itself each quarter; regional 机关事务 authorities spot-check at least
35 % of the canteens each year and all of them within 3 years; results are published and
a canteen rated 不合格 must rectify.

Decisions (kept here so a reader need not guess):

* **Template.** The one of the nearest region at or above the canteen's agency's region
  (a county canteen of Chongqing gets the 500000 template), else the general one (no
  region). Templates are data (data/evaluation_templates.json), editable per region.
* **Indicator items** are computed for the canteen alone (`measures.canteen_value`: the
  canteen.* indicators' definitions over its own records), so two canteens of one agency
  are scored each on its own data. A key ending in
  ":yoy" scores the change in % against the same period a year before. An indicator not
  registered, or without data, gives 0 points and the note "无数据" (no data is not
  evidence of good work).
* **Linear rule** (evaluation.scoring, shared with every scorecard). 0 points at
  `zero_at`, full marks at `full_at`, straight line between, clamped outside; works in
  both directions (clean-plate rate rises, waste falls).
* **Grades** (evaluation.scoring). 优秀 ≥ excellent, 良好 ≥ good_score, 合格 ≥
  pass_score, else 不合格. The excellent line is derived, not stored: halfway from
  good_score to 100 (90 when good is 80), so a region that moves its good line moves
  excellent with it.
* **Spot checks** are evaluations of kind spot_check, scored by a reviewer of another
  agency than the canteen's: nobody spot-checks their own agency's canteen. A submitted
  spot check is final (已定级); a submitted self-evaluation waits as 已提交. Where both
  exist for a period, the spot check's grade is the one that counts for rectification.
* **Sampler.** For a region and year: ceil(35 %) of the active canteens in scope, those
  not spot-checked in the two previous years first (longest unchecked first), ties broken
  by a seeded shuffle, so the draw is reproducible and three draws cover every canteen.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import PurePosixPath

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from guanjia.core.indicator_registry import Period
from guanjia.core.scope import scope_q
from guanjia.evaluation import scoring

from . import services
from .measures import canteen_value
from .models import Canteen, Evaluation, EvaluationItem, EvaluationScore, EvaluationTemplate

ZERO = Decimal("0")
TENTH = Decimal("0.1")
HUNDRED = Decimal("100")
NO_DATA = "无数据"
YOY = ":yoy"
SPOT_CHECK_SHARE = Decimal("0.35")  # ≥ 35 % of canteens a year (§ regime above)
COVERAGE_YEARS = 3  # every canteen within 3 years

EXCELLENT, GOOD, PASS, FAIL = scoring.EXCELLENT, scoring.GOOD, scoring.PASS, scoring.FAIL
GRADES = scoring.GRADES


def scoped(model, user, action: str = "view"):
    return model.objects.all() if user is None else model.objects.restrict(user, action)


# -- pure rules ------------------------------------------------------------------------------


linear_score = scoring.linear_score  # one rule for every scorecard (evaluation.scoring)


def excellent_score(template: EvaluationTemplate) -> Decimal:
    return scoring.midpoint_excellent(template.good_score)


def grade_for(template: EvaluationTemplate, score) -> str:
    return scoring.grade(score, template.pass_score, template.good_score,
                         excellent_score(template))  # fmt: skip


def parse_quarter(text: str) -> Period:
    try:
        period = Period.parse(text)
    except ValueError as exc:
        raise ValidationError({"period": str(exc)}) from None
    if period.kind != "quarter":
        raise ValidationError({"period": _("评估期应为季度，如 2026Q3")})
    return period


def same_period_last_year(period: Period) -> Period:
    text = period.label
    return Period.parse(f"{int(text[:4]) - 1}{text[4:]}")


# -- templates -------------------------------------------------------------------------------


def applicable_template(canteen: Canteen) -> EvaluationTemplate:
    """The active template of the nearest region at or above the canteen's agency's region,
    else the general one."""
    from .reference_evaluation import install_missing

    install_missing()
    active = EvaluationTemplate.objects.filter(is_active=True)
    region = canteen.agency.region
    if region is not None:
        step = type(region).steplen
        prefixes = [region.path[:n] for n in range(step, len(region.path) + 1, step)]
        chain = active.filter(region__path__in=prefixes).select_related("region")
        nearest = max(chain, key=lambda t: (len(t.region.path), -t.pk), default=None)
        if nearest is not None:
            return nearest
    general = active.filter(region__isnull=True).order_by("pk").first()
    if general is None:
        raise LookupError(_("没有适用于 %(c)s 的评估模板") % {"c": canteen.name})
    return general


def weight_total(weights) -> Decimal:
    return sum((Decimal(str(w or 0)) for w in weights), ZERO)


def check_weights(weights) -> None:
    total = weight_total(weights)
    if total != HUNDRED:
        raise ValidationError(_("各评估项分值合计应为100，现为 %(t)s") % {"t": total.normalize()})


def may_edit_template(user, template: EvaluationTemplate) -> bool:
    """canteens.change, and either every canteen in reach (scope "all") or the template of
    one's own region or a region below it; the general template needs scope "all"."""
    if user is None:
        return True
    if not user.can("canteens.change"):
        return False
    if scope_q(Canteen, user, "change") is None:
        return True
    region = user.agency.region if user.agency_id else None
    return bool(template.region_id and region and template.region.path.startswith(region.path))


ITEM_EDIT_FIELDS = ("code", "section", "title", "weight", "method", "indicator", "zero_at",
                    "full_at", "guidance", "order")  # fmt: skip


@transaction.atomic
def save_template_items(actor, template: EvaluationTemplate, rows: list[dict]) -> list:
    """Replace the template's items with `rows` (matched by code; rows with "delete")
    after checking the weights sum to 100. Items an evaluation scored cannot be removed."""
    if not may_edit_template(actor, template):
        raise PermissionDenied(_("没有权限修改该地区的评估模板"))
    keep = [r for r in rows if not r.get("delete")]
    check_weights(r.get("weight") for r in keep)
    codes = [r["code"] for r in keep]
    if len(set(codes)) != len(codes):
        raise ValidationError(_("评估项编号重复"))
    for r in keep:
        services.check_fields(r, (*ITEM_EDIT_FIELDS, "id", "delete"))
        if r.get("method") == EvaluationItem.Method.INDICATOR and not r.get("indicator"):
            raise ValidationError(_("指标计分项 %(c)s 须填写指标") % {"c": r["code"]})
    existing = {i.code: i for i in template.items.all()}
    gone = [i for code, i in existing.items() if code not in codes]
    used = set(EvaluationScore.objects.filter(item__in=gone).values_list("item__code", flat=True))
    if used:
        raise ValidationError(
            _("评估项 %(c)s 已有评分记录，不能删除") % {"c": "、".join(sorted(used))}
        )
    for item in gone:
        services.delete(actor, item)
    saved = []
    for r in keep:
        item = existing.get(r["code"]) or EvaluationItem(template=template)
        for field in ITEM_EDIT_FIELDS:
            if field in r:
                setattr(item, field, r[field])
        item.indicator = item.indicator or ""
        item.guidance = item.guidance or ""
        saved.append(services.save(actor, item))
    return saved


# -- indicator values -----------------------------------------------------------------------


def indicator_value(key: str, canteen: Canteen, period: Period, user=None) -> float | None:
    """The indicator for the canteen alone (measures.canteen_value); None when the key is
    not registered or has no data. "KEY:yoy" is the change in % against a year before."""
    if key.endswith(YOY):
        now = indicator_value(key.removesuffix(YOY), canteen, period, user)
        before = indicator_value(key.removesuffix(YOY), canteen, same_period_last_year(period),
                                 user)  # fmt: skip
        if now is None or not before:
            return None
        return round(100.0 * (now - before) / before, 2)
    try:
        return canteen_value(key, canteen, period, user)[0]
    except KeyError:
        return None


def _indicator_note(item: EvaluationItem, value) -> str:
    if value is None:
        return NO_DATA
    return _("指标值 %(v)s（%(z)s 得0分，%(f)s 得满分）") % {
        "v": round(value, 2), "z": _num(item.zero_at), "f": _num(item.full_at),
    }  # fmt: skip


def _num(d) -> str:
    return "—" if d is None else format(Decimal(d).normalize(), "f")


# -- the evaluation flow --------------------------------------------------------------------


def _not_own_agency(actor, canteen: Canteen) -> None:
    if actor is not None and actor.agency_id == canteen.agency_id:
        raise PermissionDenied(_("抽查评估须由食堂所属单位以外的评审人进行，不能抽查本单位食堂"))


def _editable(actor, evaluation: Evaluation) -> None:
    if evaluation.status != Evaluation.Status.DRAFT:
        raise ValidationError(_("评估已提交，不能再修改"))
    if evaluation.kind == Evaluation.Kind.SPOT_CHECK:
        _not_own_agency(actor, evaluation.canteen)


@transaction.atomic
def start_evaluation(actor, canteen: Canteen, period: str, kind: str = Evaluation.Kind.SELF,
                     compute: bool = True) -> Evaluation:  # fmt: skip
    """The canteen's evaluation of `period` and `kind` (created with one score row per item
    of its template), with the indicator items computed while it is a draft."""
    services.require(actor, "add")
    quarter = parse_quarter(period)
    if kind not in Evaluation.Kind.values:
        raise ValidationError({"kind": _("未知评估类型：%(k)s") % {"k": kind}})
    if kind == Evaluation.Kind.SPOT_CHECK:
        _not_own_agency(actor, canteen)
    evaluation = Evaluation.objects.filter(canteen=canteen, period=quarter.label, kind=kind).first()
    if evaluation is None:
        evaluation = services.save(
            actor,
            Evaluation(
                canteen=canteen, period=quarter.label, kind=kind,
                template=applicable_template(canteen),
                reviewer=actor if kind == Evaluation.Kind.SPOT_CHECK else None,
            ),
        )  # fmt: skip
        for item in evaluation.template.items.all():
            services.save(actor, EvaluationScore(evaluation=evaluation, item=item))
    if compute and evaluation.status == Evaluation.Status.DRAFT:
        compute_indicators(actor, evaluation)
    return evaluation


@transaction.atomic
def compute_indicators(actor, evaluation: Evaluation) -> Evaluation:
    """(Re)compute every indicator item of a draft evaluation, then the total."""
    _editable(actor, evaluation)
    period = Period.parse(evaluation.period)
    rows = evaluation.scores.select_related("item").filter(
        item__method=EvaluationItem.Method.INDICATOR
    )
    for row in rows:
        item = row.item
        value = indicator_value(item.indicator, evaluation.canteen, period, actor)
        row.value = value
        row.score = linear_score(value, item.zero_at, item.full_at, item.weight)
        row.note = _indicator_note(item, value)
        row.marked_by = None
        services.save(actor, row)
    return refresh_total(actor, evaluation)


@transaction.atomic
def mark_item(actor, row: EvaluationScore, score, note: str = "", evidence=None):
    """A reviewer's points for one reviewer item, with a note and optional evidence file."""
    evaluation = row.evaluation
    _editable(actor, evaluation)
    item = row.item
    if item.method != EvaluationItem.Method.REVIEWER:
        raise ValidationError(_("指标计分项由系统计算，不能手工评分"))
    if score is None:
        raise ValidationError({"score": _("请填写得分")})
    score = Decimal(str(score))
    if not ZERO <= score <= item.weight:
        raise ValidationError({"score": _("得分应在 0 与 %(w)s 之间") % {"w": _num(item.weight)}})
    row.score = score.quantize(TENTH, ROUND_HALF_UP)
    row.note = note or ""
    row.marked_by = actor
    if evidence is not None:
        row.evidence = evidence
    services.save(actor, row)
    refresh_total(actor, evaluation)
    return row


def refresh_total(actor, evaluation: Evaluation) -> Evaluation:
    scores = [r.score for r in evaluation.scores.all() if r.score is not None]
    evaluation.score = sum(scores, ZERO)
    evaluation.grade = grade_for(evaluation.template, evaluation.score)
    return services.save(actor, evaluation)


@transaction.atomic
def submit(actor, evaluation: Evaluation) -> Evaluation:
    """Every reviewer item marked → the total and grade; a spot check is then final."""
    _editable(actor, evaluation)
    missing = [
        r.item.code
        for r in evaluation.scores.select_related("item")
        if r.item.method == EvaluationItem.Method.REVIEWER and r.score is None
    ]
    if missing:
        raise ValidationError(_("以下评审项尚未评分：%(c)s") % {"c": "、".join(sorted(missing))})
    evaluation.status = (
        Evaluation.Status.FINAL
        if evaluation.kind == Evaluation.Kind.SPOT_CHECK
        else Evaluation.Status.SUBMITTED
    )
    if evaluation.kind == Evaluation.Kind.SPOT_CHECK and actor is not None:
        evaluation.reviewer = actor
    return refresh_total(actor, evaluation)


# -- reading --------------------------------------------------------------------------------


def item_rows(evaluation: Evaluation) -> list[dict]:
    """The items of an evaluation in template order, as the CLI, API and reports show them."""
    rows = evaluation.scores.select_related("item", "marked_by").order_by(
        "item__order", "item__code"
    )
    return [
        {
            "id": r.pk,
            "code": r.item.code,
            "section": r.item.section,
            "title": r.item.title,
            "method": r.item.method,
            "indicator": r.item.indicator or None,
            "value": r.value,
            "score": None if r.score is None else float(r.score),
            "weight": float(r.item.weight),
            "note": r.note,
            "guidance": r.item.guidance,
            "evidence": r.evidence.name if r.evidence else "",
            "marked_by": str(r.marked_by) if r.marked_by else "",
        }
        for r in rows
    ]


def evidence_name(stored: str) -> str:
    """The file name of an evidence upload without its storage folder ("" when none)."""
    return PurePosixPath(stored).name if stored else ""


def as_dict(evaluation: Evaluation) -> dict:
    return {
        "id": evaluation.pk,
        "canteen": evaluation.canteen.code,
        "canteen_name": evaluation.canteen.name,
        "agency": evaluation.canteen.agency.name,
        "period": evaluation.period,
        "kind": evaluation.kind,
        "status": evaluation.status,
        "template": evaluation.template.name,
        "score": None if evaluation.score is None else float(evaluation.score),
        "grade": evaluation.grade,
        "items": item_rows(evaluation),
    }


def evaluations(user, period: str | None = None, kind: str | None = None,
                grade: str | None = None):  # fmt: skip
    qs = scoped(Evaluation, user).select_related("canteen__agency", "template", "reviewer")
    if period:
        qs = qs.filter(period=period.strip().upper())
    if kind:
        qs = qs.filter(kind=kind)
    if grade:
        qs = qs.filter(grade=grade)
    return qs.order_by("-period", "canteen__name", "kind")


def ranked(user, period: str) -> list[Evaluation]:
    """The evaluations of a period with `rank` set: by score within each kind, ties sharing
    a rank (1, 2, 2, 4)."""
    rows = [e for e in evaluations(user, period) if e.score is not None]
    rows.sort(key=lambda e: (e.kind, -e.score, e.canteen.name))
    for kind in {e.kind for e in rows}:
        same = [e for e in rows if e.kind == kind]
        for n, e in enumerate(same):
            e.rank = same[n - 1].rank if n and same[n - 1].score == e.score else n + 1
    return rows


def rectification(user, period: str | None = None) -> list[Evaluation]:
    """Canteens rated 不合格: per canteen and period the spot check's grade if there is
    one, else the submitted self-evaluation's."""
    qs = evaluations(user, period).exclude(status=Evaluation.Status.DRAFT)
    deciding: dict[tuple, Evaluation] = {}
    for e in qs:
        key = (e.canteen_id, e.period)
        if key not in deciding or e.kind == Evaluation.Kind.SPOT_CHECK:
            deciding[key] = e
    return [e for e in deciding.values() if e.grade == FAIL]


# -- spot-check sampling ---------------------------------------------------------------------


@dataclass
class Draw:
    canteen: Canteen
    last_checked: int | None  # year of the last spot check, None = never
    priority: bool  # not spot-checked in the previous years of the cycle


def canteens_in_region(user, region):
    qs = scoped(Canteen, user).filter(is_active=True).select_related("agency__region")
    if region is not None:
        qs = qs.filter(agency__region__path__startswith=region.path)
    return qs.order_by("code")


def sample_spot_checks(user, region, year: int, seed: str | None = None,
                       share: Decimal = SPOT_CHECK_SHARE) -> list[Draw]:  # fmt: skip
    """The canteens to spot-check in `year`: ceil(share × N) of the active canteens of the
    region in the user's scope, those not spot-checked in the previous 2 years first."""
    pool = list(canteens_in_region(user, region))
    if not pool:
        return []
    wanted = math.ceil(Decimal(len(pool)) * Decimal(str(share)))
    last = {}
    checks = (
        scoped(Evaluation, user)
        .filter(kind=Evaluation.Kind.SPOT_CHECK, canteen__in=pool)
        .exclude(status=Evaluation.Status.DRAFT)
    )
    for canteen_id, period in checks.values_list("canteen_id", "period"):
        y = int(period[:4])
        if y < year:
            last[canteen_id] = max(last.get(canteen_id, y), y)
    since = year - (COVERAGE_YEARS - 1)
    rng = random.Random(seed if seed is not None else f"{region.code if region else ''}-{year}")
    rng.shuffle(pool)
    draws = [Draw(c, last.get(c.pk), last.get(c.pk, 0) < since) for c in pool]
    draws.sort(key=lambda d: (not d.priority, d.last_checked or 0))
    return draws[:wanted]
