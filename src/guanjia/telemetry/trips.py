"""Trips (行程) segmented from a terminal's positions and matched to dispatch orders.

* `segment(positions)` — pure, over one terminal's positions ordered by GNSS time. A trip
  starts at the first moving report (speed ≥ `min_speed_kmh`) and ends at the first of:
  ignition off (status bit 0 clear), a stop (speed below the threshold) lasting more than
  `stop_min` minutes (the trip ends where the stop began), or a gap between two reports of
  more than `gap_min` minutes (the trip ends at the report before the gap). Trips shorter
  than `min_distance_km` or `min_duration_s` are dropped (GNSS drift in a car park).
  Distance is the haversine sum of the track and, where the terminal sends the mileage item
  (0x01), the odometer difference; `distance_km` prefers the odometer.
* `match(trip, orders)` — the order a trip fulfils: score = 0.6 × the share of the trip's
  time inside the order's window (± 30 min) + 0.2 × start near the order's origin + 0.2 ×
  end near its destination (1 within 2 km, falling to 0 at 20 km); without coordinates the
  time share carries the whole score. The best order scoring ≥ 0.5 is the match.
* `store(vehicle, trips)` — Trip rows (one per vehicle and start time: a re-run updates),
  and the vehicle's odometer raised to the highest mileage reported.
* `positions_between(terminal, start, end)` — a terminal's positions from the archive
  (archive.track: Parquet plus the write-ahead segments); the one place trips and the
  track playback read positions, so tests can swap it (`set_source`).

`guanjia telemetry trips --date 2026-03-04 [--agency ID]` runs this over every terminal of
the register for that China-time day.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import numpy as np

from . import geo
from .positions import CHINA, Position


@dataclass(frozen=True)
class TripParams:
    min_speed_kmh: float = 3.0
    stop_min: float = 5.0
    gap_min: float = 10.0
    min_distance_km: float = 0.3
    min_duration_s: int = 60


@dataclass
class TripSegment:
    terminal: str
    start: int
    end: int
    start_lat: float
    start_lon: float
    end_lat: float
    end_lon: float
    gps_km: float
    mileage_km: float | None
    max_speed_kmh: float
    points: int
    order_id: int | None = None
    score: float | None = None
    track: list = field(default_factory=list, repr=False)

    @property
    def distance_km(self) -> float:
        return self.mileage_km if self.mileage_km is not None else self.gps_km

    @property
    def duration_s(self) -> int:
        return self.end - self.start


def _make(points: Sequence[Position], params: TripParams) -> TripSegment | None:
    if len(points) < 2:
        return None
    lats = np.fromiter((p.lat for p in points), float, len(points))
    lons = np.fromiter((p.lon for p in points), float, len(points))
    gps = float(geo.haversine_km_many(lats[:-1], lons[:-1], lats[1:], lons[1:]).sum())
    miles = [p.mileage_km for p in points if p.mileage_km is not None]
    mileage = None
    if len(miles) >= 2 and miles[-1] >= miles[0]:
        mileage = round(miles[-1] - miles[0], 3)
    first, last = points[0], points[-1]
    seg = TripSegment(
        terminal=first.terminal,
        start=first.time,
        end=last.time,
        start_lat=first.lat,
        start_lon=first.lon,
        end_lat=last.lat,
        end_lon=last.lon,
        gps_km=round(gps, 3),
        mileage_km=mileage,
        max_speed_kmh=max(p.speed_kmh for p in points),
        points=len(points),
        track=list(points),
    )
    if seg.distance_km < params.min_distance_km or seg.duration_s < params.min_duration_s:
        return None
    return seg


def segment(positions: Iterable[Position], params: TripParams | None = None) -> list[TripSegment]:
    """One terminal's trips from its positions (ordered by time; duplicates ignored)."""
    params = params or TripParams()
    stop_s, gap_s = params.stop_min * 60, params.gap_min * 60
    trips: list[TripSegment] = []
    current: list[Position] = []
    stop_at: int | None = None  # index in current where the ongoing stop began
    last_t = None

    def close(upto: int | None = None):
        nonlocal current, stop_at
        pts = current if upto is None else current[: upto + 1]
        seg = _make(pts, params)
        if seg is not None:
            trips.append(seg)
        current, stop_at = [], None

    for p in positions:
        if last_t is not None and p.time <= last_t:
            continue
        if current and p.time - last_t > gap_s:
            close(stop_at)
        last_t = p.time
        moving = p.speed_kmh >= params.min_speed_kmh
        if not current:
            if moving and p.status & 1:
                current = [p]
            continue
        current.append(p)
        if not p.status & 1:  # ignition off ends the trip here
            close()
            continue
        if moving:
            stop_at = None
        else:
            if stop_at is None:
                stop_at = len(current) - 1
            elif p.time - current[stop_at].time > stop_s:
                close(stop_at)
    if current:
        close(stop_at)
    return trips


