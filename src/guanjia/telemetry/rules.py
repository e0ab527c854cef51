"""The streaming misuse-rule engine: positions in, misuse cases out.

    engine = Engine()                       # reads the register, orders, fences, settings
    pipeline.register("rules", engine.handle)
    engine.start_writer()                   # a thread that writes cases every ~0.2 s

`handle(batch)` is the sink the gateway calls with every durably written batch. It never
touches the database per position: vehicles, their dispatch-order windows, geofences and
rule settings live in a `Directory` refreshed on a timer (orders every minute, the rest
every five), area tests run once per batch with numpy/shapely, and the state per terminal
is a handful of numbers plus the episodes in progress. Cases are not written in the call:
proposals (open a case) and updates (an episode ended: its end and full track) go to a
queue that `flush()` writes in bulk through the vehicles app's `cases.open_cases`, either
from the writer thread or, in tests and batch runs, directly.

Episodes. Each rule alerts on positions (moving without an order, over the limit …).
Consecutive alerts of one rule on one terminal fold into one episode while each follows the
previous within the rule's `quiet_gap_s`; an episode becomes a case once it has lasted the
rule's `min_duration_s` (at once when that is 0), and the case is updated with the whole
track segment when the episode ends (a quiet gap passes, or `tick(now)` finds it stale).
The case's dedup_key is `tm:<terminal>:<rule>:<episode start epoch>`, so replaying the same
positions opens nothing new.

Order. Rules are evaluated on GNSS time. A position not newer than the terminal's last one
(a duplicate, or a blind-area back-fill arriving late) is counted in `stats["stale"]` and
not evaluated: the streaming state only moves forward. Re-running a day from the archive
(`evaluate(positions)` on a fresh engine, positions sorted) evaluates back-filled points too.

Report intervals. The engine also counts, per agency and China-time day, the seconds
between consecutive reports of a terminal whose ignition was on (ReportIntervalDay), the
source of the indicator telemetry.report_interval_p95_s.
"""

from __future__ import annotations

import logging
import math
import threading
import time as _time
from bisect import bisect_right
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import numpy as np

from . import geo
from . import rule_defs as R
from .calendar import (
    CHINA_OFFSET_S,
    KIND_LABELS,
    WORKDAY,
    DayTable,
    hhmm_to_s,
    is_night,
    local_day,
)
from .positions import CHINA, Position

log = logging.getLogger(__name__)

ORDER_GRACE_S = 1800  # jurisdiction and garage checks: an order ± 30 min covers
MAX_TRACK = 720  # points kept as evidence per episode (decimated beyond)
INTERVAL_CAP = 3600
COVERING = ("approved", "assigned", "in_progress", "completed")


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).astimezone(CHINA).isoformat()


# -- what the engine knows about the register ---------------------------------------------


class Profile:
    """The effective settings of every rule for one agency, flattened into attributes the
    hot loop reads (`<short>_on`, and each param as `<short>_<param>`)."""

    SHORT = {
        R.NO_ORDER: "noorder",
        R.OFF_HOURS: "off",
        R.JURISDICTION: "jur",
        R.FORBIDDEN: "fence",
        R.SPEEDING: "speed",
        R.GARAGE: "garage",
        R.SILENT: "silent",
        R.REPORT_INTERVAL: "ival",
    }

    def __init__(self, settings: R.Settings, agency_path: str):
        self.sources = {}
        for rule, short in self.SHORT.items():
            eff = settings.for_agency(rule, agency_path)
            setattr(self, f"{short}_on", eff.enabled)
            self.sources[rule] = eff.source
            for name, value in eff.params.items():
                setattr(self, f"{short}_{name}", value)
        self.off_night_start_s = hhmm_to_s(self.off_night_start)
        self.off_night_end_s = hhmm_to_s(self.off_night_end)
        self.garage_night_s = sorted(hhmm_to_s(x) for x in self.garage_night_checks)
        self.garage_holiday_s = sorted(hhmm_to_s(x) for x in self.garage_holiday_checks)
        self.moving_kmh = min(self.noorder_min_speed_kmh, self.off_min_speed_kmh)
        self.ival_limit = self.ival_max_interval_s + self.ival_tolerance_s


