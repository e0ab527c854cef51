"""The write-ahead segments: where a position is durable before it is acknowledged.

Layout: `GUANJIA_HOME/telemetry/wal/<writer>/<seq>.open` is the segment a gateway is
appending to; at a size or an age it is fsynced and renamed `<seq>.wal` (closed, ready for
compaction into Parquet, see archive.py). Each writer (one per gateway process, named by
its port) owns its folder and holds `LOCK` (flock) while it runs, so a crashed writer's
`.open` segment is recognised (its lock is free) and recovered by whoever comes next.

A segment is a sequence of blocks, one per group commit:

    magic "GJW1" | count u32 | payload length u32 | crc32 u32 | count × 90-byte records

The crc covers count, length and payload. A reader stops at the first block that is short
or whose crc does not match: that is a torn tail (kill -9 or power loss during a write),
never acknowledged, because acknowledgements go out only after the fsync of the whole
block. Recovery truncates the tail and closes the segment.

Records are fixed-size little-endian structs (`RECORD`), read back without a per-record
Python loop through a numpy structured dtype (`DTYPE`) straight into Arrow columns: that
is why the format is our own rather than one DuckDB reads directly — DuckDB cannot check
a block's crc, and a half-written CSV/JSON line would be read as data. archive.py hands
the resulting Arrow table to DuckDB next to the Parquet files.

Duplicates (same terminal, same GNSS time) are dropped in memory by `Deduper` for the
recent times of each terminal; what slips through (a retransmission after a restart) is
dropped at compaction and by every query.
"""

from __future__ import annotations

import fcntl
import math
import os
import struct
import threading
import time
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from .positions import Position

MAGIC = b"GJW1"
HEADER = struct.Struct("<4sIII")  # magic, count, payload length, crc32
RECORD = struct.Struct("<20sqdddHiIIddd")
DTYPE = np.dtype(
    [
        ("terminal", "S20"),
        ("time", "<i8"),
        ("lat", "<f8"),
        ("lon", "<f8"),
        ("speed_kmh", "<f8"),
        ("direction", "<u2"),
        ("altitude_m", "<i4"),
        ("alarm", "<u4"),
        ("status", "<u4"),
        ("mileage_km", "<f8"),
        ("fuel_l", "<f8"),
        ("received", "<f8"),
    ]
)
assert DTYPE.itemsize == RECORD.size == 90
NAN = math.nan
OPEN, CLOSED = ".open", ".wal"


def wal_root(home: Path | None = None) -> Path:
    if home is None:
        from django.conf import settings

        home = settings.HOME
    return Path(home) / "telemetry" / "wal"


# -- encoding ------------------------------------------------------------------------------


def pack(positions: Iterable[Position]) -> bytes:
    rec = RECORD.pack
    return b"".join(
        [
            rec(
                p.terminal.encode(),
                p.time,
                p.lat,
                p.lon,
                p.speed_kmh,
                p.direction,
                p.altitude_m,
                p.alarm,
                p.status,
                NAN if p.mileage_km is None else p.mileage_km,
                NAN if p.fuel_l is None else p.fuel_l,
                p.received,
            )
            for p in positions
        ]
    )


def block(payload: bytes, count: int) -> bytes:
    crc = zlib.crc32(payload, zlib.crc32(struct.pack("<II", count, len(payload))))
    return HEADER.pack(MAGIC, count, len(payload), crc) + payload


def scan(data: bytes | memoryview) -> tuple[list[memoryview], int]:
    """The payloads of the valid blocks at the start of `data`, and where validity ends."""
    view = memoryview(data)
    payloads, pos, end = [], 0, len(view)
    while pos + HEADER.size <= end:
        magic, count, length, crc = HEADER.unpack_from(view, pos)
        start = pos + HEADER.size
        if magic != MAGIC or length != count * RECORD.size or start + length > end:
            break
        payload = view[start : start + length]
        if zlib.crc32(payload, zlib.crc32(struct.pack("<II", count, length))) != crc:
            break
        payloads.append(payload)
        pos = start + length
    return payloads, pos


def records(payloads: Sequence[bytes | memoryview]) -> np.ndarray:
    if not payloads:
        return np.empty(0, dtype=DTYPE)
    joined = payloads[0] if len(payloads) == 1 else b"".join(payloads)
    return np.frombuffer(joined, dtype=DTYPE)


def to_positions(arr: np.ndarray) -> list[Position]:
    out = []
    for r in arr.tolist():
        mileage, fuel = r[9], r[10]
        out.append(
            Position(
                r[0].decode(),
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                r[6],
                r[7],
                r[8],
                None if mileage != mileage else mileage,
                None if fuel != fuel else fuel,
                r[11],
            )
        )
    return out


# -- reading (any process) -----------------------------------------------------------------


def segments(root: Path, *, closed_only: bool = False) -> list[Path]:
    """Every segment under `root`, oldest first within each writer."""
    if not root.exists():
        return []
    found = []
    for writer in sorted(p for p in root.iterdir() if p.is_dir()):
        for seg in writer.iterdir():
            if seg.suffix == CLOSED or (seg.suffix == OPEN and not closed_only):
                found.append(seg)
    return sorted(found, key=lambda p: (p.parent.name, p.stem))


