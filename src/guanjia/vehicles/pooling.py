"""Pooling suggestions for the dispatcher (集约管车): who can share a car, and which free car
to send first. Suggestions only: `dispatch.assign` decides and re-checks every conflict.

Sharing a car — `pool_suggestions(user, trip)`
    Candidates are the other requests the user dispatches for that are approved (待派车) or
    assigned and not yet on the road (已派车), whose time windows overlap the trip's, and
    whose route is close: origin near origin AND destination near destination, each within
    POOL_RADIUS_KM (3 km) by great-circle distance (haversine) when both places carry
    coordinates, otherwise the same place name (spaces ignored; 0 km). The passengers must
    fit: for an assigned candidate the seats of its car (less the driver's) hold the whole
    pool plus this trip; for an approved one, the largest in-service car the user manages.
    Score (0–1, higher first) = 0.6 × time overlap + 0.4 × route closeness, where
        time overlap    = overlapping minutes / the shorter of the two windows,
        route closeness = 1 − (origin km + destination km) / (2 × POOL_RADIUS_KM).
    A pool appears once (through its lead).

Free cars — `vehicle_suggestions(user, trip)`
    In-service cars of the user's vehicles scope with enough seats, belonging to the
    trip's agency, an agency above it, a motor pool (车队) directly under one of those, or an
    agency below it; cars booked (assigned or on the road) in an overlapping window are left
    out. At most CANDIDATES (300) of them (own agency first) are ranked by
        score = 0.5 × time + 0.5 × place,
        time  = 1 / (1 + idle / 4 h), idle = hours from the end of the car's last order that
                started before the window to the window's start, capped at 24 h (no such
                order: 24 h) — a car that has just come back is "nearest in time" and chains
                trips instead of waking another car;
        place = 1 / (1 + d / 5 km), d = distance from where the car is (the destination of
                that last order, else its designated garage) to the trip's origin; an
                unknown distance scores 0.25 (as if 15 km away).
    Ties by plate. The last order's driver is offered first for the car when free.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.db.models import (
    Case,
    Exists,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)

from guanjia.core.models import Agency

from .conflicts import BLOCKING, capacity, local_day
from .dispatch import dispatchable
from .models import Driver, TripRequest, Vehicle

S = TripRequest.Status
POOL_RADIUS_KM = 3.0
IDLE_CAP_H = 24.0
IDLE_SCALE_H = 4.0
PLACE_SCALE_KM = 5.0
UNKNOWN_PLACE_SCORE = 0.25
CANDIDATES = 300
POOL_CANDIDATES = 200
EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _same_name(a: str, b: str) -> bool:
    return bool(a) and "".join(a.split()) == "".join((b or "").split())


def place_km(name_a, lat_a, lon_a, name_b, lat_b, lon_b) -> float | None:
    """Distance between two places: by coordinates when both have them, 0 for the same
    name, None when unknown."""
    if None not in (lat_a, lon_a, lat_b, lon_b):
        return haversine_km(lat_a, lon_a, lat_b, lon_b)
    return 0.0 if _same_name(name_a, name_b) else None


# -- sharing a car --------------------------------------------------------------------------


@dataclass
class PoolSuggestion:
    trip: TripRequest
    score: float
    overlap_minutes: int
    origin_km: float
    destination_km: float
    passengers: int  # everyone in the shared car
    vehicle: Vehicle | None  # the car, when the candidate is already assigned


def _largest_capacity(user) -> int:
    seats = (
        Vehicle.objects.restrict(user, "view")
        .filter(status=Vehicle.Status.IN_SERVICE)
        .aggregate(m=Max("seats"))["m"]
    )
    return max((seats or 0) - 1, 0)


def pool_suggestions(user, trip: TripRequest, limit: int = 5) -> list[PoolSuggestion]:
    if trip.status not in (S.APPROVED, S.ASSIGNED):
        return []
    qs = (
        dispatchable(user)
        .filter(
            status__in=(S.APPROVED, S.ASSIGNED), start_at__lt=trip.end_at, end_at__gt=trip.start_at
        )
        .exclude(pk=trip.pk)
        .order_by("start_at", "pk")
    )
    if trip.pool_lead_id:
        qs = qs.exclude(pool_lead_id=trip.pool_lead_id)
    candidates = list(qs[:POOL_CANDIDATES])
    leads = {c.pool_lead_id for c in candidates if c.pool_lead_id}
    pool_people = dict(
        TripRequest.objects.filter(pool_lead_id__in=leads, status=S.ASSIGNED)
        .values_list("pool_lead_id")
        .annotate(n=Sum("passengers"))
    )
    largest = None
    own = trip.end_at - trip.start_at
    found, seen_pools = [], set()
    for c in candidates:
        d_origin = place_km(
            trip.origin, trip.origin_lat, trip.origin_lon, c.origin, c.origin_lat, c.origin_lon
        )
        d_dest = place_km(
            trip.destination,
            trip.destination_lat,
            trip.destination_lon,
            c.destination,
            c.destination_lat,
            c.destination_lon,
        )
        if d_origin is None or d_dest is None:
            continue
        if d_origin > POOL_RADIUS_KM or d_dest > POOL_RADIUS_KM:
            continue
        if c.status == S.ASSIGNED:
            if c.pool_lead_id in seen_pools:
                continue
            people = trip.passengers + (pool_people.get(c.pool_lead_id) or c.passengers)
            room = capacity(c.vehicle)
        else:
            people = trip.passengers + c.passengers
            if largest is None:
                largest = _largest_capacity(user)
            room = largest
        if people > room:
            continue
        overlap = min(trip.end_at, c.end_at) - max(trip.start_at, c.start_at)
        share = overlap / min(own, c.end_at - c.start_at)
        closeness = 1 - (d_origin + d_dest) / (2 * POOL_RADIUS_KM)
        if c.pool_lead_id:
            seen_pools.add(c.pool_lead_id)
        found.append(
            PoolSuggestion(
                trip=c,
                score=round(0.6 * share + 0.4 * closeness, 4),
                overlap_minutes=int(overlap.total_seconds() // 60),
                origin_km=round(d_origin, 2),
                destination_km=round(d_dest, 2),
                passengers=people,
                vehicle=c.vehicle if c.status == S.ASSIGNED else None,
            )
        )
    found.sort(key=lambda s: (-s.score, s.trip.start_at, s.trip.pk))
    return found[:limit]


# -- free cars and drivers ------------------------------------------------------------------


@dataclass
class VehicleSuggestion:
    vehicle: Vehicle
    score: float
    idle_hours: float | None  # since its last order ended; None: no earlier order
    distance_km: float | None  # from where it is to the trip's origin
    where: str  # where it is: the last destination or the garage
    last_driver_id: int | None


def serving_agencies(agency: Agency) -> list[int]:
    """Whose cars and drivers may serve `agency`: itself, the agencies above it, a motor pool
    directly under one of those, and the agencies below it (ids; one indexed query)."""
    step = Agency.steplen
    above = [agency.path[:i] for i in range(step, len(agency.path) + 1, step)]
    q = Q(path__in=above) | Q(path__startswith=agency.path)
    for path in above:
        q |= Q(kind=Agency.Kind.MOTORPOOL, path__startswith=path, depth=len(path) // step + 1)
    return list(Agency.objects.filter(q).values_list("pk", flat=True))


def _rank(agency: Agency):
    return Case(
        When(agency_id=agency.pk, then=Value(0)), default=Value(1), output_field=IntegerField()
    )


def _not_booked(model_field: str, trip: TripRequest, pool_ids):
    return ~Exists(
        TripRequest.objects.filter(
            **{model_field: OuterRef("pk")},
            status__in=BLOCKING,
            start_at__lt=trip.end_at,
            end_at__gt=trip.start_at,
        ).exclude(pk__in=pool_ids)
    )


def _pool_ids(trip: TripRequest) -> list[int]:
    if trip.pool_lead_id is None:
        return [trip.pk]
    return list(
        TripRequest.objects.filter(pool_lead_id=trip.pool_lead_id).values_list("pk", flat=True)
    )


def vehicle_suggestions(user, trip: TripRequest, limit: int = 10) -> list[VehicleSuggestion]:
    pool_ids = _pool_ids(trip)
    ids = list(
        Vehicle.objects.restrict(user, "view")
        .filter(agency_id__in=serving_agencies(trip.agency), status=Vehicle.Status.IN_SERVICE)
        .filter(seats__gte=trip.passengers + 1)
        .filter(_not_booked("vehicle", trip, pool_ids))
        .annotate(rank=_rank(trip.agency))
        .order_by("rank", "plate")
        .values_list("pk", flat=True)[:CANDIDATES]
    )
    # Only trips the dispatcher may list: a car's last trip elsewhere must not leak its
    # destination or driver.
    prior = (
        TripRequest.objects.restrict(user, "view")
        .filter(
            vehicle=OuterRef("pk"),
            status__in=(S.ASSIGNED, S.IN_PROGRESS, S.COMPLETED),
            start_at__lt=trip.start_at,
        )
        .order_by("-start_at")
    )
    cars = (
        Vehicle.objects.filter(pk__in=ids)
        .select_related("garage", "agency")
        .annotate(
            last_end=Subquery(prior.values("end_at")[:1]),
            last_place=Subquery(prior.values("destination")[:1]),
            last_lat=Subquery(prior.values("destination_lat")[:1]),
            last_lon=Subquery(prior.values("destination_lon")[:1]),
            last_driver=Subquery(prior.values("driver_id")[:1]),
        )
    )
    ranked = []
    for car in cars:
        idle = None
        if car.last_end is not None:
            idle = max((trip.start_at - car.last_end).total_seconds() / 3600, 0.0)
        time_score = 1 / (1 + min(IDLE_CAP_H if idle is None else idle, IDLE_CAP_H) / IDLE_SCALE_H)
        if car.last_end is not None and (car.last_lat is not None or car.last_place):
            where, lat, lon = car.last_place, car.last_lat, car.last_lon
        elif car.garage is not None:
            where, lat, lon = car.garage.name, car.garage.lat, car.garage.lon
        else:
            where, lat, lon = "", None, None
        d = place_km(where, lat, lon, trip.origin, trip.origin_lat, trip.origin_lon)
        place_score = UNKNOWN_PLACE_SCORE if d is None else 1 / (1 + d / PLACE_SCALE_KM)
        ranked.append(
            VehicleSuggestion(
                vehicle=car,
                score=round(0.5 * time_score + 0.5 * place_score, 4),
                idle_hours=None if idle is None else round(idle, 1),
                distance_km=None if d is None else round(d, 1),
                where=where,
                last_driver_id=car.last_driver,
            )
        )
    ranked.sort(key=lambda s: (-s.score, s.vehicle.plate))
    return ranked[:limit]


def driver_choices(user, trip: TripRequest, limit: int = 100) -> list[Driver]:
    """Drivers who can take the trip: on duty, licence valid on its last day, not booked."""
    return list(
        Driver.objects.restrict(user, "view")
        .filter(agency_id__in=serving_agencies(trip.agency), is_active=True)
        .filter(licence_expiry__gte=local_day(trip.end_at))
        .filter(_not_booked("driver", trip, _pool_ids(trip)))
        .annotate(rank=_rank(trip.agency))
        .select_related("agency")
        .order_by("rank", "name", "pk")[:limit]
    )
