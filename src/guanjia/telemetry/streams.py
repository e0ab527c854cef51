"""Scale-out over Redis Streams: gateways publish, rule workers consume.

With `GUANJIA_REDIS_URL` set, every gateway registers a `Publisher` as its pipeline sink
"streams" (next to the live state, which then also goes to the Redis hash, see live.py) and
runs no rules itself; `guanjia telemetry worker` processes (`Worker`) run the rule engine on
what they consume.

Partitions. Positions are split over N streams `guanjia:pos:<i>` by
`crc32(terminal) % N` (N is fixed for a deployment in the key `guanjia:pos:partitions`; the
first gateway or worker sets it from `GUANJIA_STREAM_PARTITIONS`, default 8). A terminal's
positions are therefore in one stream, in the order the gateway wrote them durably. Each
durably written batch becomes at most one entry per stream — `XADD … MAXLEN ~ 100000`,
pipelined, with the positions as the write-ahead segment's fixed-size records (wal.RECORD),
so a batch is encoded and decoded without a per-field Python step.

Consumer groups. Every stream has the group "rules". A stream is read by one worker at a
time — the one holding its lease (`guanjia:pos:lease:<i>`, SET NX PX, renewed every loop) —
so a terminal's positions reach the rule engine in order and each entry reaches one worker.
Workers announce themselves in the sorted set `guanjia:workers` (score = expiry) and take
`ceil(N / live workers)` partitions each: a new worker gets partitions that others hand back
(after acknowledging what they read), a worker that dies or hangs stops renewing, its leases
expire and the others take its partitions. Whoever takes a partition first claims the
entries still pending in the group (`XAUTOCLAIM`, delivered to a consumer that never
acknowledged them) and handles them before reading new ones (`XREADGROUP … >`). An entry is
acknowledged (`XACK`) only after `pipeline.deliver` returned for its positions.

Guarantees. At least once, in order per terminal. A worker killed after its rules ran but
before its `XACK` has that batch handled again by the next owner; the rule engine's cases are
keyed by episode (dedup_key), so a repeat opens no second case. Streams are bounded (MAXLEN
~): if the workers are down long enough for a stream to be trimmed past what they read, the
positions are still in the archive and `guanjia telemetry rules --date D` re-runs the day.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
import zlib
from collections.abc import Callable, Sequence

from . import pipeline, wal
from .positions import Position

log = logging.getLogger(__name__)

PREFIX = "guanjia:pos:"
PARTITIONS_KEY = PREFIX + "partitions"
WORKERS_KEY = "guanjia:workers"
GROUP = "rules"
DEFAULT_PARTITIONS = 8
MAXLEN = 100_000  # entries per stream (~one per partition per group commit): ~30 min

# Renew / release a lease only if it is still ours.
_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"  # noqa: E501
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"  # noqa: E501


def stream_key(i: int) -> str:
    return f"{PREFIX}{i}"


def lease_key(i: int) -> str:
    return f"{PREFIX}lease:{i}"


def partition(terminal: str, n: int) -> int:
    """The partition of a terminal: stable across processes and machines (not hash())."""
    return zlib.crc32(terminal.encode()) % n


def partitions(client, default: int | None = None) -> int:
    """N for this deployment: set once (the first process wins), read by all."""
    want = default or int(os.environ.get("GUANJIA_STREAM_PARTITIONS") or DEFAULT_PARTITIONS)
    client.set(PARTITIONS_KEY, want, nx=True)
    return int(client.get(PARTITIONS_KEY))


def connect(url: str | None = None):
    import redis

    url = url or os.environ.get("GUANJIA_REDIS_URL")
    if not url:
        raise ValueError("未设置 GUANJIA_REDIS_URL，无法使用 Redis Streams")
    return redis.Redis.from_url(url, health_check_interval=30)


def encode(positions: Sequence[Position]) -> bytes:
    return wal.pack(positions)


def decode(payload: bytes) -> list[Position]:
    return wal.to_positions(wal.records([payload]))


# -- the gateway's side ------------------------------------------------------------------


class Publisher:
    """The pipeline sink of a scaled-out gateway: one XADD per partition and batch."""

    def __init__(self, client, *, source: str = "", maxlen: int = MAXLEN, retry_s: float = 30):
        self.client = client
        self.source = source
        self.maxlen = maxlen
        self.retry_s = retry_s
        self.n = partitions(client)
        self.published = 0
        self.lost = 0

    @classmethod
    def from_url(cls, url: str | None = None, **kw) -> Publisher:
        return cls(connect(url), **kw)

    def __call__(self, batch: Sequence[Position]) -> None:
        if not batch:
            return
        n, crc = self.n, zlib.crc32
        parts: dict[int, list[Position]] = {}
        for p in batch:
            i = crc(p.terminal.encode()) % n
            part = parts.get(i)
            if part is None:
                parts[i] = [p]
            else:
                part.append(p)
        fields_common = {"s": self.source, "t": repr(time.time())}
        deadline = time.monotonic() + self.retry_s
        delay = 0.05
        while True:
            pipe = self.client.pipeline(transaction=False)
            for i in sorted(parts):
                fields = {"p": encode(parts[i]), "n": len(parts[i]), **fields_common}
                pipe.xadd(stream_key(i), fields, maxlen=self.maxlen, approximate=True)
            try:
                pipe.execute()
                break
            except Exception:
                # Redis away: the positions are durable in the WAL; keep this batch's place
                # in the order by retrying here (the sink thread is not the ack path).
                if time.monotonic() > deadline:
                    self.lost += len(batch)
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
        self.published += len(batch)

    def close(self) -> None:
        self.client.close()


def install(url: str | None = None, *, source: str = "") -> Publisher:
    """Register the publisher as the pipeline sink "streams" (what a gateway does)."""
    pub = Publisher.from_url(url, source=source)
    pipeline.register("streams", pub)
    return pub


# -- the worker's side -------------------------------------------------------------------


class Worker:
    """One consumer of the group "rules": holds leases on some partitions, reads their
    streams, hands the positions to `deliver` (pipeline.deliver), then XACKs."""

    def __init__(
        self,
        client,
        *,
        name: str | None = None,
        lease_s: float = 5.0,
        count: int = 64,
        block_ms: int = 500,
        deliver: Callable[[Sequence[Position]], None] = pipeline.deliver,
    ):
        self.client = client
        self.name = name or f"{socket.gethostname()}-{os.getpid()}"
        self.lease_ms = int(lease_s * 1000)
        self.count = count
        self.block_ms = min(block_ms, self.lease_ms // 3)
        self.deliver = deliver
        self.n = partitions(client)
        self.owned: set[int] = set()
        self.backlog: set[int] = set()  # partitions with claimed entries still to handle
        self.stats = {"entries": 0, "positions": 0, "claimed": 0, "acquired": 0, "released": 0}
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)
        self._groups: set[int] = set()

    # leases ----------------------------------------------------------------------------

    def _ensure_group(self, i: int) -> None:
        if i in self._groups:
            return
        import redis

        try:
            self.client.xgroup_create(stream_key(i), GROUP, id="0", mkstream=True)
        except redis.ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise
        self._groups.add(i)

    def _share(self, now: float) -> int:
        c = self.client
        pipe = c.pipeline(transaction=False)
        pipe.zadd(WORKERS_KEY, {self.name: now + self.lease_ms / 1000})
        pipe.zremrangebyscore(WORKERS_KEY, "-inf", now)
        pipe.zcard(WORKERS_KEY)
        live = pipe.execute()[2]
        return math.ceil(self.n / max(1, live))

    def balance(self) -> None:
        """Renew our leases, hand back what is beyond our share, take free partitions."""
        share = self._share(time.time())
        for i in sorted(self.owned):
            if not self._renew(keys=[lease_key(i)], args=[self.name, self.lease_ms]):
                log.warning("worker %s lost the lease of partition %d", self.name, i)
                self.owned.discard(i)
                self.backlog.discard(i)
        # Everything read so far is acknowledged (balance runs between batches).
        for i in sorted(self.owned, reverse=True)[: max(0, len(self.owned) - share)]:
            self._release(keys=[lease_key(i)], args=[self.name])
            self.owned.discard(i)
            self.backlog.discard(i)
            self.stats["released"] += 1
        if len(self.owned) < share:
            start = zlib.crc32(self.name.encode()) % self.n
            for k in range(self.n):
                if len(self.owned) >= share:
                    break
                i = (start + k) % self.n
                if i in self.owned:
                    continue
                if self.client.set(lease_key(i), self.name, nx=True, px=self.lease_ms):
                    self._take(i)

    def _take(self, i: int) -> None:
        """A partition is ours: claim what its previous owner read and never acknowledged."""
        self._ensure_group(i)
        key, cursor, claimed = stream_key(i), "0-0", 0
        while True:
            # (justid would save the payloads, but redis-py then drops the cursor)
            res = self.client.xautoclaim(
                key, GROUP, self.name, min_idle_time=0, start_id=cursor, count=200
            )
            cursor, ids = res[0], res[1]
            claimed += len(ids)
            if cursor in (b"0-0", "0-0"):
                break
        for c in self.client.xinfo_consumers(key, GROUP):
            cname = c["name"].decode() if isinstance(c["name"], bytes) else c["name"]
            if cname != self.name and not c["pending"]:
                self.client.xgroup_delconsumer(key, GROUP, cname)
        self.owned.add(i)
        if claimed:  # (a previous incarnation's under the same name included)
            self.backlog.add(i)  # our pending entries — the claimed ones — come first
        self.stats["acquired"] += 1
        self.stats["claimed"] += claimed
        if claimed:
            log.info("worker %s took partition %d with %d pending entries", self.name, i, claimed)

    def release_all(self) -> None:
        for i in sorted(self.owned):
            self._release(keys=[lease_key(i)], args=[self.name])
        self.owned.clear()
        self.backlog.clear()
        self.client.zrem(WORKERS_KEY, self.name)

    # reading ---------------------------------------------------------------------------

    def step(self) -> int:
        """One read → deliver → XACK round over the owned partitions; positions handled."""
        if not self.owned:
            time.sleep(self.block_ms / 1000)
            return 0
        order = sorted(self.owned)
        streams = {stream_key(i): ("0" if i in self.backlog else ">") for i in order}
        block = None if self.backlog else self.block_ms
        res = self.client.xreadgroup(GROUP, self.name, streams, count=self.count, block=block)
        positions: list[Position] = []
        acks: dict[str, list] = {}
        got_backlog = set()
        for key, entries in res or ():
            key = key.decode() if isinstance(key, bytes) else key
            i = int(key.rsplit(":", 1)[1])
            if i in self.backlog and entries:
                got_backlog.add(i)
            for entry_id, fields in entries:
                acks.setdefault(key, []).append(entry_id)
                if not fields:  # trimmed away (MAXLEN) while pending
                    continue
                payload = fields.get(b"p") or fields.get("p")
                if payload:
                    positions.extend(decode(payload))
        self.backlog &= got_backlog  # a backlog read that came back empty is done
        if positions:
            self.deliver(positions)
        if acks:
            pipe = self.client.pipeline(transaction=False)
            for key, ids in acks.items():
                pipe.xack(key, GROUP, *ids)
            pipe.execute()
            self.stats["entries"] += sum(map(len, acks.values()))
        self.stats["positions"] += len(positions)
        return len(positions)

    def run(self, stop: threading.Event, *, balance_every_s: float | None = None) -> dict:
        every = balance_every_s or self.lease_ms / 3000
        next_balance = 0.0
        try:
            while not stop.is_set():
                now = time.monotonic()
                if now >= next_balance:
                    self.balance()
                    next_balance = now + every
                self.step()
        finally:
            try:
                self.release_all()
            except Exception:
                log.exception("worker %s could not hand back its partitions", self.name)
        return {"name": self.name, "partitions": self.n, **self.stats}


__all__ = ["Publisher", "Worker", "decode", "encode", "install", "partition", "partitions"]
