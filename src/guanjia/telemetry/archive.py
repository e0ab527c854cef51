"""The position archive: Parquet partitioned by China date and province, plus the WAL.

    GUANJIA_HOME/telemetry/archive/date=2026-03-02/region=510000/c-<writer>-<first>-<last>.parquet

`compact()` turns closed write-ahead segments (wal.py) into Parquet files: records sorted by
terminal then time, duplicates (same terminal, same GNSS time) dropped, split by the China
date of the GNSS time and by the province of the vehicle's agency region ("unknown" for a
terminal not in the register). The file is written under a temporary name and renamed,
and only then is the segment deleted: a crash in between leaves the segment, and the next
run rewrites the same file name, so compaction is idempotent. Old date partitions are
dropped by the retention policy (`TELEMETRY_RETENTION_DAYS`, default 365).

Queries see both stores through DuckDB: `connect(start, end)` returns a connection with a
view `positions` over the Parquet files of the dates in range and the not-yet-compacted
segments, which are read in Python (numpy over the fixed-size records, no per-record loop),
turned into an Arrow table and registered in DuckDB. Readers read the WAL *before* listing
Parquet files: a segment compacted in between is then seen twice (never missed), and the
view drops the duplicate.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from . import wal
from .positions import CHINA, Position

DAY = 86400
CHINA_OFFSET = 8 * 3600
UNKNOWN = "unknown"
COMPACT_RECORDS = 2_000_000  # records per compaction step (~180 MB of segments)
COLUMNS = [name for name in wal.DTYPE.names]
SCHEMA = pa.schema(
    [
        ("terminal", pa.string()),
        ("time", pa.int64()),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("speed_kmh", pa.float64()),
        ("direction", pa.uint16()),
        ("altitude_m", pa.int32()),
        ("alarm", pa.uint32()),
        ("status", pa.uint32()),
        ("mileage_km", pa.float64()),
        ("fuel_l", pa.float64()),
        ("received", pa.float64()),
    ]
)


def telemetry_home(home: Path | None = None) -> Path:
    if home is None:
        from django.conf import settings

        home = settings.HOME
    return Path(home) / "telemetry"


def archive_root(home: Path | None = None) -> Path:
    return telemetry_home(home) / "archive"


def retention_days_default() -> int:
    from django.conf import settings

    env = os.environ.get("GUANJIA_TELEMETRY_RETENTION_DAYS")
    return int(env) if env else int(getattr(settings, "TELEMETRY_RETENTION_DAYS", 365))


def normalize_terminal(terminal: str) -> str:
    """The register's key for a terminal number in any zero-padding."""
    digits = str(terminal).strip()
    if not digits.isdigit():
        raise ValueError(f"终端号只能由数字组成：{terminal}")
    return digits.lstrip("0") or "0"


# -- numpy records → Arrow -----------------------------------------------------------------


def to_table(arr: np.ndarray) -> pa.Table:
    cols = []
    for name, field in zip(COLUMNS, SCHEMA, strict=True):
        col = arr[name]
        if name == "terminal":
            cols.append(pa.array(col, type=pa.binary()).cast(pa.string()))
        elif name in ("mileage_km", "fuel_l"):
            cols.append(pa.array(col, type=field.type, from_pandas=True))  # NaN → null
        else:
            cols.append(pa.array(col, type=field.type))
    return pa.Table.from_arrays(cols, schema=SCHEMA)


def sort_dedupe(arr: np.ndarray) -> np.ndarray:
    """Sorted by terminal then time, one record per (terminal, time): the first written."""
    if not len(arr):
        return arr
    order = np.lexsort((np.arange(len(arr)), arr["time"], arr["terminal"]))
    arr = arr[order]
    keep = np.ones(len(arr), dtype=bool)
    keep[1:] = (arr["terminal"][1:] != arr["terminal"][:-1]) | (arr["time"][1:] != arr["time"][:-1])
    return arr[keep]


def china_days(times: np.ndarray) -> np.ndarray:
    return (times + CHINA_OFFSET) // DAY


def day_name(day: int) -> str:
    return (dt.date(1970, 1, 1) + dt.timedelta(days=int(day))).isoformat()


# -- regions -------------------------------------------------------------------------------


def terminal_provinces() -> dict[bytes, str]:
    """terminal key → province code (e.g. "510000") of the vehicle's agency region."""
    from guanjia.vehicles.models import Vehicle

    rows = Vehicle.objects.exclude(terminal_key="").values_list(
        "terminal_key", "agency__region__code"
    )
    return {key.encode(): (code[:2] + "0000" if code else UNKNOWN) for key, code in rows}


# -- compaction ----------------------------------------------------------------------------


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _write_partitions(arr: np.ndarray, root: Path, name: str, provinces: dict) -> list[Path]:
    arr = sort_dedupe(arr)
    days = china_days(arr["time"])
    regions = np.array([provinces.get(t, UNKNOWN) for t in arr["terminal"].tolist()], dtype=object)
    written = []
    for day in np.unique(days):
        in_day = days == day
        for region in sorted(set(regions[in_day].tolist())):
            part = arr[in_day & (regions == region)]
            folder = root / f"date={day_name(day)}" / f"region={region}"
            folder.mkdir(parents=True, exist_ok=True)
            final = folder / f"{name}.parquet"
            tmp = folder / f".{name}.parquet.tmp"
            pq.write_table(to_table(part), tmp, row_group_size=65536, compression="zstd")
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp, final)
            written.append(final)
    for folder in {p.parent for p in written}:
        wal._fsync_dir(folder)
    return written


