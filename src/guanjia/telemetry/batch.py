"""Rules and trips over a day of positions at once, in columns (numpy), for re-runs from the
archive: the same rules and the same trip segmentation as the streaming engine
(rules.Engine) and `trips.segment`, with the same dedup keys — a day evaluated here after
the engine saw it live opens nothing twice — but no Python loop per position.

    cols = Columns.from_positions(positions)        # or Columns.from_arrow(table)
    items = evaluate(cols, directory)               # cases to open, as Engine._emit's
    starts, ends, metrics = segment(cols, params)   # trips

How the rules vectorise: every rule is a mask over the points (moving without a covering
order, over the limit, outside the jurisdiction …; dispatch-order windows are merged per
vehicle and looked up with one searchsorted over (terminal, time) keys); consecutive alerts
of a terminal fold into one episode while each follows the previous within the rule's quiet
gap (a cumulative sum over "starts a new episode"); an episode counts once it has lasted the
rule's minimum duration. Runs of over-long report intervals, silences while moving and the
garage checks at fixed hours are the same masks over shifted columns and check instants.
Only the episodes found — a handful per thousand cars — are turned into Python objects.

How trips vectorise: trips.segment is a small state machine; its state changes only at
*barriers* — a gap (or a new terminal) before a point, an ignition-off point, a stop that
has just lasted longer than the limit — and a trip is the stretch from the first moving,
ignition-on point after a barrier to the next barrier (cut back to where a stop began).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import geo
from . import rule_defs as R
from .calendar import CHINA_OFFSET_S, WORKDAY, DayTable
from .positions import Position
from .rules import (
    MAX_TRACK,
    ORDER_GRACE_S,
    Directory,
    Episode,
    _evidence,
    _title,
)

NEEDED = ["terminal", "time", "lat", "lon", "speed_kmh", "status", "mileage_km"]
KEY_SHIFT = np.int64(1) << np.int64(34)  # (terminal code, time) → one sortable int64


@dataclass
class Columns:
    keys: list[str]  # terminal key of each code
    code: np.ndarray  # int64 terminal code per point (sorted by code, then time)
    t: np.ndarray  # int64 epoch seconds
    lat: np.ndarray
    lon: np.ndarray
    speed: np.ndarray
    status: np.ndarray  # int64
    mileage: np.ndarray  # float64, NaN where not reported

    def __len__(self) -> int:
        return len(self.t)

    @classmethod
    def build(cls, terminals, t, lat, lon, speed, status, mileage, keys=None) -> Columns:
        """Columns sorted by (terminal, time), duplicates dropped. `terminals` are keys, or
        integer codes into `keys` when `keys` is given."""
        if keys is None:
            keys, code = np.unique(np.asarray(terminals).astype(str), return_inverse=True)
            keys = list(keys)
        else:
            code = np.asarray(terminals)
        code = np.asarray(code, dtype=np.int64)
        t = np.asarray(t, dtype=np.int64)
        sel, code, t = _sorted_unique(code, t)

        def pick(a, dtype):
            a = np.asarray(a, dtype=dtype)
            return a if sel is None else a[sel]

        return cls(
            keys=list(keys),
            code=code,
            t=t,
            lat=pick(lat, float),
            lon=pick(lon, float),
            speed=pick(speed, float),
            status=pick(status, np.int64),
            mileage=pick(mileage, float),
        )

    @classmethod
    def from_positions(cls, positions: Sequence[Position]) -> Columns:
        return cls.build(
            [p.terminal for p in positions],
            [p.time for p in positions],
            [p.lat for p in positions],
            [p.lon for p in positions],
            [p.speed_kmh for p in positions],
            [p.status for p in positions],
            [np.nan if p.mileage_km is None else p.mileage_km for p in positions],
        )

    @classmethod
    def from_arrow(cls, table) -> Columns:
        """From a pyarrow table with the archive's columns (archive.SCHEMA); terminals are
        dictionary-encoded by arrow, never turned into Python strings one by one."""
        import pyarrow as pa
        import pyarrow.compute as pc

        terminal = table.column("terminal")
        if not pa.types.is_dictionary(terminal.type):
            terminal = pc.dictionary_encode(terminal)
        terminal = (
            terminal.unify_dictionaries() if hasattr(terminal, "unify_dictionaries") else terminal
        )
        chunks = terminal.chunks
        keys = chunks[0].dictionary.to_pylist() if chunks else []
        codes = (
            np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in chunks])
            if chunks
            else np.empty(0, np.int64)
        )

        def num(name, dtype=float):
            return np.asarray(table.column(name).to_numpy(), dtype=dtype)

        mileage = table.column("mileage_km").fill_null(np.nan).to_numpy()
        return cls.build(
            codes, num("time", np.int64), num("lat"), num("lon"), num("speed_kmh"),
            num("status", np.int64), mileage, keys=keys,
        )  # fmt: skip


# -- helpers ---------------------------------------------------------------------------------


def _sorted_unique(code: np.ndarray, t: np.ndarray):
    """(sel, code, time) in (code, time) order with duplicates dropped (the first kept):
    sel indexes the input rows, None when they are already so (then nothing is gathered).

    Both go into one int64 key, code × 2^bits + (time - first time), compared with one
    pass; archive files are written sorted by terminal then time, so a single run needs no
    sort and a day of several runs (files, WAL) is merged by _merge_runs (a stable order, so
    the earlier copy of a duplicate is kept). The other columns are gathered once, after."""
    if code.size == 0:
        return None, code, t
    t0 = int(t.min())
    bits = max(int(t.max()) - t0, 1).bit_length()
    if (int(code.max()) + 1) << bits >= 1 << 62:  # key would overflow: rows via lexsort
        order = np.lexsort((np.arange(code.size), t, code))
        code, t = code[order], t[order]
        keep = np.r_[True, (code[1:] != code[:-1]) | (t[1:] != t[:-1])]
        return order[keep], code[keep], t[keep]
    key = (code << bits) | (t - t0)
    step = key[1:] > key[:-1]
    if step.all():
        return None, code, t
    if np.all(key[1:] >= key[:-1]):  # sorted, only duplicates to drop
        keep = np.r_[True, step]
        sel = np.flatnonzero(keep)
        return sel, code[sel], t[sel]
    del step
    order = _merge_runs(code, key)
    key = key[order]
    keep = np.r_[True, key[1:] != key[:-1]]
    if not keep.all():
        order, key = order[keep], key[keep]
    return order, key >> bits, (key & ((1 << bits) - 1)) + t0


def _merge_runs(code: np.ndarray, key: np.ndarray) -> np.ndarray:
    """The stable argsort of `key`. Rows that come as a few sorted runs (archive files, each
    sorted by terminal then time) are cut into blocks of one terminal within one run; when
    the blocks are few, they are put in order of their first key and the result checked —
    sorted, and equal keys in input order — else (or for many blocks) the full argsort."""
    n = key.size
    starts = np.flatnonzero(np.r_[True, (code[1:] != code[:-1]) | (key[1:] < key[:-1])])
    if starts.size <= n // 16:
        lens = np.diff(np.r_[starts, n])
        by_first = np.argsort(key[starts], kind="stable")
        s, ln = starts[by_first], lens[by_first]
        order = np.arange(n) + np.repeat(s - (np.cumsum(ln) - ln), ln)
        k = key[order]
        ok = (k[1:] > k[:-1]) | ((k[1:] == k[:-1]) & (order[1:] > order[:-1]))
        if ok.all():
            return order
    return np.argsort(key, kind="stable")


def _prev(a: np.ndarray, fill=0) -> np.ndarray:
    out = np.empty_like(a)
    out[0] = fill
    out[1:] = a[:-1]
    return out


def _at(x, idx):
    """x[idx], or x itself when x is one value for every point (a uniform parameter)."""
    return x if np.ndim(x) == 0 else x[idx]


def _track_rows(n: int) -> np.ndarray:
    """Which of n points Episode.add keeps in the track: past MAX_TRACK points it keeps every
    other one (the first and the last kept) and goes on appending."""
    kept = np.empty(0, dtype=np.int64)
    added = 0
    while added < n:
        take = min(MAX_TRACK + 1 - kept.size, n - added)
        kept = np.concatenate([kept, np.arange(added, added + take)])
        added += take
        if kept.size > MAX_TRACK:
            kept = np.r_[kept[0:-1:2], kept[-1]]
    return kept


def _add_track(ep: Episode, pts: np.ndarray, tms: np.ndarray, lat, lon, speed) -> None:
    """Episode.add for every point of `pts` (distinct times, in order) at once."""
    keep = _track_rows(pts.size)
    rows = pts[keep]
    ep.track = list(
        zip(
            tms[keep].tolist(), lat[rows].tolist(), lon[rows].tolist(), speed[rows].tolist(),
            strict=True,
        )
    )  # fmt: skip
    top = float(np.fmax.reduce(speed[pts])) if pts.size else 0.0
    ep.max_speed = max(0.0, top)  # as Episode.add: NaN speeds never raise it


def _fold(
    points: np.ndarray, code: np.ndarray, times: np.ndarray, quiet: np.ndarray, min_dur: np.ndarray
):
    """Episodes of alerts at `points` (indices, ordered by code then time; `times` their
    alert times): (first, last) positions into `points` of each episode long enough."""
    if points.size == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    c = code[points]
    new = np.ones(points.size, dtype=bool)
    new[1:] = (c[1:] != c[:-1]) | (times[1:] - times[:-1] > _at(quiet, points[1:]))
    first = np.flatnonzero(new)
    last = np.empty_like(first)
    last[:-1] = first[1:] - 1
    last[-1] = points.size - 1
    keep = times[last] - times[first] >= _at(min_dur, points[first])
    return first[keep], last[keep]


class _Vehicles:
    """The directory's vehicles as arrays indexed by terminal code."""

    def __init__(self, cols: Columns, d: Directory):
        n = len(cols.keys)
        infos = [d.by_terminal.get(k) for k in cols.keys]
        self.infos = infos
        self.known = np.array([i is not None for i in infos], dtype=bool)
        profiles: list = []
        index: dict[int, int] = {}
        prof = np.zeros(n, dtype=np.int64)
        for c, info in enumerate(infos):
            if info is None:
                continue
            p = info.profile
            if id(p) not in index:
                index[id(p)] = len(profiles)
                profiles.append(p)
            prof[c] = index[id(p)]
        self.profiles = profiles or [None]
        self.prof = prof
        self.jur = np.array(
            [-1 if i is None or i.jur is None else i.jur for i in infos], dtype=np.int64
        )
        g = [i.garage if i is not None and i.garage else (np.nan, np.nan, np.nan) for i in infos]
        self.garage = np.array(g, dtype=float).reshape(n, 3)
        # dispatch-order windows, merged per vehicle, as sorted (code, start) keys
        wc, ws, we = [], [], []
        for c, info in enumerate(infos):
            if info is None or not info.orders:
                continue
            cur_s, cur_e = info.orders[0]
            for s, e in info.orders[1:]:
                if s <= cur_e:
                    cur_e = max(cur_e, e)
                else:
                    wc.append(c), ws.append(cur_s), we.append(cur_e)
                    cur_s, cur_e = s, e
            wc.append(c), ws.append(cur_s), we.append(cur_e)
        self.w_code = np.array(wc, dtype=np.int64)
        self.w_start = np.array(ws, dtype=np.int64)
        self.w_end = np.array(we, dtype=float)
        self.w_key = self.w_code * KEY_SHIFT + self.w_start

    def param(self, attr: str, dtype=float) -> np.ndarray:
        """A profile parameter per terminal code."""
        values = np.array(
            [getattr(p, attr) if p is not None else 0 for p in self.profiles], dtype=dtype
        )
        return values[self.prof]

    def uniform(self, attr: str, dtype=float):
        """The parameter's value when every profile in use has the same, else None."""
        values = {getattr(p, attr) for p in self.profiles if p is not None}
        if len(values) == 1:
            return np.asarray(values.pop(), dtype=dtype)[()]
        return None

    def covered(self, code: np.ndarray, t: np.ndarray, grace) -> np.ndarray:
        if self.w_key.size == 0 or code.size == 0:
            return np.zeros(code.size, dtype=bool)
        grace = np.broadcast_to(np.asarray(grace, dtype=np.int64), code.shape)
        q = code * KEY_SHIFT + t + grace
        pos = np.searchsorted(self.w_key, q, side="right") - 1
        ok = pos >= 0
        pos = np.where(ok, pos, 0)
        return ok & (self.w_code[pos] == code) & (self.w_end[pos] + grace >= t)


