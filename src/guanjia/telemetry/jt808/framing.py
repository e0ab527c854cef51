"""JT/T 808 framing: 0x7e delimiters, 0x7d escaping, the XOR check code, and a bounded
incremental splitter for a TCP stream (JT/T 808-2013 §4.4).

On the wire a frame is ``7e <escaped header+body+check> 7e``; inside, 0x7e is sent as
``7d 02`` and 0x7d as ``7d 01``. The check code is the XOR of every byte from the header
up to the byte before it, taken on the unescaped bytes.

Pure Python, no Django: the gateway, the simulator and the fuzz bench all import this.
"""

from __future__ import annotations

FLAG = 0x7E
ESC = 0x7D
_FLAG_B = b"\x7e"
_ESC_B = b"\x7d"
_ESC_ESC = b"\x7d\x01"
_ESC_FLAG = b"\x7d\x02"

#: Shortest unescaped frame: a 12-byte 2013 header and the check byte.
MIN_FRAME = 13
#: Longest sensible unescaped frame: a 21-byte 2019 sub-package header, 1023 body bytes,
#: the check byte. Escaping can double it on the wire.
MAX_UNESCAPED = 21 + 1023 + 1


class FrameError(ValueError):
    """Anything malformed: bad escape, bad check code, truncated or inconsistent header or
    body. The one exception the codec raises on untrusted input; count it and drop the frame."""


class FrameTooLarge(FrameError):
    """The stream held more than `max_frame` bytes without a closing 0x7e: drop the
    connection, the peer is not speaking JT/T 808 (or is hostile)."""


def checksum(data: bytes | bytearray | memoryview) -> int:
    """XOR of all bytes (the JT/T 808 check code), folding the bytes as one big integer:
    about as fast as a byte loop for a 0x0200 and much faster for long frames."""
    v = int.from_bytes(data, "little")
    w = len(data)
    while w > 1:
        h = (w + 1) >> 1
        v = (v & ((1 << (h << 3)) - 1)) ^ (v >> (h << 3))
        w = h
    return v


def escape(payload: bytes) -> bytes:
    """Escape 0x7d first, then 0x7e, so escape bytes are not escaped again."""
    if _ESC_B in payload:
        payload = payload.replace(_ESC_B, _ESC_ESC)
    if _FLAG_B in payload:
        payload = payload.replace(_FLAG_B, _ESC_FLAG)
    return payload


def unescape(data: bytes) -> bytes:
    """Undo `escape`. Raises FrameError on a 0x7d not followed by 0x01 or 0x02, or on a
    raw 0x7e inside the frame."""
    if _FLAG_B in data:
        raise FrameError("0x7e inside a frame")
    if _ESC_B not in data:
        return data
    n = data.count(_ESC_B)
    n2 = data.count(_ESC_FLAG)
    if n != data.count(_ESC_ESC) + n2:
        raise FrameError("bad escape sequence")
    if n2:
        # 7d02 first: after it every remaining 7d is the start of a 7d01 token.
        data = data.replace(_ESC_FLAG, _FLAG_B)
    return data.replace(_ESC_ESC, _ESC_B)


def frame(payload: bytes) -> bytes:
    """Wire bytes for an unescaped payload that already ends with its check code."""
    return b"\x7e" + escape(payload) + b"\x7e"


def unframe(wire: bytes) -> bytes:
    """The unescaped payload (header, body, check) of one wire frame ``7e … 7e``."""
    if len(wire) < 2 or wire[0] != FLAG or wire[-1] != FLAG:
        raise FrameError("not delimited by 0x7e")
    return unescape(bytes(wire[1:-1]))


class FrameSplitter:
    """Cut a TCP byte stream into frames, incrementally and with bounded memory.

    ``feed(data)`` returns the complete frames found so far, each **unescaped** (header,
    body and check code, without the 0x7e delimiters), ready for `decode_frame`. Every 0x7e
    is a boundary, so both ``7e A 7e 7e B 7e`` and the shared-delimiter ``7e A 7e B 7e``
    work. Bytes before the first 0x7e (the tail of a frame we joined late, a port scanner's
    ``GET /``) are discarded; candidates too short to be a frame or with a bad escape are
    dropped and counted in `dropped` (the check code and header are for the decoder).

    Raises `FrameTooLarge` when more than `max_frame` escaped bytes arrive without a
    closing 0x7e: the gateway should then drop the connection. The buffer never holds
    more than `max_frame` plus one read.
    """

    __slots__ = ("_buf", "_synced", "dropped", "frames", "max_frame")

    def __init__(self, max_frame: int = 2 * MAX_UNESCAPED) -> None:
        self.max_frame = max_frame
        self._buf = bytearray()
        self._synced = False
        self.dropped = 0  # candidates discarded (too short, bad escape)
        self.frames = 0  # frames returned

    @property
    def pending(self) -> int:
        """Bytes buffered for an unfinished frame."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes]:
        if not self._synced:
            i = data.find(_FLAG_B)
            if i < 0:
                return []
            data = data[i + 1 :]
            self._synced = True
        buf = self._buf
        buf += data
        out: list[bytes] = []
        find = buf.find
        start = 0
        limit = self.max_frame
        while True:
            j = find(_FLAG_B, start)
            if j < 0:
                break
            size = j - start
            if size > limit:
                self._reset()
                raise FrameTooLarge(f"frame of {size} bytes exceeds {limit}")
            if size:
                chunk = bytes(buf[start:j])
                if _ESC_B in chunk:
                    try:
                        chunk = unescape(chunk)
                    except FrameError:
                        self.dropped += 1
                        start = j + 1
                        continue
                if len(chunk) < MIN_FRAME:
                    self.dropped += 1
                else:
                    out.append(chunk)
            start = j + 1
        if start:
            del buf[:start]
        if len(buf) > limit:
            self._reset()
            raise FrameTooLarge(f"more than {limit} bytes without a closing 0x7e")
        self.frames += len(out)
        return out

    def _reset(self) -> None:
        self._buf.clear()
        self._synced = False
