"""Reassembly of sub-packaged messages (JT/T 808-2013 §7.12), bounded.

Pieces are keyed by (terminal, message id, package total) — never by serial number, which
real terminals do not keep consecutive (F14). The gateway holds one `Reassembler` per
connection; every limit is enforced before memory is spent.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable

from .bodies import decode_body
from .codec import Message
from .framing import FrameError


class _Pending:
    __slots__ = ("first_seen", "pieces", "serial", "size", "version")

    def __init__(self, now: float, version: int | None, serial: int) -> None:
        self.first_seen = now
        self.pieces: dict[int, bytes] = {}
        self.size = 0
        self.version = version
        self.serial = serial


class Reassembler:
    """Collect sub-packages until a message is complete.

    ``add(msg)`` takes a decoded sub-package (`msg.packages` set) and returns the complete
    Message (body decoded, `packages` None, serial of piece 1 when seen) or None while
    pieces are missing. Limits: `max_packages` per message, `max_bytes` per message,
    `max_pending` messages in flight (the oldest is evicted), `timeout` seconds from the
    first piece. Violations raise FrameError (count and drop); `evicted` counts messages
    given up.
    """

    def __init__(
        self,
        *,
        max_packages: int = 128,
        max_bytes: int = 128 * 1024,
        max_pending: int = 8,
        timeout: float = 300.0,
        clock: Callable[[], float] = _time.monotonic,
    ) -> None:
        self.max_packages = max_packages
        self.max_bytes = max_bytes
        self.max_pending = max_pending
        self.timeout = timeout
        self.clock = clock
        self._pending: dict[tuple[str, int, int], _Pending] = {}
        self.evicted = 0

    def __len__(self) -> int:
        return len(self._pending)

    def expire(self, now: float | None = None) -> int:
        """Drop messages whose first piece is older than `timeout`; returns how many."""
        now = self.clock() if now is None else now
        old = [k for k, p in self._pending.items() if now - p.first_seen > self.timeout]
        for k in old:
            del self._pending[k]
        self.evicted += len(old)
        return len(old)

    def add(self, msg: Message, now: float | None = None) -> Message | None:
        if msg.packages is None:
            return msg
        total, index = msg.packages
        if not 1 <= index <= total:
            raise FrameError(f"sub-package {index} of {total}")
        if total > self.max_packages:
            raise FrameError(f"{total} sub-packages exceed {self.max_packages}")
        piece = bytes(msg.body)
        now = self.clock() if now is None else now
        self.expire(now)
        key = (msg.terminal, msg.msg_id, total)
        p = self._pending.get(key)
        if p is None:
            if total == 1:
                return self._complete(msg, {1: piece}, msg.version, msg.serial)
            while len(self._pending) >= self.max_pending:
                del self._pending[next(iter(self._pending))]
                self.evicted += 1
            p = self._pending[key] = _Pending(now, msg.version, msg.serial)
        old = p.pieces.get(index)
        size = p.size - (len(old) if old is not None else 0) + len(piece)
        if size > self.max_bytes:
            del self._pending[key]
            self.evicted += 1
            raise FrameError(f"sub-packaged message exceeds {self.max_bytes} bytes")
        p.pieces[index] = piece  # a re-sent piece replaces the earlier copy
        p.size = size
        if index == 1:
            p.serial = msg.serial
        if len(p.pieces) < total:
            return None
        del self._pending[key]
        return self._complete(msg, p.pieces, p.version, p.serial)

    @staticmethod
    def _complete(
        msg: Message, pieces: dict[int, bytes], version: int | None, serial: int
    ) -> Message:
        raw = b"".join(pieces[i] for i in range(1, len(pieces) + 1))
        body = raw if msg.encryption else decode_body(msg.msg_id, raw, version)
        return Message(msg.msg_id, msg.terminal, serial, body, version, msg.encryption, None)