def _day_kinds(t: np.ndarray, days: DayTable) -> np.ndarray:
    """Per point: True where its China-time day is not a workday."""
    dn = (t + CHINA_OFFSET_S) // 86400
    uniq, inv = np.unique(dn, return_inverse=True)
    off = np.array([days.kind(int(d) * 86400 - CHINA_OFFSET_S + 43200) != WORKDAY for d in uniq])
    return off[inv] if uniq.size else np.zeros(0, dtype=bool)


def _night(t: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    sod = (t + CHINA_OFFSET_S) % 86400
    return np.where(start <= end, (sod >= start) & (sod < end), (sod >= start) | (sod < end))


# -- the rules -------------------------------------------------------------------------------


def evaluate(cols: Columns, d: Directory, *, days: DayTable | None = None) -> list[dict]:
    """Every case the rules find in `cols`, as "open" items with the whole episode (what
    rules.write_cases takes), in terminal then time order."""
    days = days or DayTable()
    if len(cols) == 0:
        return []
    V = _Vehicles(cols, d)
    known = V.known[cols.code]
    if not known.all():
        sel = np.flatnonzero(known)
        cols = Columns(
            cols.keys, cols.code[sel], cols.t[sel], cols.lat[sel], cols.lon[sel],
            cols.speed[sel], cols.status[sel], cols.mileage[sel],
        )  # fmt: skip
        if len(cols) == 0:
            return []
    code, t, speed = cols.code, cols.t, cols.speed
    n = len(cols)

    def P(attr, dtype=float):
        """A parameter per point: one value when every profile has the same."""
        per_code = V.param(attr, dtype)
        uniform = V.uniform(attr, dtype)
        return uniform if uniform is not None else per_code[code]

    same = np.zeros(n, dtype=bool)
    same[1:] = code[1:] == code[:-1]
    prev_t = _prev(t)
    gap = np.where(same, t - prev_t, 0)
    prev_speed = _prev(speed, 0.0)
    acc = (cols.status & 1).astype(bool)
    prev_acc = _prev(acc, False)

    out: list[dict] = []

    def episode(rule, pts, tms, quiet_s, tags_fn=None):
        c = int(code[pts[0]])
        info = V.infos[c]
        ep = Episode(rule, float(tms[0]), float(quiet_s))
        ep.last = float(tms[-1])
        ep.opened = True
        _add_track(ep, pts, tms, cols.lat, cols.lon, speed)
        if tags_fn is not None:
            tags_fn(ep, pts, tms)
        out.append(_item(ep, cols.keys[c], info))

    def emit(rule, idx_points, times, quiet, min_dur, tags_fn=None):
        first, last = _fold(idx_points, code, times, quiet, min_dur)
        for f, la in zip(first.tolist(), last.tolist(), strict=True):
            pts = idx_points[f : la + 1]
            episode(rule, pts, times[f : la + 1], _at(quiet, pts[0]), tags_fn)

    moving_kmh = P("moving_kmh")

    # no order
    on = P("noorder_on", bool) & (speed >= P("noorder_min_speed_kmh")) & (speed >= moving_kmh)
    idx = np.flatnonzero(on)
    if idx.size:
        grace = (V.param("noorder_order_grace_min")[code[idx]] * 60).astype(np.int64)
        idx = idx[~V.covered(code[idx], t[idx], grace)]
        emit(R.NO_ORDER, idx, t[idx], P("noorder_quiet_gap_s"), P("noorder_min_duration_s"))

    # night, weekend, holiday
    on = P("off_on", bool) & (speed >= P("off_min_speed_kmh")) & (speed >= moving_kmh)
    idx = np.flatnonzero(on)
    if idx.size:
        night = _night(t[idx], _at(P("off_night_start_s"), idx), _at(P("off_night_end_s"), idx))
        nonwork = _day_kinds(t[idx], days)
        idx, night, nonwork = idx[night | nonwork], night[night | nonwork], nonwork[night | nonwork]
        if idx.size:
            grace = (V.param("off_order_grace_min")[code[idx]] * 60).astype(np.int64)
            free = ~V.covered(code[idx], t[idx], grace)
            idx = idx[free]

            def off_tags(ep, pts, tms):
                nt = _night(tms, _at(P("off_night_start_s"), pts), _at(P("off_night_end_s"), pts))
                if nt.any():
                    ep.tags["night"] = True
                for tm in tms.tolist():
                    kind = days.kind(tm)
                    if kind != WORKDAY:
                        ep.tags[kind] = True

            emit(R.OFF_HOURS, idx, t[idx], P("off_quiet_gap_s"), P("off_min_duration_s"), off_tags)

    # speeding
    idx = np.flatnonzero(
        P("speed_on", bool) & (speed >= moving_kmh) & (speed > P("speed_limit_kmh"))
    )
    emit(R.SPEEDING, idx, t[idx], P("speed_quiet_gap_s"), P("speed_min_duration_s"))

    # jurisdiction
    jur = V.jur[code]
    outside = np.zeros(n, dtype=bool)
    for gi, g in enumerate(d.jur_geoms):
        sel = np.flatnonzero(jur == gi)
        if sel.size:
            outside[sel] = ~geo.contains_many(g, cols.lat[sel], cols.lon[sel])
    idx = np.flatnonzero(outside & P("jur_on", bool))
    if idx.size:
        exempt = V.param("jur_exempt_with_order", bool)[code[idx]]
        cov = V.covered(code[idx], t[idx], ORDER_GRACE_S)
        idx = idx[~(exempt & cov)]
        emit(R.JURISDICTION, idx, t[idx], P("jur_quiet_gap_s"), P("jur_min_duration_s"))

    # forbidden places
    if d.fence_tree is not None:
        import shapely

        pairs = d.fence_tree.query(shapely.points(cols.lon, cols.lat), predicate="intersects")
        hits: dict[int, list[str]] = {}
        for i, f in zip(pairs[0].tolist(), pairs[1].tolist(), strict=True):
            if f in V.infos[code[i]].fences:
                hits.setdefault(i, []).append(d.fence_meta[f][1])
        idx = np.array(sorted(i for i in hits if V.infos[code[i]].profile.fence_on), np.int64)

        def fence_tags(ep, pts, tms):
            names = ep.tags.setdefault("fences", [])
            for p in pts.tolist():
                for name in hits[p]:
                    if name not in names:
                        names.append(name)

        emit(
            R.FORBIDDEN, idx, t[idx], P("fence_quiet_gap_s"), P("fence_min_duration_s"),
            fence_tags,
        )  # fmt: skip

    # silent while moving: alerts at the report before the silence and the one after it
    ev = same & P("silent_on", bool) & (gap > P("silent_silent_s"))
    ev &= prev_speed >= P("silent_min_speed_kmh")
    after = np.flatnonzero(ev)
    if after.size:
        # each silence is the pair (report before, report after); the next silence joins
        # the episode when it begins within the quiet gap after the previous one ended
        before = after - 1
        quiet = P("silent_quiet_gap_s")
        new = np.ones(after.size, dtype=bool)
        new[1:] = (code[after[1:]] != code[after[:-1]]) | (
            t[before[1:]] - t[after[:-1]] > _at(quiet, after[1:])
        )
        bounds = np.r_[np.flatnonzero(new), after.size]
        for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            pts = np.unique(np.concatenate([before[lo:hi], after[lo:hi]]))
            episode(R.SILENT, pts, t[pts], _at(quiet, pts[0]))

    # reporting interval: runs of over-long intervals while driving with ignition on
    elig = same & prev_acc & P("ival_on", bool) & (prev_speed >= moving_kmh)
    e_idx = np.flatnonzero(elig)
    if e_idx.size:
        over = gap[e_idx] > _at(P("ival_limit"), e_idx)
        newterm = np.ones(e_idx.size, dtype=bool)
        newterm[1:] = code[e_idx[1:]] != code[e_idx[:-1]]
        o = over.astype(np.int64)
        cs = np.cumsum(o)
        breaks = ~over | newterm
        base = np.maximum.accumulate(np.where(breaks, cs - o, 0))
        run = cs - base
        idx = e_idx[over & (run >= V.param("ival_min_count")[code[e_idx]])]
        emit(R.REPORT_INTERVAL, idx, t[idx], P("ival_quiet_gap_s"), 0)

    out.extend(_garage(cols, V, days))
    out.sort(key=lambda item: (item["terminal"], item["start"], item["rule"]))
    return out


def _garage(cols: Columns, V: _Vehicles, days: DayTable) -> list[dict]:
    """Checks at fixed hours: where was each car (its last report before the instant, with
    a report at or after it) — away from its garage and not on an order?"""
    code, t = cols.code, cols.t
    starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
    ends = np.r_[starts[1:], len(code)] - 1
    codes = code[starts]
    with_garage = ~np.isnan(V.garage[codes, 0]) & V.param("garage_on", bool)[codes]
    if not with_garage.any():
        return []
    codes, t0, tn = codes[with_garage], t[starts[with_garage]], t[ends[with_garage]]
    inst_code, inst_t = [], []
    day_lo = int((t0.min() + CHINA_OFFSET_S) // 86400)
    day_hi = int((tn.max() + CHINA_OFFSET_S) // 86400)
    for pi, prof in enumerate(V.profiles):
        if prof is None:
            continue
        mine = V.prof[codes] == pi
        if not mine.any():
            continue
        checks = []
        for dn in range(day_lo, day_hi + 1):
            base = dn * 86400 - CHINA_OFFSET_S
            hours = list(prof.garage_night_s)
            if days.kind(base + 43200) != WORKDAY:
                hours = sorted(hours + prof.garage_holiday_s)
            checks += [base + s for s in hours]
        checks = np.array(sorted(set(checks)), dtype=np.int64)
        cc, c0, cn = codes[mine], t0[mine], tn[mine]
        grid_c = np.repeat(cc, checks.size)
        grid_t = np.tile(checks, cc.size)
        ok = (grid_t > np.repeat(c0, checks.size)) & (grid_t <= np.repeat(cn, checks.size))
        inst_code.append(grid_c[ok])
        inst_t.append(grid_t[ok])
    if not inst_code:
        return []
    ic = np.concatenate(inst_code)
    it = np.concatenate(inst_t)
    order = np.lexsort((it, ic))
    ic, it = ic[order], it[order]
    keys = code * KEY_SHIFT + t
    prev = np.searchsorted(keys, ic * KEY_SHIFT + it, side="left") - 1  # last report before
    g = V.garage[ic]
    away_m = geo.haversine_km_many(cols.lat[prev], cols.lon[prev], g[:, 0], g[:, 1]) * 1000.0
    tol = V.param("garage_tolerance_m")[ic]
    alert = (away_m > g[:, 2] + tol) & ~V.covered(ic, it, ORDER_GRACE_S)
    if not alert.any():
        return []
    ic, it, prev, away_m = ic[alert], it[alert], prev[alert], away_m[alert]
    # fold over the instants: pseudo-points indexed into these arrays
    k = np.arange(ic.size)
    quiet = V.param("garage_quiet_gap_s")[ic]
    first, last = _fold(k, ic, it, quiet, np.zeros(ic.size))
    items = []
    for f, la in zip(first.tolist(), last.tolist(), strict=True):
        c = int(ic[f])
        info = V.infos[c]
        ep = Episode(R.GARAGE, float(it[f]), float(quiet[f]))
        ep.opened = True
        ep.tags["kinds"] = []
        for j in range(f, la + 1):
            p = int(prev[j])
            ep.last = float(it[j])
            ep.add(int(it[j]), float(cols.lat[p]), float(cols.lon[p]), float(cols.speed[p]))
            ep.tags["away_m"] = round(float(away_m[j]))
            kind = days.kind(int(it[j]))
            label = "night" if kind == WORKDAY else kind
            if label not in ep.tags["kinds"]:
                ep.tags["kinds"].append(label)
        items.append(_item(ep, cols.keys[c], info))
    return items


def _item(ep: Episode, key: str, info) -> dict:
    return {
        "what": "open",
        "rule": ep.rule,
        "terminal": key,
        "vehicle_id": info.id,
        "agency_id": info.agency_id,
        "plate": info.plate,
        "dedup_key": f"tm:{key}:{ep.rule}:{int(ep.start)}",
        "start": ep.start,
        "end": ep.last,
        "title": _title(ep, info.plate),
        "source": info.profile.sources.get(ep.rule, ""),
        "evidence": _evidence(ep, key),
        "emitted": 0.0,
    }


# -- trips -----------------------------------------------------------------------------------


def segment(cols: Columns, params=None) -> list[dict]:
    """Trips of every terminal in `cols`, exactly as trips.segment cuts them (see the module
    docstring): dicts with terminal, start, end (epoch), points, gps_km, mileage_km,
    distance_km, max_speed_kmh, first and last (row indices into cols)."""
    from .trips import TripParams

    params = params or TripParams()
    n = len(cols)
    if n == 0:
        return []
    code, t, speed = cols.code, cols.t, cols.speed
    idx = np.arange(n)
    moving = speed >= params.min_speed_kmh
    acc = (cols.status & 1).astype(bool)
    # a barrier before i: a new terminal or a gap
    before = np.ones(n, dtype=bool)
    before[1:] = (code[1:] != code[:-1]) | (t[1:] - t[:-1] > params.gap_min * 60)
    # the stationary run each point belongs to (runs end at moving points and barriers)
    run_start = ~moving & (before | _prev(moving, True))
    rs = np.maximum.accumulate(np.where(run_start, idx, 0))
    exceeded = ~moving & acc & (t - t[rs] > params.stop_min * 60)
    first_exceed = exceeded & ~(_prev(exceeded, False) & ~run_start)
    # barriers as (position, kind): 0 = before i (block starts at i), 1 = ignition off at i,
    # 2 = stop exceeded at i (blocks after these start at i + 1)
    b_pos = np.concatenate(
        [np.flatnonzero(before), np.flatnonzero(~acc), np.flatnonzero(first_exceed), [n]]
    )
    b_kind = np.concatenate([
        np.zeros(int(before.sum()), np.int64),
        np.ones(int((~acc).sum()), np.int64),
        np.full(int(first_exceed.sum()), 2, np.int64),
        [0],
    ])  # fmt: skip
    order = np.lexsort((b_kind, b_pos))
    b_pos, b_kind = b_pos[order], b_kind[order]
    # the first moving, ignition-on point at or after each index
    can_start = moving & acc
    nxt = np.where(can_start, idx, n)
    nxt = np.minimum.accumulate(nxt[::-1])[::-1]
    nxt = np.r_[nxt, n]
    block_start = np.where(b_kind == 0, b_pos, b_pos + 1)[:-1]
    block_end = b_pos[1:]  # the barrier closing the block
    end_kind = b_kind[1:]
    start = nxt[np.minimum(block_start, n)]
    has = start < block_end
    start, bend, bkind = start[has], block_end[has], end_kind[has]
    # where each trip ends
    last = np.where(bkind == 1, bend, np.where(bkind == 2, rs[np.minimum(bend, n - 1)], bend - 1))
    at_gap = bkind == 0
    lp = np.maximum(last, 0)
    stopped = at_gap & ~moving[lp]
    last = np.where(stopped, rs[lp], last)
    # drop duplicates (several barriers at the same place) and empty stretches
    keep = last >= start
    start, last = start[keep], last[keep]
    if start.size == 0:
        return []
    uniq = np.ones(start.size, dtype=bool)
    uniq[1:] = start[1:] != start[:-1]
    start, last = start[uniq], last[uniq]
    # metrics
    step = np.zeros(n)
    step[1:] = geo.haversine_km_many(cols.lat[:-1], cols.lon[:-1], cols.lat[1:], cols.lon[1:])
    cum = np.cumsum(step)
    gps = cum[last] - cum[start]
    mil = cols.mileage
    valid = ~np.isnan(mil)
    ffill = np.maximum.accumulate(np.where(valid, idx, -1))
    bfill = np.minimum.accumulate(np.where(valid, idx, n)[::-1])[::-1]
    m_first, m_last = bfill[start], ffill[last]
    has_m = (m_first < m_last) & (m_first <= last) & (m_last >= start)
    m_first_s = np.where(has_m, m_first, 0)
    m_last_s = np.where(has_m, m_last, 0)
    diff = mil[m_last_s] - mil[m_first_s]
    has_m &= diff >= 0
    mileage = np.where(has_m, np.round(diff, 3), np.nan)
    ext = np.r_[speed, 0.0]
    bounds = np.empty(2 * start.size, dtype=np.int64)
    bounds[0::2], bounds[1::2] = start, last + 1
    max_speed = np.maximum.reduceat(ext, bounds)[0::2]
    distance = np.where(has_m, mileage, np.round(gps, 3))
    duration = t[last] - t[start]
    ok = (last - start + 1 >= 2) & (distance >= params.min_distance_km)
    ok &= duration >= params.min_duration_s
    rows = []
    for s, e, g, m, d, v in zip(
        start[ok].tolist(), last[ok].tolist(), gps[ok].tolist(), mileage[ok].tolist(),
        distance[ok].tolist(), max_speed[ok].tolist(), strict=True,
    ):  # fmt: skip
        rows.append(
            {
                "terminal": cols.keys[int(code[s])],
                "start": int(t[s]),
                "end": int(t[e]),
                "first": s,
                "last": e,
                "points": e - s + 1,
                "gps_km": round(g, 3),
                "mileage_km": None if m != m else m,
                "distance_km": d,
                "max_speed_kmh": v,
            }
        )
    return rows


# -- a day from the archive -------------------------------------------------------------------


def day_columns(start: int, end: int, *, home=None) -> Columns:
    """Positions with GNSS time in [start, end) from the archive's Parquet files and the
    write-ahead segments, as Columns — the rows archive.connect's view holds (duplicates on
    (terminal, time) stored once, the archived copy first), read without its window-function
    dedupe: pyarrow reads the needed columns of the files (memory-mapped, the terminal column
    still dictionary-encoded), the WAL's records follow them, and Columns.build orders and
    dedupes on one integer key — with no sort at all when the rows already come in
    (terminal, time) order, as one compacted file's do."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from . import archive, wal

    tables = []
    # WAL first, then the Parquet listing (a segment compacted in between is seen twice and
    # deduplicated, never missed: see archive's docstring); the archived copy comes first.
    recent = wal.read_all(wal.wal_root(home), start=start, end=end)
    files = archive.parquet_files(archive.archive_root(home), start, end)
    if files:
        table = pq.read_table(
            files,
            columns=NEEDED,
            read_dictionary=["terminal"],
            partitioning=None,
            memory_map=True,
            use_threads=True,
        )
        lo, hi = pc.min_max(table.column("time")).values()
        if table.num_rows and (lo.as_py() < start or hi.as_py() >= end):  # partial days
            time = table.column("time")
            table = table.filter(
                pc.and_(pc.greater_equal(time, int(start)), pc.less(time, int(end)))
            )
        tables.append(table)
    if len(recent):
        tables.append(wal_table(recent))
    return columns_of(tables)


def wal_table(records: np.ndarray):
    """Write-ahead records as an Arrow table of the NEEDED columns, terminal dictionary-encoded."""
    import pyarrow.compute as pc

    from . import archive

    table = archive.to_table(records).select(NEEDED)
    return table.set_column(0, "terminal", pc.dictionary_encode(table.column("terminal")))


def columns_of(tables: list) -> Columns:
    """Columns of Arrow tables with the NEEDED columns, in order (the first copy of a
    duplicate is kept); tables from different sources are cast to one schema first."""
    import pyarrow as pa

    if not tables:
        return Columns.build([], [], [], [], [], [], [], keys=[])
    if len(tables) > 1:
        dict_type = pa.dictionary(pa.int32(), pa.string())
        tables = [t.set_column(0, "terminal", t.column("terminal").cast(dict_type)) for t in tables]
        tables = [t.cast(tables[0].schema) for t in tables]
    return Columns.from_arrow(pa.concat_tables(tables))


def run_rules(cols: Columns, directory: Directory | None = None) -> dict:
    """Evaluate `cols` and open the cases (new dedup keys only)."""
    from .rules import write_cases

    d = directory or Directory()
    if len(cols):
        d.refresh(int(cols.t.min()), int(cols.t.max()), force=True)
    items = evaluate(cols, d)
    opened = write_cases(items)
    by_rule: dict[str, int] = {}
    for i in items:
        by_rule[i["rule"]] = by_rule.get(i["rule"], 0) + 1
    return {"positions": len(cols), "episodes": len(items), "opened": opened, "by_rule": by_rule}
