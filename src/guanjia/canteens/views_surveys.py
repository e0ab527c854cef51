"""Pages of the diner satisfaction survey: the public form (no login, keyed by the
canteen's survey token), the printable QR code pointing at it, and the results per period
for logged-in users in scope."""

from __future__ import annotations

import segno
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from guanjia.core.indicator_registry import Period
from guanjia.web.helpers import paginate, requires

from . import surveys, waste, waste_io
from .models import Canteen

SCORES = [
    (5, gettext_lazy("非常满意")),
    (4, gettext_lazy("满意")),
    (3, gettext_lazy("一般")),
    (2, gettext_lazy("不满意")),
    (1, gettext_lazy("很不满意")),
]


def _questions():
    return [(q, str(surveys.QUESTION_LABELS[q])) for q in surveys.QUESTIONS]


@never_cache
def survey_form(request, token):
    """The anonymous form. Nothing identifying the diner is kept: the response has no user
    or address, and the address is dropped from the request before the operation log
    (which notes every POST) sees it."""
    try:
        canteen = surveys.canteen_for_token(token)
    except LookupError:
        raise Http404(_("问卷链接无效")) from None
    errors, status = {}, 200
    if request.method == "POST":
        request.META.pop("REMOTE_ADDR", None)
        request.META.pop("HTTP_X_FORWARDED_FOR", None)
        try:
            surveys.submit(canteen, request.POST, session=request.session)
        except ValidationError as exc:
            errors, status = exc.message_dict, 400
        except surveys.TooFrequent as exc:
            errors, status = {"general": [str(exc)]}, 429
        else:
            return render(request, "canteens/survey_thanks.html", {"canteen": canteen})
    return render(
        request,
        "canteens/survey_form.html",
        {
            "canteen": canteen,
            "questions": _questions(),
            "scores": SCORES,
            "errors": errors,
            "values": request.POST if request.method == "POST" else {},
        },
        status=status,
    )


def survey_url(request, canteen: Canteen) -> str:
    return request.build_absolute_uri(reverse("canteen_survey", args=[canteen.survey_token]))


@requires("canteens.view")
def survey_qr(request, pk: int):
    canteen = get_object_or_404(Canteen.objects.restrict(request.user), pk=pk)
    url = survey_url(request, canteen)
    qr = segno.make(url, error="m").svg_inline(scale=8, dark="#000", light="#fff")
    return render(request, "canteens/survey_qr.html", {"canteen": canteen, "url": url, "qr": qr})


def _results(request):
    canteens = Canteen.objects.restrict(request.user)
    canteen = request.GET.get("canteen") or ""
    if canteen.isdigit():
        canteens = canteens.filter(pk=int(canteen))
    text = request.GET.get("period") or str(waste.today().year)
    try:
        period, error = Period.parse(text), ""
    except ValueError as exc:
        period, error = Period.parse(str(waste.today().year)), str(exc)
    return surveys.Results(request.user, canteens, period), period, canteen, error


@requires("canteens.view")
def survey_results(request):
    results, period, canteen, error = _results(request)
    page = paginate(request, results)
    return render(
        request,
        "canteens/survey_results.html",
        {
            "page": page,
            "rows": page.object_list,
            "period": period,
            "canteen": canteen,
            "error": error,
            "questions": _questions(),
            "canteens": Canteen.objects.restrict(request.user).order_by("name"),
            "query": request.GET.urlencode(),
        },
    )


@requires("canteens.view")
def survey_results_export(request):
    results, period, _canteen, _error = _results(request)
    rows = list(results)
    labels = [label for _q, label in _questions()]
    summary = [
        [r["canteen_name"], r["count"], *[r["means"][q] for q in surveys.QUESTIONS],
         r["satisfaction_rate"]]
        for r in rows
    ]  # fmt: skip
    comments = [
        [r["canteen_name"], str(c["submitted_at"].date()), c["overall"], c["comment"]]
        for r in rows
        for c in r["comments"]
    ]
    content = waste_io.workbook(
        [
            (_("问卷结果"), [_("食堂"), _("份数"), *labels, _("满意度(%)")], summary),
            (_("意见建议"), [_("食堂"), _("日期"), _("总体评分"), _("意见建议")], comments),
        ]
    )
    response = HttpResponse(content, content_type=waste_io.XLSX)
    response["Content-Disposition"] = f'attachment; filename="survey-{period.label}.xlsx"'
    return response


urlpatterns = [
    path("survey/<uuid:token>/", survey_form, name="canteen_survey"),
    path("<int:pk>/survey/qr/", survey_qr, name="canteen_survey_qr"),
    path("surveys/", survey_results, name="canteen_survey_results"),
    path("surveys/export.xlsx", survey_results_export, name="canteen_survey_results_export"),
]