# -- matching to dispatch orders -------------------------------------------------------------


def _near(lat, lon, o_lat, o_lon) -> float | None:
    if o_lat is None or o_lon is None:
        return None
    km = geo.haversine_km(lat, lon, o_lat, o_lon)
    return max(0.0, min(1.0, (20.0 - km) / 18.0))


def score(trip: TripSegment, order) -> float:
    """How well `order` (a TripRequest, or anything with its fields) explains the trip."""
    s = min(order.start_at, order.started_at) if order.started_at else order.start_at
    e = max(order.end_at, order.ended_at) if order.ended_at else order.end_at
    lo = s.timestamp() - 1800
    hi = e.timestamp() + 1800
    overlap = max(0.0, min(trip.end, hi) - max(trip.start, lo))
    share = overlap / max(1, trip.duration_s)
    if share <= 0:
        return 0.0
    near = [
        _near(trip.start_lat, trip.start_lon, order.origin_lat, order.origin_lon),
        _near(trip.end_lat, trip.end_lon, order.destination_lat, order.destination_lon),
    ]
    known = [x for x in near if x is not None]
    if not known:
        return round(share, 3)
    weight = 0.2 * len(known)
    return round((1 - weight) * share + 0.2 * sum(known), 3)


def match(trip: TripSegment, orders: Sequence, threshold: float = 0.5):
    """The best order for the trip (score ≥ threshold), with its score; else (None, None)."""
    best, best_score = None, 0.0
    for order in orders:
        sc = score(trip, order)
        if sc > best_score:
            best, best_score = order, sc
    if best is None or best_score < threshold:
        return None, None
    return best, best_score


# -- positions -------------------------------------------------------------------------------

Source = Callable[[str, int, int], list[Position]]
_source: Source | None = None


def set_source(source: Source | None) -> None:
    """Read positions from `source(terminal, start, end)` instead of the archive (tests,
    other stores); None restores the archive."""
    global _source
    _source = source


def positions_between(terminal: str, start: int, end: int) -> list[Position]:
    """A terminal's positions with GNSS time in [start, end), ordered by time."""
    if _source is not None:
        return _source(terminal, start, end)
    from . import archive

    return archive.track(terminal, start, end)


def day_bounds(day: date) -> tuple[int, int]:
    start = datetime.combine(day, time.min, CHINA)
    return int(start.timestamp()), int((start + timedelta(days=1)).timestamp())


# -- storing ---------------------------------------------------------------------------------


def store(vehicle, segments: Sequence[TripSegment], orders: Sequence = (), odometer=None) -> list:
    """Match and save a vehicle's trips (update_or_create on its start time), raise its
    odometer to `odometer` (default: the highest mileage in the trips' tracks); returns the
    Trip rows."""
    from django.db import transaction

    from guanjia.core.context import acting_as

    from .models import Trip

    rows = []
    with acting_as(source="system"), transaction.atomic():
        for seg in segments:
            order, sc = match(seg, orders)
            seg.order_id, seg.score = (order.pk if order else None), sc
            trip, _created = Trip.objects.update_or_create(
                vehicle=vehicle,
                started_at=datetime.fromtimestamp(seg.start, UTC),
                defaults={
                    "ended_at": datetime.fromtimestamp(seg.end, UTC),
                    "start_lat": seg.start_lat,
                    "start_lon": seg.start_lon,
                    "end_lat": seg.end_lat,
                    "end_lon": seg.end_lon,
                    "distance_km": round(seg.distance_km, 3),
                    "max_speed_kmh": seg.max_speed_kmh,
                    "points": seg.points,
                    "order": order,
                    "match_score": sc,
                },
            )
            rows.append(trip)
        if odometer is None:
            odometer = max(
                (p.mileage_km for s in segments for p in s.track if p.mileage_km is not None),
                default=None,
            )
        if odometer is not None and Decimal(str(round(odometer, 1))) > vehicle.odometer_km:
            vehicle.odometer_km = Decimal(str(round(odometer, 1)))
            vehicle.save(update_fields=["odometer_km", "updated_at"])
    return rows


