"""Pages of online dispatch (网上派车): my requests (the agency's for managers), the request
form, a request with the actions its viewer may take, the printable 派车单, and the
dispatcher's board with the assignment panel (pooling suggestions, free cars, drivers).

Every query starts from `restrict(request.user)`; every write goes through `dispatch`. The
board stays fast on a province-sized fleet: each section is one paginated query within the
dispatcher's agencies and a time horizon (rows with select_related, no per-row queries);
the suggestions are computed for one request at a time, when its panel is opened.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanjia.web.helpers import call_service, is_htmx, paginate, requires

from . import dispatch, pooling
from .forms_dispatch import TripFilterForm, TripForm
from .models import Driver, TripRequest, Vehicle

S = TripRequest.Status
BOARD_PAGE = 20
HORIZON = timedelta(days=14)  # approved requests further ahead are left for later


def _back(request, default: str) -> str:
    target = request.POST.get("next") or ""
    ok = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if ok else default


def _fail(request, exc) -> None:
    text = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    messages.error(request, text or _("操作失败"))


def _name(user) -> str:
    return (user.real_name or user.username) if user else ""


# -- requests -------------------------------------------------------------------------------


@requires("dispatch.view")
def trip_list(request):
    user = request.user
    form = TripFilterForm(request.GET or None)
    qs = dispatch.visible(user)
    if form.is_valid():
        data = form.cleaned_data
        if data["status"]:
            qs = qs.filter(status=data["status"])
        tz = timezone.get_current_timezone()
        if data["date_from"]:
            qs = qs.filter(start_at__gte=datetime.combine(data["date_from"], time.min, tz))
        if data["date_to"]:
            end = datetime.combine(data["date_to"], time.min, tz) + timedelta(days=1)
            qs = qs.filter(start_at__lt=end)
        if data["q"]:
            qs = qs.filter(Q(number__contains=data["q"]) | Q(purpose__contains=data["q"]))
    page = paginate(request, qs.order_by("-start_at", "-pk"))
    return render(
        request,
        "vehicles/trip_list.html",
        {
            "page": page,
            "form": form,
            "can_add": user.can("dispatch.add"),
            "dispatcher": user.is_superuser or dispatch.agencies_reached(user).exists(),
        },
    )


@requires("dispatch.add")
def trip_new(request):
    form = TripForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        trip = call_service(form, dispatch.request_trip, request.user, **form.cleaned_data)
        if trip is not None:
            done = _("用车申请 %(number)s 已提交，等待审批") % {"number": trip.number}
            messages.success(request, done)
            return redirect("trip_detail", pk=trip.pk)
    return render(request, "vehicles/trip_form.html", {"form": form})


@requires("dispatch.view")
def trip_detail(request, pk: int):
    user = request.user
    trip = get_object_or_404(dispatch.visible(user), pk=pk)
    dispatcher = dispatch.can_dispatch(user, trip)
    mine = trip.requester_id == user.pk
    pool = []
    if trip.pool_lead_id:
        pool = list(
            dispatch.visible(user)
            .filter(pool_lead_id=trip.pool_lead_id)
            .exclude(pk=trip.pk)
            .order_by("start_at", "pk")
        )
    return render(
        request,
        "vehicles/trip_detail.html",
        {
            "trip": trip,
            "pool": pool,
            "can_approve": dispatcher and trip.status == S.REQUESTED and not mine,
            "can_assign": dispatcher and trip.status in (S.APPROVED, S.ASSIGNED),
            "can_start": dispatcher and trip.status == S.ASSIGNED,
            "can_end": dispatcher and trip.status == S.IN_PROGRESS,
            "can_rate": mine and trip.status == S.COMPLETED and trip.rating is None,
            "can_cancel": (mine or dispatcher) and trip.status in dispatch.CANCELLABLE,
            "distance": (
                trip.end_odometer_km - trip.start_odometer_km
                if trip.end_odometer_km is not None and trip.start_odometer_km is not None
                else None
            ),
        },
    )


@requires("dispatch.view")
def trip_print(request, pk: int):
    trip = get_object_or_404(dispatch.visible(request.user), pk=pk)
    return render(
        request,
        "vehicles/trip_print.html",
        {
            "trip": trip,
            "requester": _name(trip.requester),
            "approver": _name(trip.approver),
            "dispatcher": _name(trip.dispatcher),
            "printed_at": timezone.localtime(),
        },
    )


def _action(request, pk: int, fn, done: str, *args):
    trip = get_object_or_404(dispatch.visible(request.user), pk=pk)
    try:
        fn(request.user, trip, *args)
        messages.success(request, done % {"number": trip.number})
    except (ValidationError, PermissionDenied) as exc:
        _fail(request, exc)
    return redirect(_back(request, reverse("trip_detail", args=[pk])))


@require_POST
@requires("dispatch.change")
def trip_approve(request, pk: int):
    return _action(request, pk, dispatch.approve, _("%(number)s 已审批通过"))


@require_POST
@requires("dispatch.change")
def trip_reject(request, pk: int):
    reason = request.POST.get("reason", "")
    return _action(request, pk, dispatch.reject, _("%(number)s 已驳回"), reason)


@require_POST
@requires("dispatch.change")
def trip_start(request, pk: int):
    km = request.POST.get("odometer_km") or None
    return _action(request, pk, dispatch.start, _("%(number)s 已出车"), km)


@require_POST
@requires("dispatch.change")
def trip_end(request, pk: int):
    km = request.POST.get("odometer_km", "")
    return _action(request, pk, dispatch.end, _("%(number)s 已收车"), km)


@require_POST
@requires("dispatch.change")
def trip_rate(request, pk: int):
    rating, comment = request.POST.get("rating"), request.POST.get("comment", "")
    return _action(request, pk, dispatch.rate, _("%(number)s 评价已提交"), rating, comment)


@require_POST
@requires("dispatch.change")
def trip_cancel(request, pk: int):
    reason = request.POST.get("reason", "")
    return _action(request, pk, dispatch.cancel, _("%(number)s 已取消"), reason)


# -- the dispatcher's board -----------------------------------------------------------------


def _require_board(user) -> None:
    if not user.is_superuser and not dispatch.agencies_reached(user).exists():
        raise PermissionDenied(_("派车调度需要单位范围的调度权限（dispatch.change）"))


@requires("dispatch.change")
def dispatch_board(request):
    user = request.user
    _require_board(user)
    rows = dispatch.dispatchable(user)
    now = timezone.now()
    today = datetime.combine(timezone.localdate(), time.min, timezone.get_current_timezone())

    def page(qs, param):
        return Paginator(qs, BOARD_PAGE).get_page(request.GET.get(param))

    pending = page(rows.filter(status=S.REQUESTED).order_by("start_at", "pk"), "p1")
    waiting = page(
        rows.filter(
            status=S.APPROVED, start_at__gte=today - timedelta(days=1), start_at__lt=now + HORIZON
        ).order_by("start_at", "pk"),
        "p2",
    )
    soon = Q(status=S.ASSIGNED, start_at__gte=today - timedelta(days=1))
    soon &= Q(start_at__lt=now + timedelta(days=1))
    running = page(
        rows.filter(Q(status=S.IN_PROGRESS) | soon).order_by("start_at", "pk"),
        "p3",
    )
    return render(
        request,
        "vehicles/dispatch_board.html",
        {"pending": pending, "waiting": waiting, "running": running, "now": now},
    )


def _panel_context(user, trip: TripRequest) -> dict:
    vehicles = pooling.vehicle_suggestions(user, trip)
    drivers = pooling.driver_choices(user, trip)
    preferred = vehicles[0].last_driver_id if vehicles else None
    if preferred not in {d.pk for d in drivers}:
        preferred = drivers[0].pk if drivers else None
    return {
        "trip": trip,
        "pools": pooling.pool_suggestions(user, trip),
        "vehicles": vehicles,
        "drivers": drivers,
        "preferred_driver": preferred,
    }


@requires("dispatch.change")
def dispatch_assign(request, pk: int):
    user = request.user
    _require_board(user)
    trip = get_object_or_404(dispatch.dispatchable(user), pk=pk)
    errors = []
    if request.method == "POST":
        post = request.POST
        pool = vehicle = driver = None
        if post.get("pool_with_id"):
            pool = get_object_or_404(dispatch.dispatchable(user), pk=post["pool_with_id"])
        if pool is None or pool.status != S.ASSIGNED:  # an assigned pool lends its own car
            cars = Vehicle.objects.restrict(user)
            if post.get("plate", "").strip():
                vehicle = cars.filter(plate=post["plate"].strip().upper()).first()
                if vehicle is None:
                    errors.append(_("未找到车牌号为 %(plate)s 的车辆") % {"plate": post["plate"]})
            elif post.get("vehicle_id"):
                vehicle = get_object_or_404(cars, pk=post["vehicle_id"])
            if post.get("driver_id"):
                driver = get_object_or_404(Driver.objects.restrict(user), pk=post["driver_id"])
        if not errors:
            try:
                dispatch.assign(user, trip, vehicle, driver, pool_with=pool)
            except (ValidationError, PermissionDenied) as exc:
                errors = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            else:
                trip.refresh_from_db()
                names = {"number": trip.number, "plate": trip.vehicle.plate}
                names["driver"] = trip.driver.name
                messages.success(
                    request, _("%(number)s 已派车：%(plate)s，驾驶员 %(driver)s") % names
                )
                if is_htmx(request):
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = reverse("dispatch_board")
                    return response
                return redirect("dispatch_board")
    context = _panel_context(user, trip) | {"errors": errors}
    if is_htmx(request):
        return render(request, "vehicles/dispatch_assign_panel.html", context)
    return render(request, "vehicles/dispatch_assign.html", context)


urlpatterns = [
    path("trips/", trip_list, name="trip_list"),
    path("trips/new/", trip_new, name="trip_new"),
    path("trips/<int:pk>/", trip_detail, name="trip_detail"),
    path("trips/<int:pk>/print/", trip_print, name="trip_print"),
    path("trips/<int:pk>/approve/", trip_approve, name="trip_approve"),
    path("trips/<int:pk>/reject/", trip_reject, name="trip_reject"),
    path("trips/<int:pk>/start/", trip_start, name="trip_start"),
    path("trips/<int:pk>/end/", trip_end, name="trip_end"),
    path("trips/<int:pk>/rate/", trip_rate, name="trip_rate"),
    path("trips/<int:pk>/cancel/", trip_cancel, name="trip_cancel"),
    path("dispatch/", dispatch_board, name="dispatch_board"),
    path("dispatch/<int:pk>/assign/", dispatch_assign, name="dispatch_assign"),
]
