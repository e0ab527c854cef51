"""Pages of the anti-food-waste evaluation: the list (filters, start an evaluation, the
rectification list, the period workbook), an evaluation's items with score entry and
evidence upload, its Word report, the spot-check sampler, and the template editor. Every
query starts from `restrict(request.user)`; writes go through `evaluation`."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanjia.web.helpers import add_service_error, paginate, requires

from . import evaluation, evaluation_report
from .forms_evaluation import (
    FilterForm,
    ItemFormSet,
    MarkForm,
    SampleForm,
    StartForm,
    current_quarter,
)
from .models import Canteen, Evaluation, EvaluationScore, EvaluationTemplate
from .reference_evaluation import install_missing


def _error(request, exc) -> None:
    text = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    messages.error(request, text or _("操作失败"))


@requires("canteens.view")
def evaluation_list(request):
    user = request.user
    filters = FilterForm(request.GET or None)
    chosen = filters.cleaned_data if filters.is_valid() else {}
    canteens = Canteen.objects.restrict(user).filter(is_active=True).order_by("name")
    form = StartForm(request.POST or None, canteens=canteens)
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            try:
                ev = evaluation.start_evaluation(user, d["canteen"], d["period"], d["kind"])
            except (ValidationError, PermissionDenied) as exc:
                add_service_error(form, exc)
            else:
                return redirect("canteen_evaluation_detail", pk=ev.pk)
    qs = evaluation.evaluations(user, chosen.get("period"), chosen.get("kind"), chosen.get("grade"))
    period = chosen.get("period") or current_quarter()
    return render(
        request,
        "canteens/evaluation_list.html",
        {
            "page": paginate(request, qs),
            "filters": filters,
            "form": form,
            "period": period,
            "failed": evaluation.rectification(user, period),
            "can_add": user.can("canteens.add"),
        },
    )


@requires("canteens.view")
def evaluation_export(request):
    try:
        period = evaluation.parse_quarter(request.GET.get("period") or current_quarter()).label
    except ValidationError as exc:
        _error(request, exc)
        return redirect("canteen_evaluation_list")
    response = HttpResponse(
        evaluation_report.period_workbook(request.user, period),
        content_type=evaluation_report.XLSX,
    )
    response["Content-Disposition"] = f'attachment; filename="evaluations-{period}.xlsx"'
    return response


@requires("canteens.view")
def evaluation_detail(request, pk: int):
    user = request.user
    ev = get_object_or_404(
        Evaluation.objects.restrict(user).select_related("canteen__agency", "template"), pk=pk
    )
    rows = evaluation.item_rows(ev)
    for row in rows:
        row["evidence_name"] = evaluation.evidence_name(row["evidence"])
    editable = (
        ev.status == Evaluation.Status.DRAFT
        and user.can("canteens.change")
        and not (ev.kind == Evaluation.Kind.SPOT_CHECK and user.agency_id == ev.canteen.agency_id)
    )
    return render(
        request,
        "canteens/evaluation_detail.html",
        {
            "ev": ev,
            "rows": rows,
            "editable": editable,
            "excellent": evaluation.excellent_score(ev.template),
            "weight_total": sum(r["weight"] for r in rows),
        },
    )


@require_POST
@requires("canteens.change")
def evaluation_mark(request, pk: int, score_id: int):
    row = get_object_or_404(
        EvaluationScore.objects.restrict(request.user, "change").select_related("item"),
        pk=score_id,
        evaluation_id=pk,
    )
    form = MarkForm(request.POST, request.FILES)
    if form.is_valid():
        d = form.cleaned_data
        try:
            evaluation.mark_item(request.user, row, d["score"], d["note"], d["evidence"])
            messages.success(request, _("已评分：%(c)s") % {"c": row.item.code})
        except (ValidationError, PermissionDenied) as exc:
            _error(request, exc)
    else:
        messages.error(request, _("请填写 0 以上的得分"))
    return redirect("canteen_evaluation_detail", pk=pk)


@requires("canteens.view")
def evaluation_evidence(request, pk: int, score_id: int):
    """The evidence file of one item, to whoever may see the evaluation (404 otherwise:
    uploads are not served from /media/)."""
    row = get_object_or_404(
        EvaluationScore.objects.restrict(request.user), pk=score_id, evaluation_id=pk
    )
    if not row.evidence:
        raise Http404(_("该评估项没有佐证材料"))
    try:
        handle = row.evidence.open("rb")
    except FileNotFoundError:
        raise Http404(_("佐证材料文件已不存在")) from None
    name = evaluation.evidence_name(row.evidence.name)
    return FileResponse(handle, as_attachment=True, filename=name)


@require_POST
@requires("canteens.change")
def evaluation_action(request, pk: int):
    ev = get_object_or_404(Evaluation.objects.restrict(request.user, "change"), pk=pk)
    try:
        if request.POST.get("action") == "submit":
            evaluation.submit(request.user, ev)
            messages.success(request, _("已提交，等级：%(g)s") % {"g": ev.grade})
        else:
            evaluation.compute_indicators(request.user, ev)
            messages.success(request, _("已重新计算指标项"))
    except (ValidationError, PermissionDenied) as exc:
        _error(request, exc)
    return redirect("canteen_evaluation_detail", pk=pk)


@requires("canteens.view")
def evaluation_word(request, pk: int):
    ev = get_object_or_404(Evaluation.objects.restrict(request.user), pk=pk)
    response = HttpResponse(evaluation_report.word_report(ev), content_type=evaluation_report.DOCX)
    name = f"evaluation-{ev.canteen.code}-{ev.period}-{ev.kind}.docx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@requires("canteens.view")
def evaluation_sample(request):
    user = request.user
    initial = {"year": timezone.localdate().year}
    if user.agency_id and user.agency.region_id:
        initial["region"] = user.agency.region_id
    form = SampleForm(request.GET or None, initial=initial)
    draws, total = None, 0
    if form.is_valid():
        d = form.cleaned_data
        draws = evaluation.sample_spot_checks(user, d["region"], d["year"], d["seed"] or None)
        total = evaluation.canteens_in_region(user, d["region"]).count()
    return render(
        request,
        "canteens/evaluation_sample.html",
        {
            "form": form,
            "draws": draws,
            "total": total,
            "period": f"{form.cleaned_data['year']}Q4" if draws else current_quarter(),
            "can_add": user.can("canteens.add"),
        },
    )


@requires("canteens.view")
def evaluation_templates(request):
    install_missing()
    templates = EvaluationTemplate.objects.restrict(request.user).select_related("region")
    rows = [
        {
            "t": t,
            "total": evaluation.weight_total(t.items.values_list("weight", flat=True)),
            "excellent": evaluation.excellent_score(t),
            "editable": evaluation.may_edit_template(request.user, t),
        }
        for t in templates.order_by("name")
    ]
    return render(request, "canteens/evaluation_templates.html", {"rows": rows})


@requires("canteens.view")
def evaluation_template_edit(request, pk: int):
    user = request.user
    template = get_object_or_404(EvaluationTemplate.objects.restrict(user), pk=pk)
    editable = evaluation.may_edit_template(user, template)
    items = template.items.order_by("order", "code")
    formset = ItemFormSet(request.POST or None, queryset=items)
    if request.method == "POST":
        if not editable:
            raise PermissionDenied(_("没有权限修改该地区的评估模板"))
        if formset.is_valid():
            rows = [
                dict(f.cleaned_data, delete=f.cleaned_data.get("DELETE", False))
                for f in formset.forms
                if f.cleaned_data and (f.instance.pk or f.has_changed())
            ]
            for row in rows:
                row.pop("DELETE", None)
                row.pop("id", None)
            try:
                evaluation.save_template_items(user, template, rows)
            except (ValidationError, PermissionDenied) as exc:
                _error(request, exc)
            else:
                messages.success(request, _("评估模板已保存"))
                return redirect("canteen_evaluation_template_edit", pk=pk)
    return render(
        request,
        "canteens/evaluation_template_edit.html",
        {
            "template": template,
            "formset": formset,
            "editable": editable,
            "total": evaluation.weight_total(i.weight for i in items),
        },
    )


urlpatterns = [
    path("evaluations/", evaluation_list, name="canteen_evaluation_list"),
    path("evaluations/export.xlsx", evaluation_export, name="canteen_evaluation_export"),
    path("evaluations/sample/", evaluation_sample, name="canteen_evaluation_sample"),
    path("evaluations/<int:pk>/", evaluation_detail, name="canteen_evaluation_detail"),
    path(
        "evaluations/<int:pk>/scores/<int:score_id>/",
        evaluation_mark,
        name="canteen_evaluation_mark",
    ),
    path(
        "evaluations/<int:pk>/scores/<int:score_id>/evidence/",
        evaluation_evidence,
        name="canteen_evaluation_evidence",
    ),
    path("evaluations/<int:pk>/action/", evaluation_action, name="canteen_evaluation_action"),
    path("evaluations/<int:pk>/report.docx", evaluation_word, name="canteen_evaluation_report"),
    path("evaluation-templates/", evaluation_templates, name="canteen_evaluation_templates"),
    path(
        "evaluation-templates/<int:pk>/",
        evaluation_template_edit,
        name="canteen_evaluation_template_edit",
    ),
]
