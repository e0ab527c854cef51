"""A fleet of simulated JT/T 808 terminals over real TCP (`guanjia simulate`).

Each terminal is one asyncio task on one connection: it registers (0x0100; a mix of 2013
and 2019 editions), authenticates with the code from 0x8100 (0x0102), then reports 0x0200
every `interval` seconds of GNSS time, sends heartbeats (0x0002) while parked, and after a
short simulated signal gap uploads what it stored as a 0x0704 blind-area batch. Replies are
read by the same codec the gateway uses; every 0x8001 that acknowledges a position message
gives one send→ack latency.

Time. `interval` and `duration` are GNSS (simulated) seconds; `speedup` K makes the wall
clock run K times slower than GNSS time, so ``--interval 30 --duration 7200 --speedup 600``
sends 240 reports per terminal in 12 s of wall time. `start` (default: now) is the GNSS
time of the first report; the plan of every terminal depends only on `seed`, the terminal's
index and `start`, never on timing.

Behaviour. A car lives at its garage (from the register, or near a city of its province).
On workdays it makes trips between 08:00 and 20:00: a smooth random walk outward at urban
speeds (AR(1) speed, heading drifting a few degrees per step, turned back at its province's
border), then steering home and parking in the garage; ACC is on while moving and the 0x01
mileage item grows with the distance driven. Nights, weekends and holidays: parked.

Planted misuse. A share of terminals (`misuse_share`) each get one episode, the kinds
taking turns, named by the rule keys of rules.py (rule_defs):
  tm_off_hours     a trip at night (from 22:30), or on a non-workday when the window has
                   no night
  tm_speeding      4 minutes at 130–145 km/h inside a daytime trip
  tm_jurisdiction  a trip to the nearest border of its province, 15 minutes beyond it, back
  tm_silent        10 minutes without any message while driving (no back-fill)
  tm_garage        the last trip of a workday ends 2–5 km away and the car stays overnight

Ground truth is what the platform can see, derived from the positions actually delivered
(live or back-filled) with the default rule parameters of data/rules.json: a list of
``{"terminal", "rule", "start", "end", "planted"}`` (ISO 8601, +08:00; "planted" false for
consequences of ordinary behaviour, e.g. tm_no_order for every trip, as the simulated cars
have no dispatch orders). Tests measure recall and precision against it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from . import jt808 as j

CHINA = timezone(timedelta(hours=8))
DATA = Path(__file__).resolve().parent / "data" / "rules.json"

OFF_HOURS = "tm_off_hours"
SPEEDING = "tm_speeding"
JURISDICTION = "tm_jurisdiction"
SILENT = "tm_silent"
GARAGE = "tm_garage"
NO_ORDER = "tm_no_order"
MISUSE_KINDS = (OFF_HOURS, SPEEDING, JURISDICTION, SILENT, GARAGE)

# A few city centres per province (WGS-84) where generated garages are placed.
CITIES = {
    "510000": [
        (30.6598, 104.0657),  # 成都
        (29.5820, 105.0583),  # 内江
        (30.8373, 106.1107),  # 南充
        (31.4675, 104.6796),  # 绵阳
        (29.5521, 103.7656),  # 乐山
        (27.8816, 102.2674),  # 西昌
    ],
    "500000": [
        (29.5630, 106.5516),  # 渝中
        (30.8078, 108.4080),  # 万州
        (29.7098, 106.6280),  # 渝北
        (29.3560, 105.9270),  # 永川
        (29.3280, 108.7700),  # 黔江
    ],
}


def _defaults() -> dict[str, dict]:
    params = {
        NO_ORDER: {"min_speed_kmh": 5, "min_duration_s": 180, "quiet_gap_s": 600},
        OFF_HOURS: {
            "night_start": "22:00",
            "night_end": "06:00",
            "min_speed_kmh": 5,
            "min_duration_s": 120,
            "quiet_gap_s": 900,
        },
        JURISDICTION: {"min_duration_s": 300, "quiet_gap_s": 1800},
        SPEEDING: {"limit_kmh": 120, "min_duration_s": 60, "quiet_gap_s": 300},
        GARAGE: {
            "night_checks": ["23:30"],
            "holiday_checks": ["10:00", "15:00"],
            "tolerance_m": 50,
        },
        SILENT: {"silent_s": 300, "min_speed_kmh": 5},
    }
    with contextlib.suppress(OSError, ValueError, KeyError):
        for item in json.loads(DATA.read_text(encoding="utf-8"))["items"]:
            if item["rule"] in params:
                params[item["rule"]].update(item.get("params", {}))
    return params


def _hhmm(text: str) -> int:
    h, _s, m = str(text).partition(":")
    return int(h) * 3600 + int(m or 0) * 60


def local_sod(t: float) -> int:
    return int((t + 8 * 3600) % 86400)


def local_midnight(t: float) -> int:
    return int(t - local_sod(t))


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).astimezone(CHINA).isoformat()


def _workday_default(day) -> bool:
    from guanjia.core.calendar import is_workday

    return is_workday(day)


def _distance_m(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(min(1.0, math.sqrt(a)))


def _bearing(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(y, x)) % 360


def _move(lat, lon, heading, dist_m):
    d = dist_m / 111_320.0
    h = math.radians(heading)
    return lat + d * math.cos(h), lon + d * math.sin(h) / max(0.2, math.cos(math.radians(lat)))


class Provinces:
    """Point-in-province tests (shapely outlines of geo.py), cached per province."""

    def __init__(self):
        self._geoms = {}

    def geom(self, code):
        if code not in self._geoms:
            try:
                from .geo import province_geometry

                self._geoms[code] = province_geometry(code)
            except Exception:  # no outline: treat the whole map as inside
                self._geoms[code] = None
        return self._geoms[code]

    def inside(self, code, lat, lon) -> bool:
        g = self.geom(code)
        if g is None:
            return True
        import shapely

        return bool(shapely.intersects_xy(g, lon, lat))

    def border_target(self, code, lat, lon, beyond_m=15_000):
        """A point `beyond_m` outside the nearest border of the province."""
        g = self.geom(code)
        if g is None:
            return _move(lat, lon, 90, 60_000)
        import shapely
        from shapely.geometry import MultiLineString, Point
        from shapely.ops import nearest_points

        rings = [
            part.exterior
            for part in shapely.get_parts(g)
            if part.geom_type == "Polygon" and not part.is_empty
        ]
        p = nearest_points(MultiLineString(rings), Point(lon, lat))[0]
        b = _bearing(lat, lon, p.y, p.x)
        return _move(p.y, p.x, b, beyond_m)


# -- specs and plans --------------------------------------------------------------------


@dataclass
class TerminalSpec:
    number: str  # terminal number, digits (leading zeros optional)
    edition: int = 2013  # 2013 or 2019
    province: str = "510000"
    garage: tuple[float, float, float] | None = None  # lat, lon, radius_m
    plate: str = ""
    misuse: str | None = None

    @property
    def key(self) -> str:
        return self.number.lstrip("0") or "0"

    @property
    def header_number(self) -> str:
        width = 12 if self.edition == 2013 else 20
        return self.key.rjust(width, "0")


@dataclass
class Trip:
    start: float
    outbound_s: float  # outward phase, then homing
    kind: str = "normal"  # normal | night | jurisdiction | away
    cruise: float = 50.0
    speeding: tuple[float, float] | None = None
    silent: tuple[float, float] | None = None
    blind: tuple[float, float] | None = None
    target: tuple[float, float] | None = None


def generated_specs(n: int, seed: int, misuse_share: float = 0.25) -> list[TerminalSpec]:
    """`n` terminals with generated numbers (prefix 199, unlikely to collide with the
    register), a third of them 2019 edition, garages near cities of both provinces."""
    rnd = random.Random(seed)
    specs = []
    for i in range(n):
        province = "510000" if i % 3 else "500000"
        lat, lon = rnd.choice(CITIES[province])
        lat += rnd.uniform(-0.03, 0.03)
        lon += rnd.uniform(-0.03, 0.03)
        specs.append(
            TerminalSpec(
                number=f"199{seed % 1000:03d}{i:06d}",
                edition=2019 if i % 3 == 1 else 2013,
                province=province,
                garage=(lat, lon, 150.0),
                plate=("川A" if province == "510000" else "渝A") + f"S{i % 10000:04d}",
            )
        )
    assign_misuse(specs, misuse_share)
    return specs


def assign_misuse(specs: list[TerminalSpec], share: float) -> None:
    """Every round(1/share)-th terminal gets one planted episode, kinds taking turns."""
    if share <= 0:
        return
    step = max(1, round(1 / share))
    k = 0
    for i, s in enumerate(specs):
        if i % step == 0:
            s.misuse = MISUSE_KINDS[k % len(MISUSE_KINDS)]
            k += 1


def plan_trips(spec, start, end, rnd, workday) -> list[Trip]:
    trips: list[Trip] = []
    day0 = local_midnight(start)
    days = []
    d = day0
    while d < end:
        days.append(d)
        d += 86400
    for d in days:
        date = datetime.fromtimestamp(d + 8 * 3600, UTC).date()
        if not workday(date):
            continue
        t = d + 8 * 3600 + rnd.uniform(0, 5400)
        while t < d + 19 * 3600 + 1800:
            dur = rnd.uniform(20, 50) * 60
            trip = Trip(t, dur / 2, cruise=rnd.uniform(35, 65))
            if rnd.random() < 0.3:  # a short signal gap: stored, then a 0x0704 batch
                g0 = t + rnd.uniform(0.15, 0.35) * dur
                trip.blind = (g0, g0 + rnd.uniform(90, 200))
            if t + dur > start and t < end:
                trips.append(trip)
            t += dur + rnd.uniform(30, 90) * 60
    kind = spec.misuse
    if kind is None:
        return trips
    daytime = [tr for tr in trips if tr.start >= start + 60 and tr.start + 1800 < end]
    if kind == OFF_HOURS:
        t = _first_night(start, end)
        if t is None:
            # no night in the window: a trip on a non-workday, if there is one
            for d in days:
                date = datetime.fromtimestamp(d + 8 * 3600, UTC).date()
                c = max(start + 120, d + 10 * 3600)
                if not workday(date) and c + 1800 < end and c < d + 86400:
                    t = c
                    break
        if t is not None:
            trips = [tr for tr in trips if abs(tr.start - t) > 4 * 3600]
            trips.append(Trip(t, rnd.uniform(8, 12) * 60, "night", cruise=55))
    elif kind == SPEEDING and daytime:
        tr = daytime[0]
        tr.outbound_s = max(tr.outbound_s, 20 * 60)
        s0 = tr.start + 6 * 60
        tr.speeding = (s0, s0 + 240)
        tr.blind = None
    elif kind == SILENT and daytime:
        tr = daytime[0]
        tr.outbound_s = max(tr.outbound_s, 25 * 60)
        s0 = tr.start + 5 * 60
        tr.silent = (s0, s0 + 600)
        tr.blind = None
    elif kind == JURISDICTION and daytime:
        tr = daytime[0]
        tr.kind = "jurisdiction"
        tr.cruise = 95
        tr.blind = None
        trips = [x for x in trips if x is tr or x.start < tr.start]
    elif kind == GARAGE:
        last_of_day: dict[int, Trip] = {}
        for tr in trips:
            last_of_day[local_midnight(tr.start)] = tr
        for d, tr in sorted(last_of_day.items()):
            check = d + _hhmm("23:30")
            if tr.start >= start + 60 and check < end:
                tr.kind = "away"
                break
    trips.sort(key=lambda tr: tr.start)
    return trips


def _first_night(start, end) -> float | None:
    d = local_midnight(start)
    while d < end:
        for c in (d + 22 * 3600 + 1800 - 86400, d + 22 * 3600 + 1800):
            if c >= start + 120 and c + 1800 < end:
                return c
        d += 86400
    return None


# -- the car ----------------------------------------------------------------------------


@dataclass
class Fix:
    t: int
    lat: float
    lon: float
    speed: float  # km/h
    heading: float
    moving: bool
    delivery: str  # live | blind | silent | parked


class Car:
    """The kinematics of one terminal; `step(t)` advances to GNSS time t."""

    def __init__(self, spec, trips, rnd, provinces, interval):
        self.spec = spec
        self.rnd = rnd
        self.provinces = provinces
        self.trips = trips
        self.interval = interval
        g = spec.garage or (*random.Random(spec.number).choice(CITIES[spec.province]), 150.0)
        self.home = (g[0], g[1])
        self.home_radius = g[2]
        self.lat, self.lon = g[0] + rnd.uniform(-3e-5, 3e-5), g[1] + rnd.uniform(-3e-5, 3e-5)
        self.heading = rnd.uniform(0, 360)
        self.speed = 0.0
        self.mileage_m = rnd.uniform(5_000, 200_000) * 1000
        self.fuel = rnd.uniform(20, 55)
        self.altitude = rnd.randint(250, 600)
        self.trip: Trip | None = None
        self.homing = False
        self.outside_since: float | None = None
        self.away_spot: tuple[float, float] | None = None

    def _next_trip(self, t) -> Trip | None:
        while self.trips and self.trips[0].start <= t:
            tr = self.trips.pop(0)
            if t - tr.start < max(3600.0, tr.outbound_s):
                return tr
        return None

    def step(self, t: float, dt: float) -> Fix:
        rnd = self.rnd
        if self.trip is None:
            self.trip = self._next_trip(t)
            self.homing = False
            self.outside_since = None
            if self.trip is not None and self.trip.kind == "jurisdiction":
                self.trip.target = self.provinces.border_target(
                    self.spec.province, self.lat, self.lon
                )
        tr = self.trip
        if tr is None:
            self.speed = 0.0
            return self._fix(t, False, "parked")
        # speed: AR(1) around the trip's cruise, or a planted episode's
        target = tr.cruise
        if tr.speeding and tr.speeding[0] <= t < tr.speeding[1]:
            target = rnd.uniform(130, 145)
        elif tr.speeding and t >= tr.speeding[1] and self.speed > 110:
            target = 90
        if tr.kind == "jurisdiction" and self.homing:
            target = 95
        self.speed = max(8.0, min(target + 8, 0.55 * self.speed + 0.45 * target + rnd.gauss(0, 4)))
        if tr.speeding and tr.speeding[0] <= t < tr.speeding[1]:
            self.speed = max(self.speed, 128.0)
        elif self.speed > 118 and not (tr.speeding and t < tr.speeding[1] + 120):
            self.speed = 110.0
        # heading
        if tr.kind == "jurisdiction" and not self.homing:
            want = _bearing(self.lat, self.lon, *tr.target)
            self._steer(want, 20)
            inside = self.provinces.inside(self.spec.province, self.lat, self.lon)
            if not inside and self.outside_since is None:
                self.outside_since = t
            if self.outside_since is not None and t - self.outside_since >= 900:
                self.homing = True
            if _distance_m(self.lat, self.lon, *tr.target) < 2000:
                self.homing = True
        elif t - tr.start >= tr.outbound_s:
            self.homing = True
        if self.homing:
            goal = self.away_spot if tr.kind == "away" else self.home
            if tr.kind == "away" and goal is None:
                b = rnd.uniform(0, 360)
                goal = self.away_spot = _move(*self.home, b, rnd.uniform(2500, 5000))
            dist = _distance_m(self.lat, self.lon, *goal)
            step_m = self.speed * dt / 3.6
            if dist <= max(150.0, step_m):
                self.mileage_m += dist
                self.lat = goal[0] + rnd.uniform(-1e-4, 1e-4)
                self.lon = goal[1] + rnd.uniform(-1e-4, 1e-4)
                self.speed = 0.0
                self.trip = None
                if tr.kind != "away":
                    self.away_spot = None
                return self._fix(t, False, "parked")
            self._steer(_bearing(self.lat, self.lon, *goal), 35)
        elif tr.kind != "jurisdiction":
            self.heading = (self.heading + rnd.gauss(0, 9)) % 360
        # move, kept inside the home province except on a jurisdiction trip
        step_m = self.speed * dt / 3.6
        lat, lon = _move(self.lat, self.lon, self.heading, step_m)
        if tr.kind != "jurisdiction" and not self.provinces.inside(self.spec.province, lat, lon):
            self.heading = (self.heading + 180 + rnd.gauss(0, 20)) % 360
            lat, lon = _move(self.lat, self.lon, self.heading, step_m)
        self.lat, self.lon = lat, lon
        self.mileage_m += step_m
        self.fuel -= step_m / 1000 * 0.09
        if self.fuel < 8:
            self.fuel = 55.0
        self.altitude = max(100, min(3500, self.altitude + rnd.randint(-3, 3)))
        delivery = "live"
        if tr.silent and tr.silent[0] <= t < tr.silent[1]:
            delivery = "silent"
        elif tr.blind and tr.blind[0] <= t < tr.blind[1]:
            delivery = "blind"
        return self._fix(t, True, delivery)

    def _steer(self, want: float, max_turn: float) -> None:
        diff = (want - self.heading + 540) % 360 - 180
        self.heading = (
            self.heading + max(-max_turn, min(max_turn, diff)) + self.rnd.gauss(0, 4)
        ) % 360

    def _fix(self, t, moving, delivery) -> Fix:
        return Fix(int(t), self.lat, self.lon, self.speed, self.heading, moving, delivery)

    def location(self, f: Fix) -> j.Location:
        alarm = j.ALARM_OVERSPEED if f.speed > 120 else 0
        status = j.STATUS_FIXED | (j.STATUS_ACC if f.moving else 0) | (0b11 << 18)
        return j.Location(
            alarm,
            status,
            round(f.lat * 1e6),
            round(f.lon * 1e6),
            int(self.altitude),
            round(f.speed * 10),
            int(f.heading) % 360,
            f.t,
            int(self.mileage_m / 100),
            int(self.fuel * 10),
            None,
            None,
            self.rnd.randint(15, 31),
            self.rnd.randint(7, 18),
        )


# -- ground truth -----------------------------------------------------------------------


class Truth:
    """Episodes the platform can see in one terminal's delivered positions."""

    def __init__(self, spec, params, provinces, workday, home, radius):
        self.spec = spec
        self.p = params
        self.provinces = provinces
        self.workday = workday
        self.home = home
        self.radius = radius
        self.runs: dict[str, list[list[float]]] = {}
        self.episodes: list[dict] = []
        self._kinds: dict[int, bool] = {}
        off = params[OFF_HOURS]
        self.night = (_hhmm(off["night_start"]), _hhmm(off["night_end"]))
        g = params[GARAGE]
        self.checks_night = [_hhmm(x) for x in g["night_checks"]]
        self.checks_holiday = [_hhmm(x) for x in g["holiday_checks"]]
        self.last_live: Fix | None = None
        self.silent_from: Fix | None = None
        self.parked_away: tuple[float, float, float] | None = None  # since, lat, lon
        self.garage_open: dict | None = None

    def _is_workday(self, t) -> bool:
        n = int((t + 8 * 3600) // 86400)
        if n not in self._kinds:
            self._kinds[n] = self.workday(datetime.fromtimestamp(n * 86400, UTC).date())
        return self._kinds[n]

    def _mark(self, rule, t, on: bool) -> None:
        runs = self.runs.setdefault(rule, [])
        if not on:
            return
        gap = self.p[rule].get("quiet_gap_s", 600)
        if runs and t - runs[-1][1] <= gap:
            runs[-1][1] = t
        else:
            runs.append([t, t])

    def see(self, f: Fix, interval: float) -> None:
        """One simulated position, delivered or not (f.delivery)."""
        if f.delivery == "silent":
            if self.silent_from is None:
                self.silent_from = self.last_live
            self._garage_checks(f)
            return
        if self.silent_from is not None:
            s = self.silent_from
            if s is not None and s.speed >= self.p[SILENT]["min_speed_kmh"]:
                if f.t - s.t > self.p[SILENT]["silent_s"]:
                    self._add(SILENT, s.t, f.t)
            self.silent_from = None
        self.last_live = f
        moving = f.speed >= self.p[NO_ORDER]["min_speed_kmh"]
        self._mark(NO_ORDER, f.t, moving)
        sod = local_sod(f.t)
        a, b = self.night
        night = (a <= sod or sod < b) if a > b else (a <= sod < b)
        self._mark(OFF_HOURS, f.t, moving and (night or not self._is_workday(f.t)))
        self._mark(SPEEDING, f.t, f.speed > self.p[SPEEDING]["limit_kmh"])
        self._mark(JURISDICTION, f.t, not self.provinces.inside(self.spec.province, f.lat, f.lon))
        self._garage_checks(f)

    def _garage_checks(self, f: Fix) -> None:
        away = _distance_m(f.lat, f.lon, *self.home) > self.radius + self.p[GARAGE]["tolerance_m"]
        if f.moving or not away:
            if self.garage_open is not None:
                self.garage_open["end"] = f.t
                self.episodes.append(self.garage_open)
                self.garage_open = None
            self.parked_away = None
            return
        if self.parked_away is None:
            self.parked_away = (f.t, f.lat, f.lon)
        if self.garage_open is None:
            sod = local_sod(f.t)
            checks = self.checks_night + ([] if self._is_workday(f.t) else self.checks_holiday)
            for c in checks:
                if self.parked_away[0] <= f.t - sod + c <= f.t and sod - c < 3600:
                    self.garage_open = self._ep(GARAGE, self.parked_away[0], f.t)

    def _ep(self, rule, start, end) -> dict:
        return {
            "terminal": self.spec.key,
            "rule": rule,
            "start": start,
            "end": end,
            "planted": rule == self.spec.misuse,
        }

    def _add(self, rule, start, end) -> None:
        self.episodes.append(self._ep(rule, start, end))

    def finish(self, t_end: float) -> list[dict]:
        for rule, runs in self.runs.items():
            need = self.p[rule].get("min_duration_s", 0)
            for s, e in runs:
                if e - s >= need:
                    self._add(rule, s, e)
        if self.garage_open is not None:
            self.garage_open["end"] = t_end
            self.episodes.append(self.garage_open)
        out = []
        for ep in sorted(self.episodes, key=lambda x: (x["start"], x["rule"])):
            out.append(ep | {"start": iso(ep["start"]), "end": iso(ep["end"])})
        return out


# -- the network side -------------------------------------------------------------------


@dataclass
class Stats:
    terminals: int = 0
    connected: int = 0
    registered: int = 0
    authenticated: int = 0
    rejected: int = 0
    sent: int = 0  # positions sent (0x0200 and 0x0704 items)
    messages: int = 0  # position messages sent
    acknowledged: int = 0  # positions acknowledged by 0x8001 result 0
    acked_messages: int = 0
    refused: int = 0  # 0x8001 with a non-zero result for a position message
    batches: int = 0  # 0x0704 sent
    heartbeats: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)


