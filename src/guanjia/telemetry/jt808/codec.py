"""JT/T 808 message header (2011/2013 and 2019) and the symmetric frame codec.

Header (2013 表 2; 2019 per the implementations in ../shared/reference/jt808.md §1.3)::

    WORD msg id | WORD body properties | [BYTE version, 2019] | BCD[6] / BCD[10] terminal
    | WORD serial | [WORD package total | WORD package index, when bit 13]

Body properties: bits 0–9 body length, 10–12 encryption, 13 sub-package, 14 the 2019
version flag. A frame whose 2019 reading leaves the wrong number of body bytes but whose
2013 reading is consistent is read as 2013 (terminals that set bit 14 by mistake, F13).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from .bodies import PLATFORM_RESPONSE, decode_body, encode_body
from .framing import FrameError, checksum, escape, unescape

_HDR = struct.Struct(">HH")
_HDR13 = struct.Struct(">HH6sH")
_HDR19 = struct.Struct(">HHB10sH")
_PKG = struct.Struct(">HH")

BODY_MAX = 0x3FF
FLAG_SUBPACKAGE = 0x2000
FLAG_VERSION = 0x4000


@dataclass(slots=True)
class Message:
    """One decoded (or to-be-encoded) JT/T 808 message.

    `terminal` is the BCD terminal number as sent (12 digits in 2011/2013, 20 in 2019);
    `terminal_key` strips the leading zeros (what Vehicle.terminal_key stores). `version`
    is None for the 2011/2013 header and the protocol-version byte (1) for 2019.
    `packages` is ``(total, index)`` for a sub-package, whose `body` is then the raw piece
    (see `Reassembler`); encrypted bodies also stay raw bytes.
    """

    msg_id: int
    terminal: str
    serial: int
    body: Any = b""
    version: int | None = None
    encryption: int = 0
    packages: tuple[int, int] | None = None

    @property
    def terminal_key(self) -> str:
        return self.terminal.lstrip("0") or "0"

    @property
    def edition(self) -> int:
        return 2013 if self.version is None else 2019


def _parse_header(p: bytes, props: int, v2019: bool) -> tuple[int, int | None, str, int, Any]:
    """(header length, version, terminal hex, serial, packages)."""
    if v2019:
        if len(p) < 18:
            raise FrameError("frame shorter than a 2019 header")
        _, _, version, term, serial = _HDR19.unpack_from(p, 0)
        hlen = 17
    else:
        _, _, term, serial = _HDR13.unpack_from(p, 0)
        version = None
        hlen = 12
    packages = None
    if props & FLAG_SUBPACKAGE:
        if len(p) < hlen + 5:
            raise FrameError("frame shorter than its sub-package header")
        packages = _PKG.unpack_from(p, hlen)
        hlen += 4
    return hlen, version, term.hex(), serial, packages


def decode_frame(payload: bytes, *, strict: bool = True, check: bool = True) -> Message:
    """Decode one **unescaped** frame (header, body, check code; no 0x7e) — what
    `FrameSplitter.feed` returns. Raises FrameError on anything malformed and nothing else.

    With ``strict=False`` a wrong check code or a body length that disagrees with the
    header (both seen in real devices, F16) are tolerated: the body is then whatever lies
    between the header and the check byte. ``check=False`` skips the check code only (the
    caller has verified it already).
    """
    n = len(payload)
    if n < 13:
        raise FrameError(f"frame of {n} bytes is shorter than a header")
    if strict and check and checksum(payload[:-1]) != payload[-1]:
        raise FrameError("bad check code")
    msg_id, props = _HDR.unpack_from(payload, 0)
    blen = props & BODY_MAX
    v2019 = bool(props & FLAG_VERSION)
    hlen, version, term, serial, packages = _parse_header(payload, props, v2019)
    end = n - 1
    if hlen + blen != end:
        if v2019:
            alt = 12 + (4 if props & FLAG_SUBPACKAGE else 0)
            if alt + blen == end:  # 2013 frame with bit 14 set by mistake (F13)
                hlen, version, term, serial, packages = _parse_header(payload, props, False)
            elif strict:
                raise FrameError(f"body length {blen} disagrees with the frame ({end - hlen})")
        elif strict:
            raise FrameError(f"body length {blen} disagrees with the frame ({end - hlen})")
        if hlen > end:
            raise FrameError("frame shorter than its header")
    if strict and not term.isdigit():
        raise FrameError(f"terminal number is not BCD: {term}")
    body = payload[hlen:end]
    encryption = (props >> 10) & 0x7
    if packages is None and not encryption:
        body = decode_body(msg_id, body, version)
    return Message(msg_id, term, serial, body, version, encryption, packages)


def decode_wire(wire: bytes, *, strict: bool = True) -> Message:
    """Decode one wire frame ``7e … 7e`` (escaped)."""
    if len(wire) < 2 or wire[0] != 0x7E or wire[-1] != 0x7E:
        raise FrameError("not delimited by 0x7e")
    return decode_frame(unescape(bytes(wire[1:-1])), strict=strict)


def _terminal_bcd(terminal: str, width: int) -> bytes:
    t = str(terminal)
    if not t.isdigit() or len(t) > width * 2:
        raise ValueError(f"terminal number must be up to {width * 2} digits: {terminal!r}")
    return bytes.fromhex(t.rjust(width * 2, "0"))


def encode_payload(
    msg_id: int,
    terminal: str,
    serial: int,
    body: Any = b"",
    *,
    version: int | None = None,
    encryption: int = 0,
    packages: tuple[int, int] | None = None,
) -> bytes:
    """Header + body + check code, unescaped (what `decode_frame` reads)."""
    raw = encode_body(msg_id, body, version) if packages is None and not encryption else body
    raw = bytes(raw)
    if len(raw) > BODY_MAX:
        raise ValueError(f"body of {len(raw)} bytes exceeds {BODY_MAX}: use split_message")
    props = len(raw) | (encryption & 0x7) << 10
    if packages is not None:
        props |= FLAG_SUBPACKAGE
    if version is not None:
        props |= FLAG_VERSION
        head = struct.pack(">HHB", msg_id, props, version) + _terminal_bcd(terminal, 10)
    else:
        head = _HDR.pack(msg_id, props) + _terminal_bcd(terminal, 6)
    head += serial.to_bytes(2, "big")
    if packages is not None:
        head += _PKG.pack(*packages)
    data = head + raw
    return data + bytes((checksum(data),))


def encode_message(
    msg_id: int,
    terminal: str,
    serial: int,
    body: Any = b"",
    *,
    version: int | None = None,
    encryption: int = 0,
    packages: tuple[int, int] | None = None,
) -> bytes:
    """Wire bytes (escaped, framed with 0x7e, check code) of one message. `body` is a body
    object from `bodies` (GeneralResponse, Register, Location, …) or raw bytes."""
    payload = encode_payload(
        msg_id, terminal, serial, body, version=version, encryption=encryption, packages=packages
    )
    return b"\x7e" + escape(payload) + b"\x7e"


def encode(msg: Message) -> bytes:
    """`encode_message` for a Message: ``decode_wire(encode(m)) == m``."""
    return encode_message(
        msg.msg_id,
        msg.terminal,
        msg.serial,
        msg.body,
        version=msg.version,
        encryption=msg.encryption,
        packages=msg.packages,
    )


def split_message(
    msg_id: int,
    terminal: str,
    first_serial: int,
    body: Any,
    *,
    version: int | None = None,
    max_body: int = BODY_MAX,
) -> list[bytes]:
    """Wire frames of a message split into sub-packages of at most `max_body` bytes
    (serials `first_serial`, +1, …; JT/T 808-2013 §7.12)."""
    raw = encode_body(msg_id, body, version)
    if not 1 <= max_body <= BODY_MAX:
        raise ValueError("max_body must be 1..1023")
    pieces = [raw[i : i + max_body] for i in range(0, len(raw), max_body)] or [b""]
    total = len(pieces)
    if total > 0xFFFF:
        raise ValueError("too many sub-packages")
    return [
        encode_message(
            msg_id,
            terminal,
            (first_serial + k) & 0xFFFF,
            piece,
            version=version,
            packages=(total, k + 1),
        )
        for k, piece in enumerate(pieces)
    ]


_ACK_VAR = struct.Struct(">HHHBB")
_ESC_B = b"\x7d"
_FLAG_B = b"\x7e"


class GeneralResponder:
    """Fast wire bytes of 0x8001 platform general responses to one terminal: byte for byte
    what ``encode_message(PLATFORM_RESPONSE, terminal, serial, GeneralResponse(ack_serial,
    ack_id, result), version=version)`` gives.

    The header up to the serial (message id, body properties, version, BCD terminal) is
    constant per terminal and edition: it is escaped once and its XOR check precomputed
    here; each call packs only the 8 variable bytes (serial, acknowledged serial and id,
    result, check code) and escapes them only when they hold a 0x7d or 0x7e.
    """

    __slots__ = ("_head", "_xor", "terminal", "version")

    def __init__(self, terminal: str, version: int | None = None) -> None:
        self.terminal = terminal
        self.version = version
        if version is not None:
            const = struct.pack(">HHB", PLATFORM_RESPONSE, 5 | FLAG_VERSION, version)
            const += _terminal_bcd(terminal, 10)
        else:
            const = _HDR.pack(PLATFORM_RESPONSE, 5) + _terminal_bcd(terminal, 6)
        self._head = b"\x7e" + escape(const)
        self._xor = checksum(const)

    def __call__(self, serial: int, ack_serial: int, ack_id: int, result: int) -> bytes:
        x = serial ^ ack_serial ^ ack_id
        var = _ACK_VAR.pack(
            serial, ack_serial, ack_id, result, self._xor ^ (x >> 8) ^ (x & 0xFF) ^ result
        )
        if _ESC_B in var or _FLAG_B in var:
            var = escape(var)
        return self._head + var + b"\x7e"


def encode_general_response(
    terminal: str,
    serial: int,
    ack_serial: int,
    ack_id: int,
    result: int = 0,
    *,
    version: int | None = None,
) -> bytes:
    """One 0x8001 (see `GeneralResponder`; keep a responder per connection in hot paths)."""
    return GeneralResponder(terminal, version)(serial, ack_serial, ack_id, result)
