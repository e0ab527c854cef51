"""Conflict checks of a dispatch (派车冲突检查), without side effects.

`assignment_problems()` lists, in Chinese, every reason a car and a driver cannot take a set
of requests (a request alone, or the requests pooled into one car):

* the vehicle or the driver is booked by another order whose time window overlaps
  (orders already assigned or on the road; orders pooled together do not clash);
* the vehicle is sealed (封存), in repair or disposed;
* the driver is not on duty, or the driving licence has expired by the last day of a trip;
* the seats do not hold the passengers: 核定座位数 counts the driver's seat, so a car with
  N seats carries N − 1 passengers (pooled requests add up).

Whether the car and the driver are inside the dispatcher's scope is the service's business
(dispatch.assign raises PermissionDenied before it gets here).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Driver, TripRequest, Vehicle

BLOCKING = (TripRequest.Status.ASSIGNED, TripRequest.Status.IN_PROGRESS)
UNUSABLE = (Vehicle.Status.SEALED, Vehicle.Status.IN_REPAIR, Vehicle.Status.DISPOSED)


def capacity(vehicle: Vehicle) -> int:
    """Passengers a car carries: its approved seats less the driver's."""
    return max(vehicle.seats - 1, 0)


def local_day(moment) -> date:
    return timezone.localtime(moment).date()


def overlapping(qs, start, end):
    """Orders of `qs` whose window [start_at, end_at) overlaps [start, end)."""
    return qs.filter(start_at__lt=end, end_at__gt=start)


def bookings(*, vehicle=None, driver=None, start, end, exclude_ids: Iterable[int] = ()):
    """Blocking orders of the vehicle or driver that overlap the window."""
    qs = TripRequest.objects.filter(status__in=BLOCKING)
    if vehicle is not None:
        qs = qs.filter(vehicle=vehicle)
    if driver is not None:
        qs = qs.filter(driver=driver)
    return overlapping(qs, start, end).exclude(pk__in=list(exclude_ids))


def _window(trip) -> str:
    start, end = timezone.localtime(trip.start_at), timezone.localtime(trip.end_at)
    return (
        f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"
        if start.date() == end.date()
        else (f"{start:%Y-%m-%d %H:%M}–{end:%Y-%m-%d %H:%M}")
    )


def vehicle_problems(vehicle: Vehicle) -> list[str]:
    if vehicle.status in UNUSABLE:
        return [
            _("车辆 %(plate)s 处于“%(status)s”状态，不能派车")
            % {"plate": vehicle.plate, "status": vehicle.get_status_display()}
        ]
    return []


def driver_problems(driver: Driver, last_day: date) -> list[str]:
    problems = []
    if not driver.is_active:
        problems.append(_("驾驶员 %(name)s 不在岗，不能派车") % {"name": driver.name})
    if driver.licence_expiry < last_day:
        problems.append(
            _("驾驶员 %(name)s 的驾驶证已于 %(expiry)s 到期（用车日期 %(day)s）")
            % {"name": driver.name, "expiry": driver.licence_expiry, "day": last_day}
        )
    return problems


def may_list(actor, trip: TripRequest) -> bool:
    """May `actor` (None: the system) see `trip`, so that a message may name it?"""
    return actor is None or TripRequest.objects.restrict(actor).filter(pk=trip.pk).exists()


def assignment_problems(
    vehicle: Vehicle,
    driver: Driver,
    trips: list[TripRequest],
    pooled: Iterable[TripRequest] = (),
    actor=None,
) -> list[str]:
    """Why `vehicle` and `driver` cannot take `trips` (to be assigned now) next to the
    orders already `pooled` in that car; an empty list means they can. A clashing order
    `actor` may not list is not named (None: the system sees every order)."""
    problems = vehicle_problems(vehicle)
    problems += driver_problems(driver, max(local_day(t.end_at) for t in trips))
    pooled = list(pooled)
    together = {t.pk for t in trips} | {t.pk for t in pooled}
    seen: set[tuple[str, int]] = set()
    for trip in trips:
        for kind, who, label in (
            ("vehicle", vehicle, _("车辆 %(name)s") % {"name": vehicle.plate}),
            ("driver", driver, _("驾驶员 %(name)s") % {"name": driver.name}),
        ):
            clash = (
                bookings(start=trip.start_at, end=trip.end_at, exclude_ids=together, **{kind: who})
                .order_by("start_at")
                .first()
            )
            if clash is not None and (kind, clash.pk) not in seen:
                seen.add((kind, clash.pk))
                if may_list(actor, clash):
                    problems.append(
                        _("%(who)s 在 %(window)s 已有派车单 %(number)s，时间冲突")
                        % {"who": label, "window": _window(clash), "number": clash.number}
                    )
                else:
                    problems.append(
                        _("%(who)s 在该时段已有其他单位的派车任务，时间冲突") % {"who": label}
                    )
    people = sum(t.passengers for t in trips) + sum(
        t.passengers for t in pooled if t.pk not in {m.pk for m in trips}
    )
    if people > capacity(vehicle):
        problems.append(
            _(
                "车辆 %(plate)s 核定 %(seats)s 座（含驾驶员），可载 %(cap)s 人，乘车人数 %(n)s 人超出"  # noqa: E501
            )
            % {
                "plate": vehicle.plate,
                "seats": vehicle.seats,
                "cap": capacity(vehicle),
                "n": people,
            }
        )
    return problems
