"""The JT/T 808 gateway: an asyncio TCP server (uvloop where present).

One `Connection` (an asyncio.Protocol) per terminal; no coroutine per connection, no await
on any one client. What a connection may do:

- before authentication: register (0x0100 → 0x8100; only terminals in the vehicle register,
  see registry.py) and authenticate (0x0102 → 0x8001). Anything else gets 0x8001 result 1
  and counts as a failure; after `max_auth_failures` the connection is closed.
- after: heartbeats (0x0002 → 0x8001 at once), positions (0x0200, 0x0704 → 0x8001 only
  after the group commit below), unregister (0x0003), terminal responses (0x0001, read and
  ignored); other messages get 0x8001 result 3 (not supported).

**Group commit.** Positions of all connections go into one batch with the acknowledgements
they are owed; every `flush_interval_s` (or at `flush_max_positions`) one writer thread
appends the batch to the write-ahead segment and fsyncs it (wal.py). Only then are the
acks written — into each connection's transport buffer, never awaited — and the batch is
handed to `pipeline.deliver` on a separate thread (live state, rules …). Duplicates (same
terminal and GNSS time) are acked but stored once.

**Bounds** (limits.py): frame size (the splitter raises → that connection is closed), the
unframed read buffer, a token bucket of frames per second per connection (excess frames
dropped and counted), idle time without a complete frame, time to finish a begun frame
(slowloris), the transport's write buffer (a client that does not read is dropped), total
connections (refused beyond), sub-packages (per message, in flight, timeout). A frame with
a bad check code is dropped and counted; the connection keeps serving.

**Django** stays off the loop: the register's keys and the auth codes are cached in memory
(`Registry`), refreshed periodically in a thread; misses, registrations and
authentications run in `asyncio.to_thread`, frames arriving meanwhile wait in a short
per-connection backlog.

Counters and state go to `GUANJIA_HOME/run/gateway-<port>.json` every `status_every_s`
seconds; core/health.py reads it for /healthz.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import os
import signal
import time
from collections import Counter
from pathlib import Path

from . import live, pipeline, wal
from .jt808 import (
    AUTHENTICATE,
    DEREGISTER,
    HEARTBEAT,
    LOCATION,
    LOCATION_BATCH,
    REGISTER,
    REGISTER_RESPONSE,
    RESULT_FAILURE,
    RESULT_OK,
    RESULT_UNSUPPORTED,
    TERMINAL_RESPONSE,
    FrameError,
    FrameSplitter,
    FrameTooLarge,
    GeneralResponder,
    Location,
    Reassembler,
    RegisterResponse,
    checksum,
    decode_frame,
    encode_message,
    positions_of,
    to_position,
)
from .limits import Limits
from .registry import REG_OK, Registry

log = logging.getLogger(__name__)
BACKLOG_FRAMES = 64  # frames held while a registration/authentication runs in a thread
COUNTERS = (
    "connections_total",
    "refused",
    "closed",
    "frames",
    "bad_check",
    "bad_frame",
    "oversize",
    "rate_limited",
    "dropped",
    "positions",
    "duplicates",
    "stored",
    "acks",
    "auth_ok",
    "auth_failed",
    "registered",
    "register_refused",
    "unauthenticated",
    "heartbeats",
    "idle_closed",
    "slow_closed",
    "overflow_closed",
    "wal_errors",
    "commits",
)


def status_path(home: Path, port: int) -> Path:
    return Path(home) / "run" / f"gateway-{port}.json"


class Connection(asyncio.Protocol):
    __slots__ = (
        "authenticated",
        "backlog",
        "busy",
        "closed",
        "extra_acks",
        "failures",
        "gw",
        "key",
        "last_frame",
        "partial_since",
        "parts",
        "piece_serials",
        "responder",
        "serial",
        "splitter",
        "token_time",
        "tokens",
        "transport",
    )

    def __init__(self, gw: Gateway):
        self.gw = gw
        self.transport = None
        lim = gw.limits
        self.splitter = FrameSplitter(lim.max_frame)
        self.parts = None  # a Reassembler, made on the first sub-package
        self.key: str | None = None
        self.authenticated = False
        self.failures = 0
        self.tokens = float(lim.burst_frames)
        now = time.monotonic()
        self.token_time = now
        self.last_frame = now
        self.partial_since = 0.0
        self.serial = 0
        self.busy = False
        self.backlog: list[bytes] = []
        self.piece_serials: dict[tuple[int, int], list[int]] = {}
        self.extra_acks: list[tuple[int, int]] | None = None
        self.responder: GeneralResponder | None = None  # 0x8001 encoder of the terminal
        self.closed = False

    # -- transport events ------------------------------------------------------------------

    def connection_made(self, transport):
        self.transport = transport
        gw = self.gw
        if len(gw.connections) >= gw.limits.max_connections:
            gw.counters["refused"] += 1
            self.closed = True
            transport.abort()
            return
        gw.connections.add(self)
        gw.counters["connections_total"] += 1

    def connection_lost(self, exc):
        self.closed = True
        gw = self.gw
        if self in gw.connections:
            gw.connections.discard(self)
            gw.counters["closed"] += 1
        if self.key is not None and gw.by_key.get(self.key) is self:
            del gw.by_key[self.key]

    def data_received(self, data: bytes):
        if self.closed:
            return
        splitter = self.splitter
        try:
            frames = splitter.feed(data)
        except FrameTooLarge:
            self.gw.counters["oversize"] += 1
            self.abort()
            return
        now = time.monotonic()
        if splitter.pending:
            if not self.partial_since:
                self.partial_since = now
            if splitter.pending > self.gw.limits.read_buffer:
                self.gw.counters["oversize"] += 1
                self.abort()
                return
        else:
            self.partial_since = 0.0
        if frames:
            self.last_frame = now
            if self.busy:
                self._hold(frames)
            else:
                self.handle_frames(frames, now)

    # -- frames ----------------------------------------------------------------------------

    def _hold(self, frames: list[bytes]) -> None:
        room = BACKLOG_FRAMES - len(self.backlog)
        if len(frames) > room:
            self.gw.counters["dropped"] += len(frames) - max(room, 0)
            frames = frames[: max(room, 0)]
        self.backlog.extend(frames)

    def handle_frames(self, frames: list[bytes], now: float) -> None:
        gw = self.gw
        counters = gw.counters
        lim = gw.limits
        tokens = min(
            lim.burst_frames, self.tokens + (now - self.token_time) * lim.frames_per_second
        )
        self.token_time = now
        for i, payload in enumerate(frames):
            if self.closed:
                return
            if self.busy:  # a registration/authentication went to a thread: wait for it
                self._hold(frames[i:])
                break
            counters["frames"] += 1
            if tokens < 1.0:
                counters["rate_limited"] += 1
                continue
            tokens -= 1.0
            if checksum(payload[:-1]) != payload[-1]:
                counters["bad_check"] += 1
                continue
            try:
                msg = decode_frame(payload, check=False)  # the check code is verified above
                if msg.packages is not None:
                    msg = self._piece(msg)
                    if msg is None:
                        continue
            except FrameError:
                counters["bad_frame"] += 1
                continue
            self.handle(msg, now)
        self.tokens = tokens

    def _piece(self, msg):
        if self.parts is None:
            lim = self.gw.limits
            self.parts = Reassembler(
                max_packages=lim.max_subpackages,
                max_bytes=lim.max_subpackages * 1024,
                max_pending=lim.max_pending_messages,
                timeout=lim.subpackage_timeout_s,
            )
        slot = (msg.msg_id, msg.packages[0])
        serials = self.piece_serials.setdefault(slot, [])
        if len(serials) < self.gw.limits.max_subpackages:
            serials.append(msg.serial)
        if len(self.piece_serials) > self.gw.limits.max_pending_messages:
            self.piece_serials.pop(next(iter(self.piece_serials)))
        whole = self.parts.add(msg)
        if whole is not None:
            whole_serials = self.piece_serials.pop(slot, [])
            if len(whole_serials) > 1:
                # every piece is answered, after the whole message is handled
                self.extra_acks = [(s, whole.msg_id) for s in whole_serials if s != whole.serial]
        return whole

    def handle(self, msg, now: float) -> None:
        mid = msg.msg_id
        gw = self.gw
        key = msg.terminal_key
        extra, self.extra_acks = self.extra_acks, None
        if self.authenticated and key == self.key:
            if mid == LOCATION or mid == LOCATION_BATCH:
                body = msg.body
                if type(body) is Location:
                    positions = [to_position(key, body, time.time())]
                else:
                    positions = positions_of(msg, time.time())
                acks = [self.general(msg, RESULT_OK)]
                if extra:
                    acks += [self.general_for(msg, s, m, RESULT_OK) for s, m in extra]
                gw.stage(self, positions, acks)
            elif mid == HEARTBEAT:
                gw.counters["heartbeats"] += 1
                self.send(self.general(msg, RESULT_OK))
            elif mid == TERMINAL_RESPONSE:
                pass
            elif mid == AUTHENTICATE:
                self.start_auth(msg)
            elif mid == REGISTER:
                self.start_register(msg)
            elif mid == DEREGISTER:
                self.send(self.general(msg, RESULT_OK))
                self.authenticated = False
                gw.dedupe.forget(key)
                gw.spawn(self, self._unregister(key))
            else:
                self.send(self.general(msg, RESULT_UNSUPPORTED))
            return
        if mid == REGISTER:
            self.start_register(msg)
        elif mid == AUTHENTICATE:
            self.start_auth(msg)
        elif mid == TERMINAL_RESPONSE:
            pass
        else:
            gw.counters["unauthenticated"] += 1
            self.send(self.general(msg, RESULT_FAILURE))
            self.fail()

    # -- replies ---------------------------------------------------------------------------

    def next_serial(self) -> int:
        self.serial = (self.serial + 1) & 0xFFFF
        return self.serial

    def general(self, msg, result: int) -> bytes:
        return self.general_for(msg, msg.serial, msg.msg_id, result)

    def general_for(self, msg, serial: int, msg_id: int, result: int) -> bytes:
        r = self.responder
        if r is None or r.terminal != msg.terminal or r.version != msg.version:
            r = self.responder = GeneralResponder(msg.terminal, msg.version)
        self.serial = s = (self.serial + 1) & 0xFFFF
        return r(s, serial, msg_id, result)

    def send(self, data: bytes) -> None:
        t = self.transport
        if self.closed or t is None or t.is_closing():
            return
        t.write(data)
        if t.get_write_buffer_size() > self.gw.limits.write_buffer:
            self.gw.counters["overflow_closed"] += 1
            self.abort()

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def fail(self) -> None:
        self.failures += 1
        if self.failures >= self.gw.limits.max_auth_failures:
            self.closed = True
            self.transport.close()  # after the refusal already queued is written

    # -- registration and authentication (Django in a thread) ------------------------------

    def start_register(self, msg) -> None:
        gw = self.gw
        key = msg.terminal_key
        if gw.registry.known(key) is False:
            self._register_reply(msg, 4, None)
            return
        gw.spawn(self, self._register(msg))

    async def _register(self, msg) -> None:
        body = msg.body
        result, code = await asyncio.to_thread(
            self.gw.registry.register,
            msg.terminal_key,
            edition=msg.edition,
            maker=getattr(body, "maker", "") or "",
            model=getattr(body, "model", "") or "",
            device_id=getattr(body, "terminal_id", "") or "",
        )
        self._register_reply(msg, result, code)

    def _register_reply(self, msg, result: int, code: str | None) -> None:
        gw = self.gw
        reply = encode_message(
            REGISTER_RESPONSE,
            msg.terminal,
            self.next_serial(),
            RegisterResponse(msg.serial, result, code if result == REG_OK else None),
            version=msg.version,
        )
        self.send(reply)
        if result == REG_OK:
            gw.counters["registered"] += 1
        else:
            gw.counters["register_refused"] += 1
            self.fail()

    def start_auth(self, msg) -> None:
        gw = self.gw
        key = msg.terminal_key
        code = getattr(msg.body, "auth_code", None) or ""
        if gw.registry.check_auth(key, code) and gw.registry.vehicle_of(key):
            self._auth_reply(msg, True)
            return
        gw.spawn(self, self._authenticate(msg, code))

    async def _authenticate(self, msg, code: str) -> None:
        ok = await asyncio.to_thread(self.gw.registry.authenticate, msg.terminal_key, code)
        self._auth_reply(msg, ok)

    def _auth_reply(self, msg, ok: bool) -> None:
        gw = self.gw
        self.send(self.general(msg, RESULT_OK if ok else RESULT_FAILURE))
        if ok:
            gw.counters["auth_ok"] += 1
            key = msg.terminal_key
            old = gw.by_key.get(key)
            if old is not None and old is not self:
                old.abort()  # the same terminal on a new connection (spec §5.3)
            gw.by_key[key] = self
            self.key = key
            self.authenticated = True
            self.failures = 0
            gw.seen.add(key)
        else:
            gw.counters["auth_failed"] += 1
            self.fail()

    async def _unregister(self, key: str) -> None:
        await asyncio.to_thread(self.gw.registry.unregister, key)

    def resume(self) -> None:
        """After a thread call: handle the frames that arrived meanwhile."""
        self.busy = False
        if self.backlog and not self.closed:
            frames, self.backlog = self.backlog, []
            self.handle_frames(frames, time.monotonic())


class Gateway:
    def __init__(
        self,
        *,
        host: str = "0.0.0.0",
        port: int = 7808,
        limits: Limits | None = None,
        home: Path | None = None,
        registry: Registry | None = None,
        name: str | None = None,
        publish_live: bool = True,
    ):
        if home is None:
            from django.conf import settings

            home = settings.HOME
        self.host, self.port = host, port
        self.limits = limits or Limits()
        self.home = Path(home)
        self.name = name or f"gw-{port}"
        self.registry = registry or Registry()
        self.connections: set[Connection] = set()
        self.by_key: dict[str, Connection] = {}
        self.counters: Counter = Counter({k: 0 for k in COUNTERS})
        self.dedupe = wal.Deduper(self.limits.dedupe_recent)
        self.batch: list = []
        self.acks: list[tuple[Connection, list[bytes]]] = []
        self.seen: set[str] = set()
        self.publish_live = publish_live
        self.started = time.time()
        self.server = None
        self.wal: wal.WalWriter | None = None
        self._kick: asyncio.Event | None = None
        self._tasks: list[asyncio.Task] = []
        self._wal_pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="gw-wal")
        self._sink_pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="gw-sink")
        self._sink_backlog = 0
        self.commit_seconds: list[float] = []

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._kick = asyncio.Event()
        lim = self.limits
        self.wal = await asyncio.to_thread(
            wal.WalWriter,
            wal.wal_root(self.home),
            self.name,
            segment_bytes=lim.segment_bytes,
            segment_seconds=lim.segment_seconds,
        )
        await asyncio.to_thread(self.registry.refresh)
        live.STATE.lookup = self.registry.vehicle_of
        redis_url = os.environ.get("GUANJIA_REDIS_URL")
        if redis_url and live.STATE.redis is None:
            import redis

            live.STATE.redis = redis.Redis.from_url(redis_url)
        pipeline.register("live", live.STATE)
        live.STATE.serving = True
        if redis_url:  # scaled out: rule workers consume the streams (streams.py)
            from . import streams

            await asyncio.to_thread(streams.install, redis_url, source=self.name)
        self.server = await loop.create_server(
            lambda: Connection(self), self.host, self.port, backlog=4096, reuse_address=True
        )
        if not self.port:
            self.port = self.server.sockets[0].getsockname()[1]
        for coro in (self._committer(), self._sweeper(), self._housekeeping()):
            self._tasks.append(loop.create_task(coro))
        self.write_status()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
        for conn in list(self.connections):
            conn.abort()
        await self._commit()  # what is staged is written (not acked: the peers are gone)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._sink_pool.shutdown(wait=True)
        self._wal_pool.shutdown(wait=True)
        if self.wal is not None:
            self.wal.close()
        pipeline.unregister("live")
        live.STATE.serving = False
        pipeline.unregister("streams")
        self.write_status(state="stopped")

    def spawn(self, conn: Connection, coro) -> None:
        """Run a thread-backed step of `conn`; its frames wait meanwhile."""
        conn.busy = True

        async def run():
            try:
                await coro
            except Exception:
                log.exception("gateway: registry call failed")
                self.counters["dropped"] += 1
            finally:
                conn.resume()

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.append(task)
        task.add_done_callback(self._tasks.remove)

    # -- group commit ----------------------------------------------------------------------

    def stage(self, conn: Connection, positions: list, acks: list[bytes]) -> None:
        counters = self.counters
        counters["positions"] += len(positions)
        fresh = self.dedupe.fresh(positions)
        counters["duplicates"] += len(positions) - len(fresh)
        self.batch.extend(fresh)
        self.acks.append((conn, acks))
        if len(self.batch) >= self.limits.flush_max_positions:
            self._kick.set()

    async def _committer(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self.limits.flush_interval_s
        while True:
            started = loop.time()
            await self._commit()
            delay = interval - (loop.time() - started)
            if delay > 0 and not self._kick.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._kick.wait(), delay)
            self._kick.clear()

    async def _commit(self) -> None:
        if not self.acks and not self.batch:
            return
        batch, acks = self.batch, self.acks
        self.batch, self.acks = [], []
        loop = asyncio.get_running_loop()
        t0 = time.perf_counter()
        try:
            if batch:
                await loop.run_in_executor(self._wal_pool, self.wal.write, batch)
        except Exception:
            # Not durable, so not acknowledged: the terminals send these again.
            log.exception("gateway: write-ahead segment failed for %d positions", len(batch))
            self.counters["wal_errors"] += 1
            return
        self.counters["commits"] += 1
        self.counters["stored"] += len(batch)
        n = 0
        # one write per connection and commit (a connection staging several reports in
        # one commit gets its acks joined, in order)
        pending: dict[Connection, list[bytes]] = {}
        for conn, datas in acks:
            if not conn.closed:
                got = pending.get(conn)
                if got is None:
                    pending[conn] = datas
                else:
                    got += datas
                n += len(datas)
        for conn, datas in pending.items():
            conn.send(datas[0] if len(datas) == 1 else b"".join(datas))
        self.counters["acks"] += n
        spent = time.perf_counter() - t0
        if len(self.commit_seconds) < 10000:
            self.commit_seconds.append(spent)
        if batch:
            self._sink_backlog += 1
            self._sink_pool.submit(self._deliver, batch)

    def _deliver(self, batch: list) -> None:
        try:
            pipeline.deliver(batch)
        finally:
            self._sink_backlog -= 1

    # -- periodic work ---------------------------------------------------------------------

    async def _sweeper(self) -> None:
        lim = self.limits
        every = max(0.2, min(2.0, lim.partial_frame_s / 4, lim.idle_timeout_s / 4))
        while True:
            await asyncio.sleep(every)
            now = time.monotonic()
            idle, partial = now - lim.idle_timeout_s, now - lim.partial_frame_s
            for conn in list(self.connections):
                if conn.last_frame < idle:
                    self.counters["idle_closed"] += 1
                    conn.abort()
                elif conn.partial_since and conn.partial_since < partial:
                    self.counters["slow_closed"] += 1
                    conn.abort()
                elif conn.parts is not None and len(conn.parts):
                    conn.parts.expire()
            self.wal.tick()

    async def _housekeeping(self) -> None:
        lim = self.limits
        next_refresh = time.monotonic() + lim.registry_refresh_s
        next_touch = time.monotonic() + 60
        while True:
            await asyncio.sleep(lim.status_every_s)
            try:
                self.write_status()
                if self.publish_live:
                    path = live.live_root(self.home) / f"{self.name}.bin"
                    await asyncio.to_thread(live.STATE.publish, path)
                now = time.monotonic()
                if now >= next_refresh:
                    next_refresh = now + lim.registry_refresh_s
                    await asyncio.to_thread(self.registry.refresh)
                if now >= next_touch and self.seen:
                    next_touch = now + 60
                    keys, self.seen = list(self.seen), set()
                    await asyncio.to_thread(self.registry.touch, keys)
            except Exception:
                log.exception("gateway housekeeping failed")

    # -- status ----------------------------------------------------------------------------

    def status(self, state: str = "running") -> dict:
        commits = sorted(self.commit_seconds[-2000:])
        p99 = commits[int(len(commits) * 0.99)] if commits else None
        return {
            "state": state,
            "pid": os.getpid(),
            "host": self.host,
            "port": self.port,
            "name": self.name,
            "started": self.started,
            "updated": time.time(),
            "connections": len(self.connections),
            "authenticated": len(self.by_key),
            "register_size": len(self.registry.vehicles),
            "sink_backlog": self._sink_backlog,
            "sink_failures": dict(pipeline.failures),
            "commit_p99_ms": None if p99 is None else round(p99 * 1000, 2),
            "counters": dict(self.counters),
        }

    def write_status(self, state: str = "running") -> None:
        path = status_path(self.home, self.port)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(self.status(state)))
        os.replace(tmp, path)


def new_event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def serve(gateway: Gateway, *, ready=None) -> None:
    """Run `gateway` until SIGTERM/SIGINT (blocking)."""

    async def main():
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        await gateway.start()
        if ready is not None:
            ready(gateway)
        await stop.wait()
        await gateway.stop()

    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(main())