class Session:
    """One terminal's connection: writes frames, matches 0x8001/0x8100 replies."""

    def __init__(self, spec: TerminalSpec, stats: Stats, timeout: float):
        self.spec = spec
        self.stats = stats
        self.timeout = timeout
        self.serial = random.Random(spec.number).randrange(0x10000)
        self.version = 1 if spec.edition == 2019 else None
        self.term = spec.header_number
        self.writer: asyncio.StreamWriter | None = None
        self.reader_task: asyncio.Task | None = None
        self.pending: dict[int, tuple[float, int]] = {}  # serial → (sent at, positions)
        self.waiters: dict[tuple[int, int], asyncio.Future] = {}
        self.auth_code: str | None = None
        self.refused = False  # the gateway turned this terminal away: stop

    def next_serial(self) -> int:
        self.serial = (self.serial + 1) & 0xFFFF
        return self.serial

    async def connect(self, host, port) -> bool:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port), self.timeout
            )
        except (OSError, TimeoutError) as e:
            self.stats.errors[f"connect: {type(e).__name__}"] += 1
            return False
        self.writer = writer
        self.stats.connected += 1
        self.reader_task = asyncio.create_task(self._read(reader))
        return True

    async def _read(self, reader: asyncio.StreamReader) -> None:
        sp = j.FrameSplitter()
        try:
            while data := await reader.read(65536):
                now = time.perf_counter()
                for f in sp.feed(data):
                    try:
                        m = j.decode_frame(f)
                    except j.FrameError:
                        self.stats.errors["bad frame from gateway"] += 1
                        continue
                    self._reply(m, now)
        except (OSError, j.FrameError) as e:
            self.stats.errors[f"read: {type(e).__name__}"] += 1
        finally:
            self._lost()

    def _reply(self, m: j.Message, now: float) -> None:
        if m.msg_id == j.REGISTER_RESPONSE and isinstance(m.body, j.RegisterResponse):
            fut = self.waiters.pop((j.REGISTER_RESPONSE, m.body.ack_serial), None)
            if fut is not None and not fut.done():
                fut.set_result(m.body)
        elif m.msg_id == j.PLATFORM_RESPONSE and isinstance(m.body, j.GeneralResponse):
            b = m.body
            fut = self.waiters.pop((j.PLATFORM_RESPONSE, b.ack_serial), None)
            if fut is not None and not fut.done():
                fut.set_result(b)
            sent = self.pending.pop(b.ack_serial, None)
            if sent is not None:
                if b.result == j.RESULT_OK:
                    self.stats.acknowledged += sent[1]
                    self.stats.acked_messages += 1
                    self.stats.latencies.append(now - sent[0])
                else:
                    self.stats.refused += 1

    def _lost(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.writer = None
        for fut in self.waiters.values():
            if not fut.done():
                fut.set_exception(ConnectionResetError("connection lost"))
        self.waiters.clear()

    @property
    def up(self) -> bool:
        return self.writer is not None and not self.writer.is_closing()

    def send(self, msg_id, body, positions: int = 0) -> int:
        serial = self.next_serial()
        self.writer.write(j.encode_message(msg_id, self.term, serial, body, version=self.version))
        if positions:
            self.pending[serial] = (time.perf_counter(), positions)
            self.stats.sent += positions
            self.stats.messages += 1
        return serial

    async def request(self, msg_id, body, reply_id):
        fut = asyncio.get_running_loop().create_future()
        serial = self.send(msg_id, body)
        self.waiters[(reply_id, serial)] = fut
        return await asyncio.wait_for(fut, self.timeout)

    async def login(self) -> bool:
        """Register when no auth code yet, then authenticate."""
        spec = self.spec
        try:
            if self.auth_code is None:
                reg = j.Register(
                    int(spec.province[:2]),
                    int(spec.province[2:]),
                    "GJSIM",
                    "guanjia-sim",
                    spec.key[-7:],
                    1 if spec.plate else 0,
                    spec.plate or spec.key,
                )
                resp = await self.request(j.REGISTER, reg, j.REGISTER_RESPONSE)
                if resp.result != j.REGISTER_OK:
                    self.stats.rejected += 1
                    self.refused = True
                    self.stats.errors[f"registration refused ({resp.result})"] += 1
                    return False
                self.auth_code = resp.auth_code or ""
                self.stats.registered += 1
            if self.version is None:
                auth = j.Authentication(self.auth_code)
            else:
                auth = j.Authentication(self.auth_code, spec.key[-15:].rjust(15, "0"), "sim 1.0")
            ok = await self.request(j.AUTHENTICATE, auth, j.PLATFORM_RESPONSE)
        except (TimeoutError, ConnectionError, OSError) as e:
            self.stats.errors[f"login: {type(e).__name__}"] += 1
            return False
        if ok.result != j.RESULT_OK:
            self.stats.errors["authentication refused"] += 1
            self.stats.rejected += 1
            self.refused = True
            return False
        self.stats.authenticated += 1
        return True

    async def close(self, drain_s: float) -> None:
        deadline = time.perf_counter() + drain_s
        while self.pending and self.up and time.perf_counter() < deadline:
            await asyncio.sleep(0.02)
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError, ConnectionError):
                await self.writer.wait_closed()
        if self.reader_task is not None:
            self.reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.reader_task