def compact(*, home: Path | None = None, retention_days: int | None = None) -> dict:
    """Closed segments → Parquet; then drop partitions older than the retention."""
    root, wal_dir = archive_root(home), wal.wal_root(home)
    with _exclusive(telemetry_home(home) / "compact.lock"):
        recovered = wal.recover_abandoned(wal_dir)
        closed = wal.segments(wal_dir, closed_only=True)
        provinces = terminal_provinces() if closed else {}
        files, records, segs_done = [], 0, 0
        group: list[Path] = []
        arrays: list[np.ndarray] = []
        size = 0

        def flush():
            nonlocal records, segs_done, size
            if not group:
                return
            writer = group[0].parent.name
            name = f"c-{writer}-{group[0].stem}-{group[-1].stem}"
            arr = np.concatenate(arrays) if arrays else np.empty(0, dtype=wal.DTYPE)
            if len(arr):
                files.extend(_write_partitions(arr, root, name, provinces))
            records += len(arr)
            for seg in group:
                seg.unlink(missing_ok=True)
            segs_done += len(group)
            group.clear()
            arrays.clear()
            size = 0

        for seg in closed:
            if group and (seg.parent != group[0].parent or size >= COMPACT_RECORDS):
                flush()
            arr = wal.read_segment(seg)
            group.append(seg)
            arrays.append(arr)
            size += len(arr)
        flush()
        days = retention_days if retention_days is not None else retention_days_default()
        dropped = apply_retention(root, days)
    return {
        "segments": segs_done,
        "recovered": len(recovered),
        "records": records,
        "files": len(files),
        "retention_days": days,
        "dropped_partitions": dropped,
    }


def apply_retention(root: Path, days: int, *, today: dt.date | None = None) -> list[str]:
    """Delete the date partitions older than `days` days (China date). Returns their dates."""
    if days <= 0 or not root.exists():
        return []
    today = today or dt.datetime.now(CHINA).date()
    cutoff = today - dt.timedelta(days=days)
    dropped = []
    for folder in sorted(root.glob("date=*")):
        try:
            day = dt.date.fromisoformat(folder.name.removeprefix("date="))
        except ValueError:
            continue
        if day < cutoff:
            shutil.rmtree(folder)
            dropped.append(day.isoformat())
    return dropped


# -- queries -------------------------------------------------------------------------------


def parquet_files(root: Path, start: int | None = None, end: int | None = None) -> list[str]:
    """Parquet files of the date partitions that can hold times in [start, end)."""
    if not root.exists():
        return []
    first = day_name(china_days(np.int64(start))) if start is not None else None
    last = day_name(china_days(np.int64(end - 1))) if end is not None else None
    files = []
    for folder in sorted(root.glob("date=*")):
        day = folder.name.removeprefix("date=")
        if (first and day < first) or (last and day > last):
            continue
        files += sorted(str(p) for p in folder.glob("region=*/*.parquet"))
    return files


def connect(
    start: int | None = None,
    end: int | None = None,
    *,
    terminal: str | None = None,
    home: Path | None = None,
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the view `positions` (columns as SCHEMA plus
    `date` and `region`, where known) over the archive and the WAL, limited to GNSS times
    in [start, end) and to one terminal key when given, deduplicated on (terminal, time).
    """
    con = duckdb.connect()
    # WAL first, then the Parquet listing (see the module docstring).
    recent = wal.read_all(wal.wal_root(home), terminal=terminal, start=start, end=end)
    wal_table = to_table(recent)
    con.register("wal_positions", wal_table)
    files = parquet_files(archive_root(home), start, end)
    cols = ", ".join(COLUMNS)
    conds = []
    if terminal is not None:
        conds.append(f"terminal = '{normalize_terminal(terminal)}'")
    if start is not None:
        conds.append(f"time >= {int(start)}")
    if end is not None:
        conds.append(f"time < {int(end)}")
    where = (" WHERE " + " AND ".join(conds)) if conds else ""
    sources = [f"SELECT {cols}, 1 AS src FROM wal_positions"]
    if files:
        listing = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
        sources.insert(
            0,
            f"SELECT {cols}, 0 AS src FROM read_parquet([{listing}], hive_partitioning = false)"
            f"{where}",
        )
    union = " UNION ALL ".join(sources)
    con.execute(
        f"CREATE VIEW positions AS SELECT {cols} FROM ({union}) "
        "QUALIFY row_number() OVER (PARTITION BY terminal, time ORDER BY src) = 1"
    )
    return con


def track(
    terminal: str, start: int | None = None, end: int | None = None, *, home: Path | None = None
) -> list[Position]:
    """A terminal's positions with GNSS time in [start, end), ordered by time."""
    key = normalize_terminal(terminal)
    con = connect(start, end, terminal=key, home=home)
    try:
        rows = con.execute(f"SELECT {', '.join(COLUMNS)} FROM positions ORDER BY time").fetchall()
    finally:
        con.close()
    return [Position(*r) for r in rows]


def track_rows(positions: list[Position]) -> list[dict]:
    """The track command's and API's row shape."""
    return [
        {
            "time": p.iso_time(),
            "lat": p.lat,
            "lon": p.lon,
            "speed_kmh": p.speed_kmh,
            "direction": p.direction,
            "altitude_m": p.altitude_m,
            "alarm": p.alarm,
            "status": p.status,
            "mileage_km": p.mileage_km,
        }
        for p in positions
    ]


def parse_time(value: str | None) -> int | None:
    """ISO 8601 → UTC epoch seconds; a time without offset is China time."""
    if value is None or value == "":
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"时间格式应为 ISO 8601（如 2026-03-02T08:00:00+08:00）：{value}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA)
    return int(moment.timestamp())
