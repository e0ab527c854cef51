"""Compaction into Parquet partitions, retention, and DuckDB queries over archive + WAL."""

import datetime as dt

import pyarrow.parquet as pq
import pytest

from guanjia.telemetry import archive, wal
from guanjia.vehicles import services as vehicle_services

from ..vehicles.conftest import vehicle_fields
from .test_wal import T0, pos

SC_TERMINAL = "13800138000"  # 成都 (Sichuan) agency B's car
CQ_TERMINAL = "13900139000"  # 大足 (Chongqing) agency A's car


@pytest.fixture
def home(tmp_path, settings):
    settings.HOME = tmp_path
    return tmp_path


@pytest.fixture
def cars(world):
    return {
        SC_TERMINAL: vehicle_services.create_vehicle(
            None, **vehicle_fields(world["B"], terminal_number="0" + SC_TERMINAL)
        ),
        CQ_TERMINAL: vehicle_services.create_vehicle(
            None, **vehicle_fields(world["A1"], terminal_number=CQ_TERMINAL)
        ),
    }


def write(home, positions, name="gw"):
    w = wal.WalWriter(wal.wal_root(home), name)
    w.write(positions)
    w.close()  # closes the segment: compactable


def test_compaction_partitions_by_china_date_and_province(home, cars):
    late = T0 + 15 * 3600 + 45 * 60  # 2026-03-03T00:00:00+08:00: the next China date
    write(home, [pos(SC_TERMINAL, T0), pos(SC_TERMINAL, late), pos(CQ_TERMINAL, T0)])
    # A retransmission that reached the WAL again after a restart, in a later segment.
    write(home, [pos(SC_TERMINAL, T0)])
    write(home, [pos("777", T0)], name="gw2")  # a terminal not in the register
    before = archive.track(SC_TERMINAL, home=home)
    result = archive.compact(home=home, retention_days=0)
    assert result["segments"] == 3 and result["records"] == 5
    assert wal.segments(wal.wal_root(home)) == []
    root = archive.archive_root(home)
    parts = sorted(str(p.relative_to(root).parent) for p in root.rglob("*.parquet"))
    assert parts == [
        "date=2026-03-02/region=500000",
        "date=2026-03-02/region=510000",
        "date=2026-03-02/region=unknown",
        "date=2026-03-03/region=510000",
    ]
    sc = pq.read_table(next((root / "date=2026-03-02/region=510000").glob("*.parquet")))
    assert sc.column("terminal").to_pylist() == [SC_TERMINAL]
    # Same answer from Parquet as from the WAL, duplicates stored once.
    assert archive.track(SC_TERMINAL, home=home) == before
    assert [p.time for p in before] == [T0, late]


def test_query_joins_archive_and_wal_sorted_and_deduplicated(home, cars):
    write(home, [pos(SC_TERMINAL, T0 + 30 * i) for i in range(0, 10, 2)])
    archive.compact(home=home, retention_days=0)
    w = wal.WalWriter(wal.wal_root(home), "gw")
    w.write([pos(SC_TERMINAL, T0 + 30 * i) for i in range(1, 10, 2)] + [pos(SC_TERMINAL, T0)])
    got = archive.track("00000" + SC_TERMINAL, T0 + 30, T0 + 240, home=home)
    assert [p.time for p in got] == [T0 + 30 * i for i in range(1, 8)]
    with archive.connect(home=home) as con:
        assert con.execute("select count(*) from positions").fetchone() == (10,)
    w.close()


def test_compacting_the_same_segment_twice_writes_the_same_file(home, cars):
    write(home, [pos(SC_TERMINAL, T0)])
    seg = wal.segments(wal.wal_root(home))[0]
    data = seg.read_bytes()
    archive.compact(home=home, retention_days=0)
    seg.write_bytes(data)  # a crash after the Parquet rename, before the segment was deleted
    archive.compact(home=home, retention_days=0)
    assert len(list(archive.archive_root(home).rglob("*.parquet"))) == 1
    assert len(archive.track(SC_TERMINAL, home=home)) == 1


def test_retention_drops_old_date_partitions(home, cars):
    old = T0 - 400 * 86400
    write(home, [pos(SC_TERMINAL, old), pos(SC_TERMINAL, T0)])
    archive.compact(home=home, retention_days=0)
    root = archive.archive_root(home)
    dropped = archive.apply_retention(root, 365, today=dt.date(2026, 3, 10))
    assert dropped == [dt.date.fromtimestamp(old).isoformat()]
    assert [p.time for p in archive.track(SC_TERMINAL, home=home)] == [T0]