BATCH_MAX = 15  # items per 0x0704 (15 × ~47 bytes fits one 1023-byte body)


async def run_terminal(index, spec, cfg, stats, truths, provinces, workday, base) -> None:
    """One terminal from login to the end of the window; `base` is the loop time at
    which GNSS time `cfg.start` falls."""
    rnd = random.Random(f"{cfg.seed}:{index}:{spec.number}")
    start, end = cfg.start, cfg.start + cfg.duration
    trips = plan_trips(spec, start, end, rnd, workday)
    car = Car(spec, trips, rnd, provinces, cfg.interval)
    truth = Truth(spec, cfg.params, provinces, workday, car.home, car.home_radius)
    truths.append(truth)
    session = Session(spec, stats, cfg.timeout)
    # report phases spread over one interval, connections over the ramp (no thundering herd)
    offset = rnd.uniform(0, cfg.interval)
    k_wall = 1.0 / cfg.speedup
    loop = asyncio.get_running_loop()
    await asyncio.sleep(min(offset * k_wall, cfg.ramp_s * index / max(1, cfg.n)))
    if await session.connect(cfg.host, cfg.port):
        await session.login()
    if session.refused:
        await session.close(0)
        return
    stored: list[j.Location] = []
    tick = 0
    t = start + offset
    while t < end:
        wait = base + (t - start) * k_wall - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        f = car.step(t, cfg.interval)
        truth.see(f, cfg.interval)
        if f.delivery != "silent":
            loc = car.location(f)
            if not session.up:
                stored.append(loc)
                if len(stored) > 2000:
                    del stored[0]
                if tick % 4 == 0 and await session.connect(cfg.host, cfg.port):
                    await session.login()
                    if session.refused:
                        break
            elif f.delivery == "blind":
                stored.append(loc)
            else:
                try:
                    while stored:
                        batch, stored[:] = stored[:BATCH_MAX], stored[BATCH_MAX:]
                        session.send(
                            j.LOCATION_BATCH,
                            j.LocationBatch(j.BATCH_BLIND, tuple(batch)),
                            len(batch),
                        )
                        stats.batches += 1
                    if f.moving or tick % 2 == 0:
                        session.send(j.LOCATION, loc, 1)
                    else:
                        session.send(j.HEARTBEAT, b"")
                        stats.heartbeats += 1
                except (OSError, ConnectionError, AttributeError):
                    stats.errors["write"] += 1
        tick += 1
        t += cfg.interval
    await session.close(cfg.drain_s)