def read_segment(path: Path) -> np.ndarray:
    """The valid records of one segment (empty if it was compacted away meanwhile)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return np.empty(0, dtype=DTYPE)
    payloads, _end = scan(data)
    return records([bytes(p) for p in payloads] if len(payloads) > 1 else payloads)


def read_all(
    root: Path, *, terminal: str | None = None, start: int | None = None, end: int | None = None
) -> np.ndarray:
    """Records of every segment, filtered to a terminal and a time window [start, end)."""
    parts = []
    key = terminal.encode() if terminal is not None else None
    for seg in segments(root):
        arr = read_segment(seg)
        if not len(arr):
            continue
        mask = None
        if key is not None:
            mask = arr["terminal"] == key
        if start is not None:
            m = arr["time"] >= start
            mask = m if mask is None else mask & m
        if end is not None:
            m = arr["time"] < end
            mask = m if mask is None else mask & m
        parts.append(arr if mask is None else arr[mask])
    if not parts:
        return np.empty(0, dtype=DTYPE)
    return np.concatenate(parts)


# -- recovery ------------------------------------------------------------------------------


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def recover(path: Path) -> Path:
    """Cut a torn tail off an `.open` segment and close it. Returns the closed path."""
    with open(path, "r+b") as f:
        data = f.read()
        _payloads, valid = scan(data)
        if valid < len(data):
            f.truncate(valid)
        f.flush()
        os.fsync(f.fileno())
    closed = path.with_suffix(CLOSED)
    os.replace(path, closed)
    _fsync_dir(path.parent)
    return closed


def recover_abandoned(root: Path) -> list[Path]:
    """Close the `.open` segments of writers that are no longer running (lock is free)."""
    done = []
    if not root.exists():
        return done
    for writer in sorted(p for p in root.iterdir() if p.is_dir()):
        opens = sorted(writer.glob("*" + OPEN))
        if not opens:
            continue
        lock = _try_lock(writer)
        if lock is None:
            continue  # a live writer: its open segment is not ours to touch
        try:
            done += [recover(p) for p in opens]
        finally:
            os.close(lock)
    return done


def _try_lock(writer_dir: Path) -> int | None:
    fd = os.open(writer_dir / "LOCK", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


# -- dedupe --------------------------------------------------------------------------------


class Deduper:
    """Remembers the last `keep` GNSS times of each terminal; drops positions seen there.

    A tuple per terminal (~400 bytes at keep=8): 100,000 terminals cost ~40 MB."""

    def __init__(self, keep: int = 8):
        self.keep = keep
        self.seen: dict[str, tuple[int, ...]] = {}
        self.dropped = 0

    def fresh(self, positions: Iterable[Position]) -> list[Position]:
        out = []
        seen, keep = self.seen, self.keep
        for p in positions:
            times = seen.get(p.terminal, ())
            if p.time in times:
                self.dropped += 1
                continue
            if len(times) >= keep:
                times = times[len(times) - keep + 1 :]
            seen[p.terminal] = (*times, p.time)
            out.append(p)
        return out

    def forget(self, terminal: str) -> None:
        self.seen.pop(terminal, None)


# -- writing (one process per writer folder) -----------------------------------------------


class WalBusy(RuntimeError):
    pass


class WalWriter:
    """Appends blocks to the current segment; `write()` returns once they are fsynced.

    `write` is blocking (fsync) and meant to be called from one thread at a time (the
    gateway's group-commit thread); a lock keeps it safe if called from more.
    """

    def __init__(
        self,
        root: Path,
        name: str,
        *,
        segment_bytes: int = 64 * 1024 * 1024,
        segment_seconds: float = 300.0,
    ):
        self.dir = Path(root) / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.segment_bytes = segment_bytes
        self.segment_seconds = segment_seconds
        self._lock_fd = _try_lock(self.dir)
        if self._lock_fd is None:
            raise WalBusy(f"另一个网关进程正在写入 {self.dir}")
        self._mutex = threading.Lock()
        for path in sorted(self.dir.glob("*" + OPEN)):
            recover(path)
        existing = [int(p.stem) for p in self.dir.iterdir() if p.stem.isdigit()]
        self._seq = max(existing, default=0)
        self._file = None
        self._size = 0
        self._opened = 0.0
        self.blocks = self.records = self.bytes = 0
        self.fsync_seconds = 0.0

    @property
    def current(self) -> Path | None:
        return self._file and Path(self._file.name)

    def _open_next(self) -> None:
        self._seq += 1
        path = self.dir / f"{self._seq:012d}{OPEN}"
        self._file = open(path, "ab", buffering=0)
        _fsync_dir(self.dir)
        self._size = 0
        self._opened = time.monotonic()

    def _close_current(self) -> None:
        if self._file is None:
            return
        path = Path(self._file.name)
        os.fsync(self._file.fileno())
        self._file.close()
        self._file = None
        if self._size == 0:
            path.unlink(missing_ok=True)
        else:
            os.replace(path, path.with_suffix(CLOSED))
        _fsync_dir(self.dir)

    def write(self, positions: Sequence[Position]) -> None:
        """Append one block holding `positions` and fsync it."""
        if not positions:
            return
        data = block(pack(positions), len(positions))
        with self._mutex:
            if self._file is None:
                self._open_next()
            t0 = time.perf_counter()
            self._file.write(data)
            os.fdatasync(self._file.fileno())
            self.fsync_seconds += time.perf_counter() - t0
            self._size += len(data)
            self.blocks += 1
            self.records += len(positions)
            self.bytes += len(data)
            self._rotate_if_due()

    def _rotate_if_due(self) -> None:
        if self._file is not None and (
            self._size >= self.segment_bytes
            or time.monotonic() - self._opened >= self.segment_seconds
        ):
            self._close_current()

    def tick(self) -> None:
        """Close the segment when it is old enough, even without new writes."""
        with self._mutex:
            self._rotate_if_due()

    def close(self) -> None:
        with self._mutex:
            self._close_current()
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None
