"""Pages of the live map (/telemetry/live/) and the track playback (/telemetry/track/).

Both are thin: the page carries the agency choices and the vehicle picked, and its script
(static/telemetry/live.js, track.js) draws with ECharts over the offline outline of Sichuan
and Chongqing, reading /api/v1/telemetry/live (every few seconds) and
/api/v1/telemetry/track — the same scoped services every client uses."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from guanjia.core.models import Agency
from guanjia.web.helpers import requires

from .api_track import visible_vehicles

POLL_MS = 5000


def _agencies(user):
    return list(Agency.objects.restrict(user).order_by("path").values("pk", "name")[:2000])


@requires("telemetry.view")
def live_map(request):
    agency = request.GET.get("agency") or ""
    return render(
        request,
        "telemetry/live_map.html",
        {
            "agencies": _agencies(request.user),
            "agency": agency,
            "poll_ms": int(request.GET.get("poll_ms") or POLL_MS),
        },
    )


def _parse(value: str | None, default: datetime) -> datetime:
    if not value:
        return default
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return default
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


@requires("telemetry.view")
def track_playback(request):
    user = request.user
    vehicle = None
    vehicle_id = request.GET.get("vehicle")
    if vehicle_id:
        try:
            vehicle = visible_vehicles(user).get(pk=int(vehicle_id))
        except (ValueError, visible_vehicles(user).model.DoesNotExist):
            raise Http404 from None
    now = timezone.localtime()
    start = _parse(request.GET.get("from"), now.replace(hour=0, minute=0, second=0, microsecond=0))
    end = _parse(request.GET.get("to"), start + timedelta(days=1))
    choices = list(
        visible_vehicles(user)
        .exclude(terminal_key="")
        .order_by("plate")
        .values("pk", "plate")[:500]
    )
    return render(
        request,
        "telemetry/track_playback.html",
        {
            "vehicle": vehicle,
            "choices": choices,
            "start": timezone.localtime(start).strftime("%Y-%m-%dT%H:%M"),
            "end": timezone.localtime(end).strftime("%Y-%m-%dT%H:%M"),
        },
    )


urlpatterns = [
    path("live/", live_map, name="live_map"),
    path("track/", track_playback, name="track_playback"),
]