@dataclass
class Config:
    host: str
    port: int
    n: int
    interval: float = 30.0
    duration: float = 600.0
    speedup: float = 1.0
    seed: int = 808
    start: float = 0.0
    timeout: float = 10.0
    drain_s: float = 5.0
    ramp_s: float = 5.0
    params: dict = field(default_factory=_defaults)


def _raise_nofile(n: int) -> None:
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = min(hard, max(soft, n * 2 + 256))
        if want > soft:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


async def simulate_async(specs: list[TerminalSpec], cfg: Config, workday=None) -> dict:
    workday = workday or _workday_default
    provinces = Provinces()
    for code in {s.province for s in specs}:
        provinces.geom(code)
    stats = Stats(terminals=len(specs))
    truths: list[Truth] = []
    cfg.n = len(specs)
    t0 = time.perf_counter()
    base = asyncio.get_running_loop().time()
    tasks = [
        asyncio.create_task(run_terminal(i, s, cfg, stats, truths, provinces, workday, base))
        for i, s in enumerate(specs)
    ]
    results = await asyncio.gather(*tasks, return_exceptions=True)
    for r in results:
        if isinstance(r, BaseException):
            stats.errors[f"terminal task: {type(r).__name__}: {r}"] += 1
    wall = time.perf_counter() - t0
    end = cfg.start + cfg.duration
    truth = [ep for tr in truths for ep in tr.finish(end)]
    lat = stats.latencies
    ms = {
        k: (None if v is None else round(v * 1000, 2))
        for k, v in (
            ("p50", _pct(lat, 0.50)),
            ("p95", _pct(lat, 0.95)),
            ("p99", _pct(lat, 0.99)),
            ("max", max(lat) if lat else None),
        )
    }
    return {
        "gateway": f"{cfg.host}:{cfg.port}",
        "terminals": stats.terminals,
        "editions": dict(Counter(str(s.edition) for s in specs)),
        "connected": stats.connected,
        "registered": stats.registered,
        "authenticated": stats.authenticated,
        "rejected": stats.rejected,
        "sent": stats.sent,
        "acknowledged": stats.acknowledged,
        "unacknowledged": stats.sent - stats.acknowledged,
        "messages_sent": stats.messages,
        "messages_acknowledged": stats.acked_messages,
        "refused": stats.refused,
        "batches": stats.batches,
        "heartbeats": stats.heartbeats,
        "latency_ms": ms,
        "errors": dict(stats.errors),
        "error_count": sum(stats.errors.values()),
        "wall_s": round(wall, 2),
        "positions_per_s": round(stats.sent / wall, 1) if wall else None,
        "gnss_start": iso(cfg.start),
        "gnss_end": iso(end),
        "interval_s": cfg.interval,
        "speedup": cfg.speedup,
        "seed": cfg.seed,
        "planted": dict(Counter(s.misuse for s in specs if s.misuse)),
        "ground_truth": truth,
    }


def new_event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def simulate(specs: list[TerminalSpec], cfg: Config, workday=None) -> dict:
    """Run the fleet to the end (blocking) and return the report."""
    _raise_nofile(len(specs))
    if not cfg.start:
        cfg.start = float(int(time.time()))
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(simulate_async(specs, cfg, workday))