def run_day(day: date, *, agency=None, params: TripParams | None = None) -> dict:
    """Trips of every registered terminal (of `agency` and below) for one China-time day:
    the day's positions in columns (batch.day_columns: one DuckDB query over the archive and
    the write-ahead segments; or the source set by `set_source`), cut by batch.segment (the
    same cuts as `segment`), matched and stored per vehicle."""
    import numpy as np

    from guanjia.core.scope import subtree_q
    from guanjia.vehicles.models import TripRequest, Vehicle

    from . import batch

    start, end = day_bounds(day)
    vehicles = Vehicle.objects.exclude(terminal_key="")
    if agency is not None:
        vehicles = vehicles.filter(subtree_q("agency", agency))
    by_key = {v.terminal_key: v for v in vehicles}
    if _source is not None:
        positions = [p for key in by_key for p in _source(key, start, end)]
        cols = batch.Columns.from_positions(positions)
    else:
        cols = batch.day_columns(start, end)
    lo = datetime.fromtimestamp(start - 86400, UTC)
    hi = datetime.fromtimestamp(end + 86400, UTC)
    orders_by_vehicle: dict[int, list] = {}
    for o in TripRequest.objects.filter(
        vehicle__in=vehicles,
        status__in=("assigned", "in_progress", "completed"),
        start_at__lt=hi,
        end_at__gt=lo,
    ):
        orders_by_vehicle.setdefault(o.vehicle_id, []).append(o)
    segs: dict[str, list[TripSegment]] = {}
    for r in batch.segment(cols, params):
        f, la = r["first"], r["last"]
        segs.setdefault(r["terminal"], []).append(
            TripSegment(
                terminal=r["terminal"],
                start=r["start"],
                end=r["end"],
                start_lat=float(cols.lat[f]),
                start_lon=float(cols.lon[f]),
                end_lat=float(cols.lat[la]),
                end_lon=float(cols.lon[la]),
                gps_km=r["gps_km"],
                mileage_km=r["mileage_km"],
                max_speed_kmh=r["max_speed_kmh"],
                points=r["points"],
            )
        )
    totals = {"day": day.isoformat(), "vehicles": 0, "positions": 0, "trips": 0, "matched": 0}
    distance = 0.0
    bounds = []
    if len(cols):
        bounds = np.flatnonzero(np.r_[True, cols.code[1:] != cols.code[:-1], True]).tolist()
    for lo_i, hi_i in itertools.pairwise(bounds):
        key = cols.keys[int(cols.code[lo_i])]
        vehicle = by_key.get(key)
        if vehicle is None:
            continue
        totals["vehicles"] += 1
        totals["positions"] += int(hi_i - lo_i)
        mil = cols.mileage[lo_i:hi_i]
        odometer = float(np.nanmax(mil)) if not np.isnan(mil).all() else None
        mine = segs.get(key, [])
        rows = store(vehicle, mine, orders_by_vehicle.get(vehicle.pk, ()), odometer)
        totals["trips"] += len(rows)
        totals["matched"] += sum(1 for r in rows if r.order_id)
        distance += sum(s.distance_km for s in mine)
    totals["distance_km"] = round(distance, 1)
    return totals


def trip_dict(seg: TripSegment) -> dict:
    iso = lambda t: datetime.fromtimestamp(t, UTC).astimezone(CHINA).isoformat()  # noqa: E731
    return {
        "start": iso(seg.start),
        "end": iso(seg.end),
        "distance_km": round(seg.distance_km, 3),
        "gps_km": seg.gps_km,
        "mileage_km": seg.mileage_km,
        "max_speed_kmh": seg.max_speed_kmh,
        "points": seg.points,
        "order_id": seg.order_id,
        "score": seg.score,
    }
