"""A day of the archive read in terminal ranges gives the rows of the whole-day read."""

import numpy as np
import pyarrow.parquet as pq

from guanjia.telemetry import archive, batch, wal
from guanjia.telemetry.day_chunks import day_chunks
from guanjia.telemetry.positions import Position
from guanjia.telemetry.trips import TripParams

DAY0 = 1772380800  # 2026-03-02T00:00:00+08:00
KEYS = [str(13800000000 + i) for i in range(0, 40, 3)] + ["777", "9"]


def _records(keys, times, seed):
    rng = np.random.default_rng(seed)
    rec = np.zeros(len(keys) * len(times), dtype=wal.DTYPE)
    rec["terminal"] = np.repeat([k.encode() for k in keys], len(times))
    rec["time"] = np.tile(times, len(keys))
    rec["lat"] = 30.6 + rng.normal(0, 0.01, len(rec))
    rec["lon"] = 104.0 + rng.normal(0, 0.01, len(rec))
    rec["speed_kmh"] = rng.choice([0.0, 35.0, 80.0], len(rec))
    rec["status"] = rng.choice([2, 3], len(rec))
    rec["mileage_km"] = np.where(rng.random(len(rec)) < 0.2, np.nan, rng.uniform(0, 9, len(rec)))
    return rec


def _write(home, name, rec, *, group_rows=7, sort=True):
    folder = archive.archive_root(home) / "date=2026-03-02" / "region=510000"
    folder.mkdir(parents=True, exist_ok=True)
    rec = archive.sort_dedupe(rec) if sort else rec
    pq.write_table(archive.to_table(rec), folder / f"{name}.parquet", row_group_size=group_rows)


def _as_rows(cols):
    return list(
        zip(
            [cols.keys[c] for c in cols.code.tolist()],
            cols.t.tolist(),
            cols.lat.tolist(),
            cols.speed.tolist(),
            cols.status.tolist(),
            np.nan_to_num(cols.mileage, nan=-1).tolist(),
            strict=True,
        )
    )


def _archive_with_overlaps(home):
    """Two hourly files over the same terminals, one overlapping the other by ten minutes
    (duplicates with other values), and write-ahead records, some duplicating the files."""
    hour1 = DAY0 + np.arange(0, 3600, 120)
    hour2 = DAY0 + np.arange(3000, 7200, 120)
    _write(home, "a", _records(KEYS, hour1, 1))
    _write(home, "b", _records(KEYS[1:], hour2, 2), group_rows=11)
    late = _records(KEYS[::2], DAY0 + np.arange(3300, 9000, 300), 3)
    late = late[np.argsort(late["time"], kind="stable")]  # as received: by time
    writer = wal.WalWriter(wal.wal_root(home), "gw")
    writer.write(
        [
            Position(r[0].decode(), int(r[1]), r[2], r[3], r[4], 0, 0, 0, int(r[8]), None)
            for r in late.tolist()
        ]
    )
    writer.close()


def test_chunks_hold_the_rows_of_the_whole_day_each_terminal_in_one(tmp_path):
    _archive_with_overlaps(tmp_path)
    start, end = DAY0 + 600, DAY0 + 86400  # a partial day: rows before 00:10 left out
    whole = batch.day_columns(start, end, home=tmp_path)
    chunks = list(day_chunks(start, end, home=tmp_path, points=60))
    assert len(chunks) > 3
    seen = [set(c.keys[i] for i in np.unique(c.code).tolist()) for c in chunks]
    assert sum(len(s) for s in seen) == len(set().union(*seen)) == len(whole.keys)
    assert [r for c in chunks for r in _as_rows(c)] == _as_rows(whole)
    assert min(c.t.min() for c in chunks) >= start


def test_rules_and_trips_over_chunks_equal_the_whole_day(tmp_path):
    _archive_with_overlaps(tmp_path)
    params = TripParams(min_distance_km=0, min_duration_s=0)
    whole = batch.day_columns(DAY0, DAY0 + 86400, home=tmp_path)
    chunks = list(day_chunks(DAY0, DAY0 + 86400, home=tmp_path, points=100))
    assert len(chunks) > 1

    def without_index(rows):
        return [{k: v for k, v in r.items() if k not in ("first", "last")} for r in rows]

    got = [r for c in chunks for r in batch.segment(c, params)]
    want = batch.segment(whole, params)
    assert want and without_index(got) == without_index(want)


def test_files_not_ordered_by_terminal_are_read_as_one_chunk(tmp_path):
    rec = _records(KEYS, DAY0 + np.arange(0, 3600, 60), 4)
    _write(tmp_path, "time-major", rec[np.argsort(rec["time"], kind="stable")], sort=False)
    chunks = list(day_chunks(DAY0, DAY0 + 86400, home=tmp_path, points=50))
    assert len(chunks) == 1
    assert _as_rows(chunks[0]) == _as_rows(batch.day_columns(DAY0, DAY0 + 86400, home=tmp_path))
