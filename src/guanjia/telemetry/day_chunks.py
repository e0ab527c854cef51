"""A day of the archive in consecutive terminal ranges: the rows of batch.day_columns, cut
into Columns of about `points` rows each, every terminal whole in one of them.

    for cols in day_chunks(start, end):
        items += batch.evaluate(cols, directory)
        trips += batch.segment(cols)

Rules and trips look at one terminal at a time, so evaluating the chunks one after the
other finds exactly what the whole day in one Columns finds, in the same (terminal, time)
order — only `first`/`last` of a trip index into its chunk. Why chunks: a day of 10,000 cars
is ~30 M points, and the whole-day path allocates a few GB of fresh arrays (Arrow buffers,
columns, sort keys, the rules' masks). Touching fresh memory is the slow part of that path
on a virtual machine whose host lends pages lazily and takes freed ones back; chunks of a
few million points reuse the same few hundred MB, warm, from one chunk to the next.

Reading by terminal range relies on the archive's layout: archive.compact writes each file
sorted by terminal then time, so the row groups of a file cover increasing terminal
ranges (their min/max statistics say which). Each file is read forward once, row group by
row group; a row group that straddles a chunk boundary is read once and its rows above the
boundary are kept for the next chunk. Files that are not so ordered (no statistics,
overlapping row groups) cannot be read this way: the whole day is then one chunk.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from . import archive, wal
from .batch import NEEDED, Columns, columns_of, day_columns, wal_table

CHUNK_POINTS = 2_000_000


def day_chunks(start: int, end: int, *, home=None, points: int = CHUNK_POINTS) -> Iterator[Columns]:
    """The positions with GNSS time in [start, end) (as day_columns: archive and write-ahead
    segments, duplicates on (terminal, time) stored once, the archived copy first), as
    Columns of consecutive terminal ranges of about `points` rows, in terminal order."""
    # WAL first, then the Parquet listing (see archive's docstring).
    recent = wal.read_all(wal.wal_root(home), start=start, end=end)
    files = [_SortedFile(f) for f in archive.parquet_files(archive.archive_root(home), start, end)]
    if not all(f.sorted for f in files):
        cols = day_columns(start, end, home=home)
        if len(cols):
            yield cols
        return
    recent = recent[np.argsort(recent["terminal"], kind="stable")]  # stable: first copy first
    bounds = _bounds(files, points)
    wal_lo = 0
    for hi in [*bounds, None]:
        tables = [t for f in files if (t := f.below(hi, start, end)) is not None]
        wal_hi = (
            len(recent) if hi is None else int(np.searchsorted(recent["terminal"], hi.encode()))
        )
        if wal_hi > wal_lo:
            tables.append(wal_table(recent[wal_lo:wal_hi]))
        wal_lo = wal_hi
        cols = columns_of(tables)
        if len(cols):
            yield cols


def _bounds(files: list[_SortedFile], points: int) -> list[str]:
    """Terminal keys where chunks begin (after the first): the smallest row-group minimum
    at which the rows of the row groups beginning below it reach `points` again."""
    bounds: list[str] = []
    rows_in_chunk = 0
    for lo, rows in sorted((g.lo, g.rows) for f in files for g in f.groups):
        if rows_in_chunk >= max(points, 1) and (not bounds or lo > bounds[-1]):
            bounds.append(lo)
            rows_in_chunk = 0
        rows_in_chunk += rows
    return bounds


class _Group(NamedTuple):
    index: int  # row group number in its file
    lo: str  # smallest and largest terminal key
    hi: str
    rows: int


class _SortedFile:
    """One Parquet file read forward by terminal range."""

    def __init__(self, path: str):
        import pyarrow.parquet as pq

        self.file = pq.ParquetFile(path, memory_map=True, read_dictionary=["terminal"])
        meta = self.file.metadata
        column = meta.schema.names.index("terminal")
        self.groups: list[_Group] = []  # the non-empty row groups
        self.sorted = True  # row groups in increasing, non-overlapping terminal ranges
        for i in range(meta.num_row_groups):
            group = meta.row_group(i)
            stats = group.column(column).statistics
            if not group.num_rows:
                continue
            if stats is None or not stats.has_min_max or not isinstance(stats.min, str):
                self.sorted = False
                return
            if self.groups and self.groups[-1].hi > stats.min:
                self.sorted = False
            self.groups.append(_Group(i, stats.min, stats.max, group.num_rows))
        self.next = 0
        self.left = None  # rows read for an earlier chunk but above its bound

    def below(self, hi: str | None, start: int, end: int):
        """The not yet returned rows with terminal < hi (all of them for None) and GNSS time
        in [start, end), as an Arrow table of the NEEDED columns, or None."""
        import pyarrow as pa

        take = []
        while self.next < len(self.groups) and (hi is None or self.groups[self.next].lo < hi):
            take.append(self.groups[self.next].index)
            self.next += 1
        tables = [self.left] if self.left is not None else []
        if take:
            tables.append(self.file.read_row_groups(take, columns=NEEDED, use_threads=True))
        if not tables:
            return None
        table = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
        self.left = None
        if hi is not None:
            cut = _rows_below(table.column("terminal"), hi)
            if cut < table.num_rows:
                self.left = table.slice(cut)
                table = table.slice(0, cut)
        return _in_window(table, start, end) if table.num_rows else None


def _rows_below(terminal, hi: str) -> int:
    """How many rows of a terminal-sorted dictionary column come before key `hi`: compared
    on each chunk's dictionary (a few hundred keys), not row by row as strings."""
    import pyarrow.compute as pc

    below = 0
    for chunk in terminal.chunks:
        in_dict = pc.less(chunk.dictionary, hi).to_numpy(zero_copy_only=False)
        below += int(np.count_nonzero(in_dict[chunk.indices.to_numpy(zero_copy_only=False)]))
    return below


def _in_window(table, start: int, end: int):
    """The rows with time in [start, end); the table itself when all are (a whole day)."""
    import pyarrow.compute as pc

    time = table.column("time")
    lo, hi = pc.min_max(time).values()
    if lo.as_py() >= start and hi.as_py() < end:
        return table
    return table.filter(pc.and_(pc.greater_equal(time, int(start)), pc.less(time, int(end))))