class VehicleInfo:
    __slots__ = (
        "agency_id",
        "agency_path",
        "fences",
        "garage",
        "id",
        "jur",
        "order_starts",
        "orders",
        "plate",
        "profile",
    )

    def __init__(self, **kw):
        for k in self.__slots__:
            setattr(self, k, kw.get(k))
        self.orders = self.orders or []
        self.order_starts = self.order_starts or []

    def covered(self, t: float, grace_s: float) -> bool:
        """Whether a dispatch order of this car covers the instant t (± grace)."""
        orders = self.orders
        if not orders:
            return False
        # orders sorted by start; any with start - grace <= t <= end + grace
        i = bisect_right(self.order_starts, t + grace_s)  # candidates: starts <= t + grace
        for k in range(i - 1, -1, -1):
            _s, e = orders[k]
            if e + grace_s >= t:
                return True
            if k < i - 8:  # orders are short; a long look-back finds nothing more
                break
        return False


class Directory:
    """Vehicles by terminal key with what the rules need, refreshed on a timer."""

    def __init__(self, vehicles_every_s: float = 300, orders_every_s: float = 60):
        self.vehicles_every_s = vehicles_every_s
        self.orders_every_s = orders_every_s
        self.by_terminal: dict[str, VehicleInfo] = {}
        self.by_id: dict[int, VehicleInfo] = {}
        self.jur_geoms: list = []  # index → shapely geometry
        self.fence_geoms: list = []
        self.fence_meta: list[tuple[int, str, str]] = []  # (id, name, agency path)
        self.fence_tree = None
        self.order_range: tuple[float, float] | None = None
        self._vehicles_at = self._orders_at = -math.inf
        self.generation = 0

    # loading ---------------------------------------------------------------------------

    def refresh(self, lo: float | None = None, hi: float | None = None, force=False) -> None:
        now = _time.monotonic()
        if force or now - self._vehicles_at > self.vehicles_every_s:
            self._load_vehicles()
            self._vehicles_at = now
            self._orders_at = -math.inf
        want = self.order_range
        if lo is not None:
            lo, hi = lo - 2 * 86400, hi + 86400
            if want is None or lo < want[0] or hi > want[1]:
                if want is not None:  # extend, but never hold more than ~10 days
                    lo, hi = max(min(lo, want[0]), hi - 9 * 86400), max(hi, want[1])
                want = (lo, hi)
                self._orders_at = -math.inf
        if want and (force or now - self._orders_at > self.orders_every_s):
            self._load_orders(*want)
            self.order_range = want
            self._orders_at = now

    def _load_vehicles(self) -> None:
        from guanjia.core.models import Agency
        from guanjia.vehicles.models import Vehicle

        from .models import Geofence

        settings = R.Settings()
        paths = dict(Agency.objects.values_list("pk", "path"))
        regions = dict(Agency.objects.values_list("pk", "region__code"))
        # Jurisdictions: an agency's own "jurisdiction" fence (the deepest up its tree),
        # else its province's outline.
        geoms, index = [], {}
        own: list[tuple[str, int]] = []
        fences, meta = [], []
        for f in Geofence.objects.filter(is_active=True).order_by("pk"):
            g = _fence_geometry(f)
            if g is None:
                continue
            if f.kind == Geofence.Kind.JURISDICTION:
                index[("fence", f.pk)] = len(geoms)
                geoms.append(g)
                own.append((paths.get(f.agency_id, ""), index[("fence", f.pk)]))
            elif f.kind == Geofence.Kind.FORBIDDEN:
                fences.append(g)
                meta.append((f.pk, f.name, paths.get(f.agency_id, "")))
        own.sort(key=lambda item: len(item[0]), reverse=True)
        for code in geo.PROVINCES:
            index[("province", code)] = len(geoms)
            geoms.append(geo.province_geometry(code))

        def jurisdiction(agency_id):
            path = paths.get(agency_id, "")
            for p, gi in own:
                if path.startswith(p):
                    return gi
            code = geo.province_of(regions.get(agency_id))
            return index.get(("province", code)) if code else None

        def applicable(agency_id):
            path = paths.get(agency_id, "")
            return frozenset(i for i, (_pk, _n, p) in enumerate(meta) if path.startswith(p))

        profiles: dict[int, Profile] = {}
        jur_by_agency: dict[int, int | None] = {}
        fences_by_agency: dict[int, frozenset] = {}
        by_terminal, by_id = {}, {}
        rows = (
            Vehicle.objects.exclude(terminal_key="")
            .values_list(
                "pk",
                "plate",
                "agency_id",
                "terminal_key",
                "garage__lat",
                "garage__lon",
                "garage__radius_m",
            )
            .iterator(chunk_size=5000)
        )
        for pk, plate, agency_id, key, g_lat, g_lon, g_r in rows:
            if agency_id not in profiles:
                profiles[agency_id] = Profile(settings, paths.get(agency_id, ""))
                jur_by_agency[agency_id] = jurisdiction(agency_id)
                fences_by_agency[agency_id] = applicable(agency_id)
            info = VehicleInfo(
                id=pk,
                plate=plate,
                agency_id=agency_id,
                agency_path=paths.get(agency_id, ""),
                profile=profiles[agency_id],
                garage=(g_lat, g_lon, g_r) if g_lat is not None else None,
                jur=jur_by_agency[agency_id],
                fences=fences_by_agency[agency_id],
            )
            old = self.by_terminal.get(key)
            if old is not None and old.id == pk:  # keep loaded order windows
                info.orders, info.order_starts = old.orders, old.order_starts
            by_terminal[key] = info
            by_id[pk] = info
        self.by_terminal, self.by_id = by_terminal, by_id
        self.jur_geoms = geoms
        self.fence_geoms, self.fence_meta = fences, meta
        if fences:
            import shapely

            self.fence_tree = shapely.STRtree(fences)
        else:
            self.fence_tree = None
        self.generation += 1

    def _load_orders(self, lo: float, hi: float) -> None:
        from django.db.models import Q

        from guanjia.vehicles.models import TripRequest

        start = datetime.fromtimestamp(lo, UTC)
        end = datetime.fromtimestamp(hi, UTC)
        windows: dict[int, list[tuple[float, float]]] = {}
        far = _time.time() + 86400
        rows = (
            TripRequest.objects.filter(vehicle__isnull=False, status__in=COVERING, start_at__lt=end)
            .filter(Q(end_at__gte=start) | Q(ended_at__gte=start) | Q(status="in_progress"))
            .values_list("vehicle_id", "status", "start_at", "end_at", "started_at", "ended_at")
            .iterator(chunk_size=5000)
        )
        for vid, status, s_at, e_at, started, ended in rows:
            s = min(s_at, started) if started else s_at
            e = max(e_at, ended) if ended else e_at
            e_ts = e.timestamp()
            if status == "in_progress":  # the car is out on it until it is ended
                e_ts = max(e_ts, far)
            if e_ts < lo:
                continue
            windows.setdefault(vid, []).append((s.timestamp(), e_ts))
        for info in self.by_id.values():
            w = sorted(windows.get(info.id, ()))
            info.orders = w
            info.order_starts = [s for s, _e in w]


