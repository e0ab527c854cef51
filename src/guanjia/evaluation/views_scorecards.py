"""Scorecard pages under /evaluation/scorecards/: the assessments in scope with filters and
a start form, an assessment's page (self-scoring with evidence upload, submit, expert
review, finalize, Word report), and the rankings with their Excel export. Thin: every
write is a scorecards service call."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanjia.core.models import Agency
from guanjia.core.scope import scope_q
from guanjia.standards.models import Expert
from guanjia.web.helpers import requires

from . import scorecards, scorecards_report
from .models import Assessment, AssessmentScore, ScorecardItem, ScorecardTemplate

Status = Assessment.Status


def _agencies(user, action: str):
    q = scope_q(Agency, user, "view", wanted=f"evaluation.{action}")
    return Agency.objects.all() if q is None else Agency.objects.filter(q)


def _templates(user):
    return ScorecardTemplate.objects.restrict(user).filter(is_active=True).order_by("key")


def _errors(request, exc) -> None:
    if isinstance(exc, ValidationError):
        for text in exc.messages:
            messages.error(request, text)
    else:
        messages.error(request, str(exc))


@requires("evaluation.view")
def assessment_list(request):
    f = {k: request.GET.get(k, "").strip() for k in ("period", "template", "status")}
    try:
        rows = list(
            scorecards.assessments(
                request.user, f["period"] or None, f["template"] or None, f["status"] or None
            )[:500]
        )
    except ValidationError as exc:  # fmt: skip
        _errors(request, exc)
        rows = []
    return render(request, "evaluation/scorecard_list.html", {
        "rows": rows, "filters": f, "templates": _templates(request.user),
        "statuses": Status.choices,
        "agencies": _agencies(request.user, "add").order_by("path")[:500]
        if request.user.can("evaluation.add") else [],
    })  # fmt: skip


@require_POST
@requires("evaluation.add")
def assessment_start(request):
    agency = _agencies(request.user, "add").filter(pk=request.POST.get("agency") or 0).first()
    template = _templates(request.user).filter(key=request.POST.get("template", "")).first()
    if agency is None or template is None:
        messages.error(request, _("请选择单位与考评模板"))
        return redirect("scorecard_list")
    try:
        a = scorecards.start_assessment(request.user, agency, template,
                                        request.POST.get("period", ""))  # fmt: skip
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc)
        return redirect("scorecard_list")
    return redirect("scorecard_detail", pk=a.pk)


def _visible(request, pk, action="view") -> Assessment:
    return get_object_or_404(
        Assessment.objects.restrict(request.user, action).select_related("agency", "template"),
        pk=pk,
    )


def _may_change(user, a: Assessment) -> bool:
    return (
        user.can("evaluation.change")
        and Assessment.objects.restrict(user, "change").filter(pk=a.pk).exists()
    )


@requires("evaluation.view")
def assessment_detail(request, pk):
    a = _visible(request, pk)
    can_change = _may_change(request.user, a)
    own = request.user.agency_id == a.agency_id
    experts = []
    if can_change and not own and a.status in (Status.SUBMITTED, Status.REVIEWED):
        experts = Expert.objects.restrict(request.user).exclude(agency=a.agency).order_by("name")
    return render(request, "evaluation/scorecard_detail.html", {
        "a": a, "data": scorecards.as_dict(a),
        "can_self": can_change and a.status == Status.SELF,
        "can_review": bool(experts), "experts": experts[:200] if experts else [],
        "can_finalize": can_change and not own and a.status == Status.REVIEWED,
        "reviewer_rule": ScorecardItem.Rule.REVIEWER,
    })  # fmt: skip


def _act(request, pk, do) -> HttpResponse:
    a = _visible(request, pk, "change")
    try:
        do(a)
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc)
    return redirect("scorecard_detail", pk=a.pk)


@require_POST
@requires("evaluation.change")
def assessment_score(request, pk):
    def do(a):
        scorecards.score_item(request.user, a, request.POST.get("code", ""),
                              request.POST.get("score"), request.POST.get("notes", ""),
                              request.FILES.get("evidence"))  # fmt: skip
        messages.success(request, _("已保存自评分"))

    return _act(request, pk, do)


@require_POST
@requires("evaluation.change")
def assessment_compute(request, pk):
    return _act(request, pk, lambda a: scorecards.compute_indicators(request.user, a))


@require_POST
@requires("evaluation.change")
def assessment_submit(request, pk):
    def do(a):
        scorecards.submit(request.user, a)
        messages.success(request, _("已提交，等待专家评审"))

    return _act(request, pk, do)


@require_POST
@requires("evaluation.change")
def assessment_review(request, pk):
    def do(a):
        expert = (
            Expert.objects.restrict(request.user).filter(pk=request.POST.get("expert") or 0).first()
        )
        if expert is None:
            raise ValidationError(_("请选择评审专家"))
        codes = a.scores.filter(item__rule=ScorecardItem.Rule.REVIEWER).values_list(
            "item__code", flat=True
        )
        marks = {c: (request.POST.get(f"score_{c}"), request.POST.get(f"notes_{c}", ""))
                 for c in codes}  # fmt: skip
        scorecards.review(request.user, a, expert, marks)
        messages.success(request, _("已保存专家评审"))

    return _act(request, pk, do)


@require_POST
@requires("evaluation.change")
def assessment_finalize(request, pk):
    def do(a):
        scorecards.finalize(request.user, a)
        messages.success(request, _("已确定最终得分"))

    return _act(request, pk, do)


@requires("evaluation.view")
def assessment_word(request, pk):
    a = _visible(request, pk)
    response = HttpResponse(scorecards_report.word_report(a), content_type=scorecards_report.DOCX)
    response["Content-Disposition"] = f'attachment; filename="scorecard-{a.pk}-{a.period}.docx"'
    return response


@requires("evaluation.view")
def evidence(request, pk):
    row = get_object_or_404(AssessmentScore.objects.restrict(request.user), pk=pk)
    if not row.evidence:
        raise Http404
    return FileResponse(row.evidence.open("rb"), as_attachment=True,
                        filename=row.evidence.name.rsplit("/", 1)[-1])  # fmt: skip


def _ranking_args(request):
    templates = _templates(request.user)
    template = templates.filter(key=request.GET.get("template", "")).first() or templates.first()
    return template, request.GET.get("period", "").strip()


@requires("evaluation.view")
def rankings(request):
    template, period = _ranking_args(request)
    levels = {}
    if template and period:
        try:
            levels = {level: scorecards.rankings(request.user, template, period, level)
                      for level in scorecards.LEVELS}  # fmt: skip
        except ValidationError as exc:
            _errors(request, exc)
    return render(request, "evaluation/scorecard_rankings.html", {
        "template": template, "period": period, "templates": _templates(request.user),
        "levels": [(_("单位排名"), levels.get("agency")), (_("区县排名"), levels.get("district")),
                   (_("省级排名"), levels.get("province"))] if levels else [],
    })  # fmt: skip


@requires("evaluation.view")
def rankings_export(request):
    template, period = _ranking_args(request)
    if template is None:
        raise Http404
    try:
        body = scorecards_report.rankings_workbook(request.user, template, period)
    except ValidationError as exc:
        _errors(request, exc)
        return redirect("scorecard_rankings")
    response = HttpResponse(body, content_type=scorecards_report.XLSX)
    response["Content-Disposition"] = f'attachment; filename="rankings-{template.key}.xlsx"'
    return response


urlpatterns = [
    path("scorecards/", assessment_list, name="scorecard_list"),
    path("scorecards/start/", assessment_start, name="scorecard_start"),
    path("scorecards/rankings/", rankings, name="scorecard_rankings"),
    path("scorecards/rankings/export/", rankings_export, name="scorecard_rankings_export"),
    path("scorecards/<int:pk>/", assessment_detail, name="scorecard_detail"),
    path("scorecards/<int:pk>/score/", assessment_score, name="scorecard_score"),
    path("scorecards/<int:pk>/compute/", assessment_compute, name="scorecard_compute"),
    path("scorecards/<int:pk>/submit/", assessment_submit, name="scorecard_submit"),
    path("scorecards/<int:pk>/review/", assessment_review, name="scorecard_review"),
    path("scorecards/<int:pk>/finalize/", assessment_finalize, name="scorecard_finalize"),
    path("scorecards/<int:pk>/word/", assessment_word, name="scorecard_word"),
    path("scorecards/evidence/<int:pk>/", evidence, name="scorecard_evidence"),
]
