"""Pages of the canteens and their daily counts: the canteen list, a canteen's page (today's
entry, recent days, events), the canteen form, and the diner upload. Every query starts from
`restrict(request.user)`; writes go through `services` and `diners_io`."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanjia.web.helpers import add_service_error, paginate, requires

from . import services
from .diners_io import import_diners
from .forms_canteens import CanteenForm, DinersForm, EventForm, UploadForm
from .models import AttendanceEvent, Canteen, DinerCount, Forecast


def visible_canteen(request, pk: int, action: str = "view") -> Canteen:
    return get_object_or_404(Canteen.objects.restrict(request.user, action), pk=pk)


@requires("canteens.view")
def canteen_list(request):
    canteens = Canteen.objects.restrict(request.user).select_related("agency")
    if q := request.GET.get("q", "").strip():
        canteens = canteens.filter(name__contains=q)
    today = timezone.localdate()
    page = paginate(request, canteens.order_by("agency__path", "name"))
    ids = [c.pk for c in page]
    counts = dict(
        DinerCount.objects.filter(canteen__in=ids, date=today, meal="lunch").values_list(
            "canteen", "diners"
        )
    )
    planned = dict(
        Forecast.objects.filter(canteen__in=ids, date=today, meal="lunch").values_list(
            "canteen", "p50"
        )
    )
    for c in page:
        c.today_diners, c.today_forecast = counts.get(c.pk), planned.get(c.pk)
    return render(
        request,
        "canteens/canteen_list.html",
        {"page": page, "today": today, "can_add": request.user.can("canteens.add")},
    )


@requires("canteens.view")
def canteen_detail(request, pk: int):
    canteen = visible_canteen(request, pk)
    diners_form, event_form = DinersForm(), EventForm()
    if request.method == "POST":
        which = request.POST.get("form")
        if which == "diners":
            diners_form = DinersForm(request.POST)
            if diners_form.is_valid() and _diners(request, canteen, diners_form):
                return redirect("canteen_detail", pk=pk)
        elif which == "event":
            event_form = EventForm(request.POST)
            if event_form.is_valid():
                try:
                    services.add_event(request.user, canteen, **event_form.cleaned_data)
                    messages.success(request, _("已登记用餐事件"))
                    return redirect("canteen_detail", pk=pk)
                except (ValidationError, PermissionDenied) as exc:
                    add_service_error(event_form, exc)
    today = timezone.localdate()
    recent = (
        DinerCount.objects.restrict(request.user)
        .filter(canteen=canteen)
        .order_by("-date", "meal")[:21]
    )
    events = (
        AttendanceEvent.objects.restrict(request.user)
        .filter(canteen=canteen, date__gte=today)
        .order_by("date")[:20]
    )
    return render(
        request,
        "canteens/canteen_detail.html",
        {
            "canteen": canteen,
            "recent": recent,
            "events": events,
            "diners_form": diners_form,
            "event_form": event_form,
            "can_change": request.user.can("canteens.change"),
        },
    )


def _diners(request, canteen, form) -> bool:
    data = form.cleaned_data
    try:
        services.record_diners(request.user, canteen, data["date"], data["diners"], data["meal"])
    except (ValidationError, PermissionDenied) as exc:
        add_service_error(form, exc)
        return False
    messages.success(
        request, _("已记录 %(d)s 就餐人数 %(n)s") % {"d": data["date"], "n": data["diners"]}
    )
    return True


@requires("canteens.change")
def canteen_edit(request, pk: int | None = None):
    canteen = visible_canteen(request, pk, "change") if pk else None
    form = CanteenForm(request.POST or None, instance=canteen, user=request.user)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            saved = services.save_canteen(request.user, canteen, **fields)
            messages.success(request, _("已保存食堂 %(n)s") % {"n": saved.name})
            return redirect("canteen_detail", pk=saved.pk)
        except (ValidationError, PermissionDenied) as exc:
            add_service_error(form, exc)
    return render(request, "canteens/canteen_form.html", {"form": form, "canteen": canteen})


@requires("canteens.add")
def diners_upload(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        result = import_diners(request.user, upload, upload.name)
        if not result["errors"]:
            messages.success(request, _("已导入 %(n)s 条就餐人数") % {"n": result["imported"]})
            return redirect("canteen_list")
    return render(request, "canteens/diners_upload.html", {"form": form, "result": result})


@require_POST
@requires("canteens.delete")
def event_delete(request, pk: int):
    event = get_object_or_404(AttendanceEvent.objects.restrict(request.user, "delete"), pk=pk)
    services.delete(request.user, event)
    messages.success(request, _("已删除用餐事件"))
    return redirect("canteen_detail", pk=event.canteen_id)


urlpatterns = [
    path("", canteen_list, name="canteen_list"),
    path("new/", canteen_edit, name="canteen_add"),
    path("diners/upload/", diners_upload, name="canteen_diners_upload"),
    path("events/<int:pk>/delete/", event_delete, name="canteen_event_delete"),
    path("<int:pk>/", canteen_detail, name="canteen_detail"),
    path("<int:pk>/edit/", canteen_edit, name="canteen_edit"),
]