def _fence_geometry(fence):
    """A shapely geometry for a Geofence: its GeoJSON, or its circle as a polygon."""
    import shapely
    from shapely import affinity
    from shapely.geometry import Point

    if fence.geometry:
        try:
            return geo.geometry(fence.geometry)
        except Exception:  # a broken drawing must not stop the rules
            log.warning("geofence %s has an unreadable geometry", fence.pk)
            return None
    if fence.center_lat is None or fence.center_lon is None or not fence.radius_m:
        return None
    deg = fence.radius_m / 111_320.0
    circle = Point(fence.center_lon, fence.center_lat).buffer(deg, quad_segs=16)
    circle = affinity.scale(circle, xfact=1 / math.cos(math.radians(fence.center_lat)), yfact=1)
    shapely.prepare(circle)
    return circle


# -- state per terminal --------------------------------------------------------------------


class Episode:
    __slots__ = ("last", "max_speed", "opened", "quiet", "rule", "start", "tags", "track")

    def __init__(self, rule: str, start: float, quiet: float):
        self.rule, self.start, self.last, self.quiet = rule, start, start, quiet
        self.track: list = []
        self.opened = False
        self.tags: dict = {}
        self.max_speed = 0.0

    def add(self, t, lat, lon, speed) -> None:
        track = self.track
        if track and track[-1][0] == t:
            return
        track.append((t, lat, lon, speed))
        if speed > self.max_speed:
            self.max_speed = speed
        if len(track) > MAX_TRACK:  # keep the shape: every other point, first and last kept
            self.track = [*track[0:-1:2], track[-1]]


