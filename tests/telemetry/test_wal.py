"""Write-ahead segments: durable blocks, torn tails ignored, duplicates stored once."""

import os
import subprocess
import sys

import pytest

from guanjia.telemetry import wal
from guanjia.telemetry.positions import Position

T0 = 1772410500  # 2026-03-02T08:15:00+08:00


def pos(terminal="13800138000", t=T0, **kw):
    values = (
        dict(
            lat=30.657,
            lon=104.066,
            speed_kmh=42.5,
            direction=90,
            altitude_m=500,
            alarm=0,
            status=3,
            mileage_km=1234.5,
            fuel_l=None,
            received=T0 + 1.0,
        )
        | kw
    )
    return Position(terminal, t, **values)


def test_records_round_trip(tmp_path):
    w = wal.WalWriter(tmp_path, "gw")
    written = [pos(t=T0 + i, mileage_km=None if i % 2 else 10.0 + i) for i in range(5)]
    w.write(written)
    w.close()
    assert wal.to_positions(wal.read_all(tmp_path)) == written


def test_torn_tail_is_ignored_and_cut_on_restart(tmp_path):
    w = wal.WalWriter(tmp_path, "gw")
    acked = [pos(t=T0 + i) for i in range(100)]
    for i in range(0, 100, 10):
        w.write(acked[i : i + 10])  # each write returns after fsync: acknowledged
    seg = w.current
    # A crash mid-write: half of the next block reached the file, then the process died.
    torn = wal.block(wal.pack([pos(t=T0 + 1000 + i) for i in range(10)]), 10)
    with open(seg, "ab") as f:
        f.write(torn[: len(torn) // 2])
    os.close(w._lock_fd)  # the dead process's lock goes with it; nothing else is closed
    w._file = None

    # Another process reads meanwhile: every acknowledged record, not the torn one.
    assert wal.to_positions(wal.read_all(tmp_path)) == acked

    size_before = seg.stat().st_size
    w2 = wal.WalWriter(tmp_path, "gw")  # restart: the open segment is recovered
    closed = seg.with_suffix(wal.CLOSED)
    assert closed.exists() and not seg.exists()
    assert closed.stat().st_size == size_before - len(torn) // 2
    later = [pos(t=T0 + 2000)]
    w2.write(later)
    w2.close()
    assert wal.to_positions(wal.read_all(tmp_path)) == acked + later


def test_corrupt_byte_stops_reading_at_that_block(tmp_path):
    w = wal.WalWriter(tmp_path, "gw")
    w.write([pos(t=T0)])
    w.write([pos(t=T0 + 1)])
    seg = w.current
    w.close()
    data = bytearray(seg.with_suffix(wal.CLOSED).read_bytes())
    data[-5] ^= 0xFF  # inside the second block's payload
    seg.with_suffix(wal.CLOSED).write_bytes(bytes(data))
    assert [p.time for p in wal.to_positions(wal.read_all(tmp_path))] == [T0]


def test_second_writer_on_the_same_folder_is_refused(tmp_path):
    w = wal.WalWriter(tmp_path, "gw")
    with pytest.raises(wal.WalBusy):
        wal.WalWriter(tmp_path, "gw")
    w.close()
    wal.WalWriter(tmp_path, "gw").close()


def test_abandoned_open_segment_recovered_by_others_only_when_its_writer_is_gone(tmp_path):
    w = wal.WalWriter(tmp_path, "gw")
    w.write([pos()])
    assert wal.recover_abandoned(tmp_path) == []  # the writer holds its lock
    os.close(w._lock_fd)
    w._lock_fd = None
    assert [p.suffix for p in wal.recover_abandoned(tmp_path)] == [wal.CLOSED]


def test_rotation_by_size_closes_segments(tmp_path):
    w = wal.WalWriter(tmp_path, "gw", segment_bytes=1000)
    for i in range(30):
        w.write([pos(t=T0 + i)])
    w.close()
    segs = wal.segments(tmp_path, closed_only=True)
    assert len(segs) == 3  # 106-byte blocks, closed once a segment reaches 1000 bytes
    assert len(wal.read_all(tmp_path)) == 30


def test_readable_from_another_process_right_after_write(tmp_path):
    w = wal.WalWriter(tmp_path, "gw")
    w.write([pos(t=T0 + i) for i in range(7)])
    code = (
        "import sys; from pathlib import Path; from guanjia.telemetry import wal;"
        "print(len(wal.read_all(Path(sys.argv[1]), terminal='13800138000')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "7"
    w.close()


def test_deduper_drops_same_terminal_same_time_only():
    d = wal.Deduper(keep=3)
    first = d.fresh([pos(t=T0), pos(t=T0), pos("2", t=T0), pos(t=T0 + 1)])
    assert [(p.terminal, p.time) for p in first] == [
        ("13800138000", T0),
        ("2", T0),
        ("13800138000", T0 + 1),
    ]
    assert d.fresh([pos(t=T0 + 1)]) == []  # a retransmission of a recent position
    assert d.dropped == 2
    d.fresh([pos(t=T0 + 10 + i) for i in range(3)])
    assert len(d.fresh([pos(t=T0)])) == 1  # beyond the remembered window: passes