class TerminalState:
    __slots__ = ("acc", "eps", "last_t", "lat", "lon", "next_check", "slow", "speed", "v")

    def __init__(self, v: VehicleInfo):
        self.v = v
        self.last_t = 0
        self.lat = self.lon = self.speed = 0.0
        self.acc = False
        self.slow = 0
        self.eps: dict[str, Episode] = {}
        self.next_check = 0.0


# -- the engine ----------------------------------------------------------------------------


class Engine:
    def __init__(self, directory: Directory | None = None, *, now=_time.time):
        self.dir = directory or Directory()
        self.now = now
        self.days = DayTable()
        self.states: dict[str, TerminalState] = {}
        self.unknown: set[str] = set()
        self.pending: deque = deque()  # ("open", Proposal-like dict) / ("update", dict)
        self.intervals: dict[tuple[int, int], Counter] = {}
        self.stats = Counter()
        self._lock = threading.Lock()
        self._writer: threading.Thread | None = None
        self._stop = threading.Event()
        self.listeners: list = []  # callables(event dict) told at once when a case opens
        self._generation = -1

    # entry points ------------------------------------------------------------------------

    def handle(self, batch: Sequence[Position]) -> None:
        """The pipeline sink: evaluate a batch in order."""
        if not batch:
            return
        lo = min(p.time for p in batch)
        hi = max(p.time for p in batch)
        self.dir.refresh(lo, hi)
        if self.dir.generation != self._generation:
            self._rebind()
        with self._lock:
            self._evaluate(batch)

    def evaluate(self, positions: Iterable[Position], chunk: int = 20000) -> None:
        """Feed many positions (a day from the archive) in chunks."""
        buf = []
        for p in positions:
            buf.append(p)
            if len(buf) >= chunk:
                self.handle(buf)
                buf = []
        if buf:
            self.handle(buf)

    def tick(self, now: float | None = None) -> None:
        """Close stale episodes and notice terminals gone silent while moving; the writer
        thread calls this every second with the wall clock (GNSS time of live positions)."""
        now = self.now() if now is None else now
        with self._lock:
            for key, st in self.states.items():
                prof = st.v.profile
                if (
                    prof.silent_on
                    and st.speed >= prof.silent_min_speed_kmh
                    and st.last_t
                    and now - st.last_t > prof.silent_silent_s
                    and R.SILENT not in st.eps
                ):
                    self._alert(
                        key,
                        st,
                        R.SILENT,
                        st.last_t,
                        st.lat,
                        st.lon,
                        st.speed,
                        0,
                        prof.silent_quiet_gap_s,
                    )
                if st.eps:
                    self._expire(key, st, now)

    def finish(self) -> None:
        """Close every episode (end of a batch run)."""
        with self._lock:
            for key, st in self.states.items():
                for ep in list(st.eps.values()):
                    self._close(key, st, ep)

    # the hot loop ------------------------------------------------------------------------

    def _rebind(self) -> None:
        self._generation = self.dir.generation
        by_terminal = self.dir.by_terminal
        for key, st in list(self.states.items()):
            v = by_terminal.get(key)
            if v is None:
                del self.states[key]
            else:
                st.v = v
                st.next_check = 0.0
        self.unknown.clear()

    def _area_flags(self, batch):
        """Per position: inside its jurisdiction? which forbidden fences contain it?"""
        n = len(batch)
        lats = np.fromiter((p.lat for p in batch), float, n)
        lons = np.fromiter((p.lon for p in batch), float, n)
        inside = [geo.contains_many(g, lats, lons) for g in self.dir.jur_geoms]
        hits: dict[int, list[int]] = {}
        if self.dir.fence_tree is not None:
            import shapely

            pts = shapely.points(lons, lats)
            pairs = self.dir.fence_tree.query(pts, predicate="intersects")
            for i, f in zip(pairs[0].tolist(), pairs[1].tolist(), strict=True):
                hits.setdefault(i, []).append(f)
        return inside, hits

    def _evaluate(self, batch: Sequence[Position]) -> None:
        states, unknown, by_terminal = self.states, self.unknown, self.dir.by_terminal
        days = self.days
        inside, hits = self._area_flags(batch)
        intervals = self.intervals
        stats = self.stats
        alert = self._alert
        n_eval = n_stale = 0
        for i, p in enumerate(batch):
            key = p.terminal
            st = states.get(key)
            if st is None:
                if key in unknown:
                    continue
                v = by_terminal.get(key)
                if v is None:
                    unknown.add(key)
                    stats["unknown"] += 1
                    continue
                st = states[key] = TerminalState(v)
            t = p.time
            last_t = st.last_t
            if t <= last_t:
                n_stale += 1
                continue
            n_eval += 1
            v = st.v
            prof = v.profile
            speed = p.speed_kmh
            if st.eps:
                self._expire(key, st, t)

            if last_t:
                gap = t - last_t
                if st.acc:
                    bucket = (int((last_t + CHINA_OFFSET_S) // 86400), v.agency_id)
                    c = intervals.get(bucket)
                    if c is None:
                        c = intervals[bucket] = Counter()
                    c[gap if gap < INTERVAL_CAP else INTERVAL_CAP] += 1
                    if prof.ival_on and st.speed >= prof.moving_kmh:  # while driving
                        if gap > prof.ival_limit:
                            st.slow += 1
                            if st.slow >= prof.ival_min_count:
                                alert(
                                    key,
                                    st,
                                    R.REPORT_INTERVAL,
                                    t,
                                    p.lat,
                                    p.lon,
                                    speed,
                                    0,
                                    prof.ival_quiet_gap_s,
                                )
                        else:
                            st.slow = 0
                if (
                    prof.silent_on
                    and gap > prof.silent_silent_s
                    and st.speed >= prof.silent_min_speed_kmh
                ):
                    ep = alert(
                        key,
                        st,
                        R.SILENT,
                        last_t,
                        st.lat,
                        st.lon,
                        st.speed,
                        0,
                        prof.silent_quiet_gap_s,
                    )
                    ep.add(t, p.lat, p.lon, speed)
                    ep.last = t
                if v.garage is not None and prof.garage_on and t >= st.next_check:
                    self._garage(key, st, t)
            elif v.garage is not None and prof.garage_on:
                st.next_check = self._next_check(prof, t)

            if speed >= prof.moving_kmh:
                if prof.noorder_on and speed >= prof.noorder_min_speed_kmh:
                    if not v.covered(t, prof.noorder_order_grace_min * 60):
                        alert(
                            key,
                            st,
                            R.NO_ORDER,
                            t,
                            p.lat,
                            p.lon,
                            speed,
                            prof.noorder_min_duration_s,
                            prof.noorder_quiet_gap_s,
                        )
                if prof.off_on and speed >= prof.off_min_speed_kmh:
                    kind = days.kind(t)
                    sod = int((t + CHINA_OFFSET_S) % 86400)
                    night = is_night(sod, prof.off_night_start_s, prof.off_night_end_s)
                    if (night or kind != WORKDAY) and not v.covered(
                        t, prof.off_order_grace_min * 60
                    ):
                        ep = alert(
                            key,
                            st,
                            R.OFF_HOURS,
                            t,
                            p.lat,
                            p.lon,
                            speed,
                            prof.off_min_duration_s,
                            prof.off_quiet_gap_s,
                        )
                        if night:
                            ep.tags["night"] = True
                        if kind != WORKDAY:
                            ep.tags[kind] = True
                if prof.speed_on and speed > prof.speed_limit_kmh:
                    alert(
                        key,
                        st,
                        R.SPEEDING,
                        t,
                        p.lat,
                        p.lon,
                        speed,
                        prof.speed_min_duration_s,
                        prof.speed_quiet_gap_s,
                    )
            if prof.jur_on and v.jur is not None and not inside[v.jur][i]:
                if not prof.jur_exempt_with_order or not v.covered(t, ORDER_GRACE_S):
                    alert(
                        key,
                        st,
                        R.JURISDICTION,
                        t,
                        p.lat,
                        p.lon,
                        speed,
                        prof.jur_min_duration_s,
                        prof.jur_quiet_gap_s,
                    )
            if hits and prof.fence_on:
                mine = [f for f in hits.get(i, ()) if f in v.fences]
                if mine:
                    ep = alert(
                        key,
                        st,
                        R.FORBIDDEN,
                        t,
                        p.lat,
                        p.lon,
                        speed,
                        prof.fence_min_duration_s,
                        prof.fence_quiet_gap_s,
                    )
                    ep.tags.setdefault("fences", [])
                    for f in mine:
                        name = self.dir.fence_meta[f][1]
                        if name not in ep.tags["fences"]:
                            ep.tags["fences"].append(name)

            st.last_t = t
            st.lat, st.lon, st.speed = p.lat, p.lon, speed
            st.acc = bool(p.status & 1)
        stats["evaluated"] += n_eval
        stats["stale"] += n_stale

    # garage checks -------------------------------------------------------------------------

    def _next_check(self, prof: Profile, t: float) -> float:
        """The first check instant after t (nightly checks every day, holiday checks on
        weekends and holidays)."""
        day0 = int((t + CHINA_OFFSET_S) // 86400)
        for d in (day0, day0 + 1, day0 + 2):
            base = d * 86400 - CHINA_OFFSET_S
            checks = list(prof.garage_night_s)
            if self.days.kind(base + 43200) != WORKDAY:
                checks = sorted(checks + prof.garage_holiday_s)
            for s in checks:
                if base + s > t:
                    return base + s
        return t + 86400

    def _garage(self, key: str, st: TerminalState, t: float) -> None:
        """Check instants passed between the last report and t: where was the car?"""
        v, prof = st.v, st.v.profile
        check = st.next_check
        while check and check <= t:
            g_lat, g_lon, g_r = v.garage
            away = geo.haversine_km(st.lat, st.lon, g_lat, g_lon) * 1000.0
            if away > g_r + prof.garage_tolerance_m and not v.covered(check, ORDER_GRACE_S):
                ep = self._alert(
                    key, st, R.GARAGE, check, st.lat, st.lon, st.speed, 0, prof.garage_quiet_gap_s
                )
                ep.tags["away_m"] = round(away)
                kind = self.days.kind(check)
                ep.tags.setdefault("kinds", [])
                label = "night" if kind == WORKDAY else kind
                if label not in ep.tags["kinds"]:
                    ep.tags["kinds"].append(label)
            check = self._next_check(prof, check)
        st.next_check = check

    # episodes ------------------------------------------------------------------------------

    def _alert(self, key, st, rule, t, lat, lon, speed, min_duration, quiet) -> Episode:
        ep = st.eps.get(rule)
        if ep is not None and t - ep.last > ep.quiet:
            self._close(key, st, ep)
            ep = None
        if ep is None:
            ep = st.eps[rule] = Episode(rule, t, quiet)
        if t > ep.last:
            ep.last = t
        ep.add(t, lat, lon, speed)
        if not ep.opened and ep.last - ep.start >= min_duration:
            ep.opened = True
            self._emit("open", key, st, ep)
        return ep

    def _expire(self, key, st, t) -> None:
        for ep in list(st.eps.values()):
            if t - ep.last > ep.quiet:
                self._close(key, st, ep)

    def _close(self, key, st, ep) -> None:
        if st.eps.get(ep.rule) is ep:
            del st.eps[ep.rule]
        if ep.opened:
            self._emit("close", key, st, ep)
        else:
            self.stats["short_episodes"] += 1

    def _emit(self, what: str, key: str, st: TerminalState, ep: Episode) -> None:
        v = st.v
        item = {
            "what": what,
            "rule": ep.rule,
            "terminal": key,
            "vehicle_id": v.id,
            "agency_id": v.agency_id,
            "plate": v.plate,
            "dedup_key": f"tm:{key}:{ep.rule}:{int(ep.start)}",
            "start": ep.start,
            "end": ep.last,
            "title": _title(ep, v.plate),
            "source": v.profile.sources.get(ep.rule, ""),
            "evidence": _evidence(ep, key),
            "emitted": _time.time(),
        }
        self.pending.append(item)
        self.stats[f"{what}:{ep.rule}"] += 1
        if what == "open":
            for listener in self.listeners:
                try:
                    listener(item)
                except Exception:
                    log.exception("case listener failed")

    # writing -------------------------------------------------------------------------------

    def flush(self) -> dict:
        """Write pending cases (opened, then updated) and the interval counts, in bulk."""
        items = []
        while self.pending:
            try:
                items.append(self.pending.popleft())
            except IndexError:
                break
        with self._lock:
            intervals, self.intervals = self.intervals, {}
        opened = write_cases(items)
        write_intervals(intervals)
        return {"items": len(items), "opened": opened}

    def start_writer(self, every_s: float = 0.2, tick_every_s: float = 1.0) -> None:
        if self._writer is not None:
            return

        def loop():
            last_tick = 0.0
            while not self._stop.wait(every_s):
                try:
                    if _time.monotonic() - last_tick > tick_every_s:
                        self.tick()
                        last_tick = _time.monotonic()
                    if self.pending or self.intervals:
                        self.flush()
                except Exception:
                    log.exception("rule engine writer failed; retrying")
            try:
                self.flush()
            finally:
                from django.db import connection

                connection.close()

        self._writer = threading.Thread(target=loop, name="rules-writer", daemon=True)
        self._writer.start()

    def stop_writer(self) -> None:
        self._stop.set()
        if self._writer is not None:
            self._writer.join(timeout=10)
            self._writer = None
        self._stop.clear()


def _title(ep: Episode, plate: str) -> str:
    when = datetime.fromtimestamp(ep.start, UTC).astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
    label = str(R.RULES[ep.rule].label)
    extra = ""
    if ep.rule == R.OFF_HOURS:
        bits = [str(KIND_LABELS[k]) for k in ("weekend", "holiday") if ep.tags.get(k)]
        if ep.tags.get("night"):
            bits.insert(0, "夜间")
        extra = "（" + "、".join(bits) + "）" if bits else ""
    elif ep.rule == R.SPEEDING:
        extra = f"（最高 {ep.max_speed:.0f} 公里/小时）"
    elif ep.rule == R.FORBIDDEN and ep.tags.get("fences"):
        extra = "（" + "、".join(ep.tags["fences"]) + "）"
    elif ep.rule == R.GARAGE and ep.tags.get("away_m") is not None:
        extra = f"（距停放场所 {ep.tags['away_m']} 米）"
    return f"{plate} {when} {label}{extra}"


def _evidence(ep: Episode, terminal: str) -> dict:
    return {
        "terminal": terminal,
        "episode_start": iso(ep.start),
        "episode_end": iso(ep.last),
        "duration_s": int(ep.last - ep.start),
        "points": len(ep.track),
        "max_speed_kmh": round(ep.max_speed, 1),
        "tags": dict(ep.tags),
        "track": [[iso(t), lat, lon, round(s, 1)] for t, lat, lon, s in ep.track],
    }


def write_cases(items: list[dict]) -> int:
    """Open the cases of "open" items (new dedup keys only) and bring the cases of "close"
    items up to the episode's end; one query per kind of write, not per item."""
    from guanjia.core.context import acting_as
    from guanjia.vehicles import cases
    from guanjia.vehicles.models import MisuseCase

    if not items:
        return 0
    final: dict[str, dict] = {}
    for item in items:  # the last word on an episode wins
        prev = final.get(item["dedup_key"])
        if prev is None or item["what"] == "close" or prev["what"] == "open":
            merged = dict(item)
            if prev is not None and prev["what"] == "open":
                merged["needs_open"] = True
            final[item["dedup_key"]] = merged
    proposals = [
        cases.Proposal(
            rule=i["rule"],
            agency_id=i["agency_id"],
            vehicle_id=i["vehicle_id"],
            dedup_key=i["dedup_key"],
            title=i["title"],
            source=i["source"],
            episode_start=datetime.fromtimestamp(i["start"], UTC),
            episode_end=datetime.fromtimestamp(i["end"], UTC),
            evidence=i["evidence"],
        )
        for i in final.values()
        if i["what"] == "open" or i.get("needs_open")
    ]
    closes = [i for i in final.values() if i["what"] == "close"]
    with acting_as(source="system"):
        opened = cases.open_cases(None, proposals) if proposals else []
        if closes:
            keys = [i["dedup_key"] for i in closes]
            existing = {}
            for n in range(0, len(keys), 500):
                for c in MisuseCase.objects.filter(dedup_key__in=keys[n : n + 500]):
                    existing[c.dedup_key] = c
            missing = [i for i in closes if i["dedup_key"] not in existing]
            if missing:  # closed before its open was written (a restart): open it now
                cases.open_cases(
                    None,
                    [
                        cases.Proposal(
                            rule=i["rule"],
                            agency_id=i["agency_id"],
                            vehicle_id=i["vehicle_id"],
                            dedup_key=i["dedup_key"],
                            title=i["title"],
                            source=i["source"],
                            episode_start=datetime.fromtimestamp(i["start"], UTC),
                            episode_end=datetime.fromtimestamp(i["end"], UTC),
                            evidence=i["evidence"],
                        )
                        for i in missing
                    ],
                )
            for i in closes:
                case = existing.get(i["dedup_key"])
                if case is None:
                    continue
                end = datetime.fromtimestamp(i["end"], UTC)
                if case.episode_end == end and case.evidence == i["evidence"]:
                    continue
                case.episode_end = end
                case.evidence = i["evidence"]
                case.title = i["title"][:255]
                case.save(update_fields=["episode_end", "evidence", "title"])
    return len(opened)


def write_intervals(intervals: dict[tuple[int, int], Counter]) -> None:
    if not intervals:
        return
    from django.db import transaction

    from .models import ReportIntervalDay

    with transaction.atomic():
        for (day_n, agency_id), counts in intervals.items():
            day = local_day(day_n * 86400 - CHINA_OFFSET_S)
            row, _created = ReportIntervalDay.objects.select_for_update().get_or_create(
                agency_id=agency_id, day=day
            )
            hist = row.histogram or {}
            for sec, n in counts.items():
                hist[str(sec)] = hist.get(str(sec), 0) + n
            row.histogram = hist
            row.count = sum(hist.values())
            row.save(update_fields=["histogram", "count"])


def percentile_from_histogram(hist: dict, q: float) -> float | None:
    total = sum(hist.values())
    if not total:
        return None
    rank = q * total
    seen = 0
    for sec in sorted(hist, key=lambda s: int(s)):
        seen += hist[sec]
        if seen >= rank:
            return float(sec)
    return float(max(int(s) for s in hist))


# -- wiring --------------------------------------------------------------------------------

_engine: Engine | None = None


def install(start_writer: bool = True) -> Engine:
    """Make the process's engine and register it as the pipeline sink "rules"."""
    from . import pipeline

    global _engine
    if _engine is None:
        _engine = Engine()
    pipeline.register("rules", _engine.handle)
    if start_writer:
        _engine.start_writer()
    return _engine


def engine() -> Engine | None:
    return _engine


def run_day(day, positions: Iterable[Position]) -> dict:
    """Evaluate one day's positions (sorted by terminal then time, or by time) with a fresh
    engine and write its cases; what `guanjia telemetry rules` style batch runs call."""
    eng = Engine()
    eng.evaluate(positions)
    eng.finish()
    result = eng.flush()
    return {"day": str(day), **result, "stats": dict(eng.stats)}


__all__ = ["Directory", "Engine", "engine", "install", "run_day"]
