"""Message bodies of JT/T 808 (2013 and 2019 editions) and their encoders/decoders.

Every body type is a NamedTuple (cheap to build, compares by value, so encode→decode is
checked with ``==``). Numeric fields keep the wire units (0.1 km/h, 1e-6 degrees, 0.1 km)
so the round trip is exact; properties give the physical values. Decoders take the body
bytes and the header's protocol version (None for 2011/2013) and raise `FrameError` on
anything malformed; `decode_body` turns any stray struct/index/unicode error into one.

Field layouts follow the 2013 spec tables (表 4–9, 23–27, 76–77) and, for the 2019
widths, the implementations cited in ../shared/reference/jt808.md §1.5.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any, NamedTuple

from .framing import FrameError

# Message ids ---------------------------------------------------------------------------
TERMINAL_RESPONSE = 0x0001
HEARTBEAT = 0x0002
DEREGISTER = 0x0003
REGISTER = 0x0100
AUTHENTICATE = 0x0102
LOCATION = 0x0200
LOCATION_BATCH = 0x0704
PLATFORM_RESPONSE = 0x8001
REGISTER_RESPONSE = 0x8100

# Result codes of 0x8001 / 0x0001 (表 4/5) and 0x8100 (表 8).
RESULT_OK = 0
RESULT_FAILURE = 1
RESULT_BAD_MESSAGE = 2
RESULT_UNSUPPORTED = 3
RESULT_ALARM_CONFIRMED = 4
REGISTER_OK = 0
REGISTER_VEHICLE_TAKEN = 1
REGISTER_NO_VEHICLE = 2
REGISTER_TERMINAL_TAKEN = 3
REGISTER_NO_TERMINAL = 4

# Status bits of 0x0200 (表 25).
STATUS_ACC = 0x1
STATUS_FIXED = 0x2
STATUS_SOUTH = 0x4
STATUS_WEST = 0x8

# Alarm bits (表 24) the rules and simulator use.
ALARM_EMERGENCY = 1 << 0
ALARM_OVERSPEED = 1 << 1

BATCH_NORMAL = 0
BATCH_BLIND = 1

_HHB = struct.Struct(">HHB")
_HB = struct.Struct(">HB")
_HH = struct.Struct(">HH")
_BASIC = struct.Struct(">IIIIHHH6s")
_ITEM_LEN = struct.Struct(">H")
_U32 = struct.Struct(">I")
_U16 = struct.Struct(">H")

_CHINA_OFFSET = 8 * 3600


def _text(raw: bytes) -> str:
    """A STRING / NUL-padded BYTE[n] field: GBK, NULs removed at both ends (yezhihao pads
    2019 fields on the left, F4)."""
    try:
        return raw.strip(b"\x00").decode("gbk")
    except UnicodeDecodeError as e:
        raise FrameError(f"text field is not GBK: {raw[:16]!r}") from e


def _padded(text: str, width: int, field: str) -> bytes:
    raw = text.encode("gbk")
    if len(raw) > width:
        raise ValueError(f"{field} longer than {width} bytes: {text!r}")
    return raw.ljust(width, b"\x00")


# 0x0001 / 0x8001 ------------------------------------------------------------------------
class GeneralResponse(NamedTuple):
    """0x0001 terminal general response and 0x8001 platform general response (表 4/5)."""

    ack_serial: int
    ack_id: int
    result: int = RESULT_OK


def _dec_general(body: bytes, version: int | None) -> GeneralResponse:
    if len(body) != 5:
        raise FrameError(f"general response of {len(body)} bytes, expected 5")
    return GeneralResponse(*_HHB.unpack(body))


def _enc_general(b: GeneralResponse, version: int | None) -> bytes:
    return _HHB.pack(b.ack_serial, b.ack_id, b.result)


# 0x0100 ---------------------------------------------------------------------------------
class Register(NamedTuple):
    """0x0100 terminal registration (表 7). Field widths by edition: maker 5/5/11, model
    8/20/30, terminal id 7/7/30 bytes (2011/2013/2019). `plate` is the plate number, or the
    VIN when `plate_color` is 0."""

    province: int
    city: int
    maker: str
    model: str
    terminal_id: str
    plate_color: int
    plate: str


_REG_WIDTHS = {2011: (5, 8, 7), 2013: (5, 20, 7), 2019: (11, 30, 30)}


def _dec_register(body: bytes, version: int | None) -> Register:
    if version is not None:
        edition = 2019
    else:
        # A 2011 body has a 25-byte fixed part, 2013 a 37-byte one (yezhihao T0100).
        edition = 2013 if len(body) >= 37 else 2011
    wm, wt, wi = _REG_WIDTHS[edition]
    fixed = 4 + wm + wt + wi + 1
    if len(body) < fixed:
        raise FrameError(f"registration of {len(body)} bytes, expected at least {fixed}")
    province, city = _HH.unpack_from(body, 0)
    i = 4
    maker = _text(body[i : i + wm])
    i += wm
    model = _text(body[i : i + wt])
    i += wt
    tid = _text(body[i : i + wi])
    i += wi
    return Register(province, city, maker, model, tid, body[i], _text(body[i + 1 :]))


def _enc_register(b: Register, version: int | None) -> bytes:
    wm, wt, wi = _REG_WIDTHS[2019 if version is not None else 2013]
    return b"".join(
        (
            _HH.pack(b.province, b.city),
            _padded(b.maker, wm, "maker"),
            _padded(b.model, wt, "model"),
            _padded(b.terminal_id, wi, "terminal_id"),
            bytes((b.plate_color,)),
            b.plate.encode("gbk"),
        )
    )


# 0x8100 ---------------------------------------------------------------------------------
class RegisterResponse(NamedTuple):
    """0x8100 registration response (表 8): the auth code is present only on success."""

    ack_serial: int
    result: int
    auth_code: str | None = None


def _dec_register_response(body: bytes, version: int | None) -> RegisterResponse:
    if len(body) < 3:
        raise FrameError("registration response shorter than 3 bytes")
    serial, result = _HB.unpack_from(body, 0)
    code = _text(body[3:]) if result == REGISTER_OK else None
    return RegisterResponse(serial, result, code)


def _enc_register_response(b: RegisterResponse, version: int | None) -> bytes:
    head = _HB.pack(b.ack_serial, b.result)
    if b.result == REGISTER_OK:
        return head + (b.auth_code or "").encode("gbk")
    return head


# 0x0102 ---------------------------------------------------------------------------------
class Authentication(NamedTuple):
    """0x0102 terminal authentication. 2013: the auth code fills the body (表 9). 2019:
    code length (BYTE), code, IMEI (BYTE[15]), software version (BYTE[20], NUL-padded)."""

    auth_code: str
    imei: str | None = None
    software_version: str | None = None


def _dec_auth(body: bytes, version: int | None) -> Authentication:
    if version is not None and body and len(body) == 1 + body[0] + 35:
        n = body[0]
        return Authentication(
            _text(body[1 : 1 + n]), _text(body[1 + n : 16 + n]), _text(body[16 + n :])
        )
    # 2013 layout (also what mis-flagged 2019 terminals send, F13).
    return Authentication(_text(body))


def _enc_auth(b: Authentication, version: int | None) -> bytes:
    code = b.auth_code.encode("gbk")
    if version is None:
        return code
    if len(code) > 255:
        raise ValueError("auth code longer than 255 bytes")
    return b"".join(
        (
            bytes((len(code),)),
            code,
            _padded(b.imei or "", 15, "imei"),
            _padded(b.software_version or "", 20, "software_version"),
        )
    )


# 0x0200 ---------------------------------------------------------------------------------
class Location(NamedTuple):
    """0x0200 location report (表 23) with its additional items (表 26/27).

    `time` is the GNSS time as UTC epoch seconds (the wire carries BCD YYMMDDhhmmss in
    GMT+8), or None when the terminal sent all zeros (no fix yet). Known items with their
    standard length land in their fields; every other item (vendor ids, a second copy of a
    known id, a known id with an odd length) stays in `extras` as ``(id, value)`` in wire
    order, and bytes after a truncated item stay in `trailer`: nothing is lost, nothing
    crashes.
    """

    alarm: int
    status: int
    lat_e6: int  # unsigned 1e-6 degrees; south when STATUS_SOUTH
    lon_e6: int  # unsigned 1e-6 degrees; west when STATUS_WEST
    altitude: int  # metres
    speed: int  # 0.1 km/h
    direction: int  # degrees, 0 = north
    time: int | None
    mileage: int | None = None  # item 0x01, 0.1 km
    fuel: int | None = None  # item 0x02, 0.1 L
    recorder_speed: int | None = None  # item 0x03, 0.1 km/h
    ext_signal: int | None = None  # item 0x25, extended vehicle signal bits
    signal: int | None = None  # item 0x30, wireless signal strength
    satellites: int | None = None  # item 0x31, GNSS satellites
    extras: tuple[tuple[int, bytes], ...] = ()
    trailer: bytes = b""

    @property
    def lat(self) -> float:
        return -self.lat_e6 / 1e6 if self.status & STATUS_SOUTH else self.lat_e6 / 1e6

    @property
    def lon(self) -> float:
        return -self.lon_e6 / 1e6 if self.status & STATUS_WEST else self.lon_e6 / 1e6

    @property
    def speed_kmh(self) -> float:
        return self.speed / 10

    @property
    def mileage_km(self) -> float | None:
        return None if self.mileage is None else self.mileage / 10

    @property
    def fuel_l(self) -> float | None:
        return None if self.fuel is None else self.fuel / 10

    @property
    def acc_on(self) -> bool:
        return bool(self.status & STATUS_ACC)


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


_MDAYS = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_day_cache: dict[str, int] = {}


def _day_seconds(ymd: str) -> int:
    """Epoch seconds at local midnight (as if UTC) of a 'YYMMDD' BCD date; cached."""
    v = _day_cache.get(ymd)
    if v is None:
        y, m, d = 2000 + int(ymd[0:2]), int(ymd[2:4]), int(ymd[4:6])
        if not (1 <= m <= 12 and 1 <= d <= _MDAYS[m]) or (
            m == 2 and d == 29 and not (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0))
        ):
            raise FrameError(f"bad BCD date {ymd}")
        v = _days_from_civil(y, m, d) * 86400
        if len(_day_cache) > 4096:
            _day_cache.clear()
        _day_cache[ymd] = v
    return v


def bcd_time_to_epoch(raw: bytes) -> int | None:
    """BCD[6] YYMMDDhhmmss in GMT+8 → UTC epoch seconds; all zeros → None."""
    h = raw.hex()
    if not h.isdigit():
        raise FrameError(f"time is not BCD: {h}")
    if h == "000000000000":
        return None
    hh, mi, ss = int(h[6:8]), int(h[8:10]), int(h[10:12])
    if hh > 23 or mi > 59 or ss > 59:
        raise FrameError(f"bad BCD time {h}")
    return _day_seconds(h[0:6]) + hh * 3600 + mi * 60 + ss - _CHINA_OFFSET


def epoch_to_bcd_time(t: int | None) -> bytes:
    """UTC epoch seconds → BCD[6] in GMT+8 (years 2000–2099); None → all zeros."""
    if t is None:
        return bytes(6)
    t = int(t) + _CHINA_OFFSET
    days, secs = divmod(t, 86400)
    # civil_from_days (H. Hinnant)
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    y = yoe + era * 400 + (m <= 2)
    if not 2000 <= y <= 2099:
        raise ValueError(f"time {t - _CHINA_OFFSET} outside 2000–2099")
    s = f"{y - 2000:02d}{m:02d}{d:02d}{secs // 3600:02d}{secs % 3600 // 60:02d}{secs % 60:02d}"
    return bytes.fromhex(s)


# Known additional items: id → (field index in Location, length).
_ITEMS = {0x01: (8, 4), 0x02: (9, 2), 0x03: (10, 2), 0x25: (11, 4), 0x30: (12, 1), 0x31: (13, 1)}
_ITEM_ORDER = sorted(_ITEMS.items(), key=lambda kv: kv[1][0])
_from_bytes = int.from_bytes


def _dec_location(body: bytes, version: int | None = None) -> Location:
    n = len(body)
    if n < 28:
        raise FrameError(f"location of {n} bytes, expected at least 28")
    alarm, status, lat, lon, alt, speed, direction, t = _BASIC.unpack_from(body, 0)
    time = bcd_time_to_epoch(t)
    if n == 28:
        return Location(alarm, status, lat, lon, alt, speed, direction, time)
    fields: list[Any] = [None] * 6
    extras: list[tuple[int, bytes]] = []
    trailer = b""
    i = 28
    items = _ITEMS
    while i < n:
        if i + 2 > n:
            trailer = body[i:]
            break
        iid = body[i]
        ln = body[i + 1]
        j = i + 2 + ln
        if j > n:
            trailer = body[i:]
            break
        known = items.get(iid)
        if known is not None and known[1] == ln and fields[known[0] - 8] is None:
            fields[known[0] - 8] = _from_bytes(body[i + 2 : j], "big")
        else:
            extras.append((iid, body[i + 2 : j]))
        i = j
    return Location(
        alarm,
        status,
        lat,
        lon,
        alt,
        speed,
        direction,
        time,
        fields[0],
        fields[1],
        fields[2],
        fields[3],
        fields[4],
        fields[5],
        tuple(extras),
        trailer,
    )


def _enc_location(b: Location, version: int | None = None) -> bytes:
    parts = [
        _BASIC.pack(
            b.alarm,
            b.status,
            b.lat_e6,
            b.lon_e6,
            b.altitude,
            b.speed,
            b.direction,
            epoch_to_bcd_time(b.time),
        )
    ]
    for iid, (idx, ln) in _ITEM_ORDER:
        v = b[idx]
        if v is not None:
            parts.append(bytes((iid, ln)) + int(v).to_bytes(ln, "big"))
    for iid, value in b.extras:
        if len(value) > 255:
            raise ValueError(f"additional item 0x{iid:02x} longer than 255 bytes")
        parts.append(bytes((iid, len(value))) + value)
    parts.append(b.trailer)
    return b"".join(parts)


# 0x0704 ---------------------------------------------------------------------------------
class LocationBatch(NamedTuple):
    """0x0704 batch upload (表 76/77): `kind` 0 = normal batch, 1 = blind-area back-fill."""

    kind: int
    items: tuple[Location, ...]


def _dec_batch(body: bytes, version: int | None) -> LocationBatch:
    n = len(body)
    if n < 3:
        raise FrameError("batch shorter than 3 bytes")
    count, kind = _HB.unpack_from(body, 0)
    items = []
    i = 3
    for _ in range(count):
        if i + 2 > n:
            raise FrameError("batch truncated before an item length")
        (ln,) = _ITEM_LEN.unpack_from(body, i)
        j = i + 2 + ln
        if j > n:
            raise FrameError("batch item longer than the body")
        items.append(_dec_location(body[i + 2 : j]))
        i = j
    if i != n:
        raise FrameError(f"{n - i} bytes after the last batch item")
    return LocationBatch(kind, tuple(items))


def _enc_batch(b: LocationBatch, version: int | None) -> bytes:
    parts = [_HB.pack(len(b.items), b.kind)]
    for item in b.items:
        raw = _enc_location(item)
        parts.append(_ITEM_LEN.pack(len(raw)) + raw)
    return b"".join(parts)


# Registry -------------------------------------------------------------------------------
Decoder = Callable[[bytes, "int | None"], Any]
Encoder = Callable[[Any, "int | None"], bytes]

CODECS: dict[int, tuple[Decoder, Encoder]] = {
    TERMINAL_RESPONSE: (_dec_general, _enc_general),
    PLATFORM_RESPONSE: (_dec_general, _enc_general),
    REGISTER: (_dec_register, _enc_register),
    REGISTER_RESPONSE: (_dec_register_response, _enc_register_response),
    AUTHENTICATE: (_dec_auth, _enc_auth),
    LOCATION: (_dec_location, _enc_location),
    LOCATION_BATCH: (_dec_batch, _enc_batch),
}
"""Messages with a decoded body. Others (0x0002 heartbeat, 0x0003 deregistration, and
every id not listed) carry their body as raw bytes — normally b""."""


def decode_body(msg_id: int, body: bytes, version: int | None) -> Any:
    codec = CODECS.get(msg_id)
    if codec is None:
        return body
    try:
        return codec[0](body, version)
    except FrameError:
        raise
    except (struct.error, IndexError, ValueError, OverflowError) as e:
        raise FrameError(f"malformed body of 0x{msg_id:04x}: {e}") from e


def encode_body(msg_id: int, body: Any, version: int | None) -> bytes:
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    if body is None:
        return b""
    codec = CODECS.get(msg_id)
    if codec is None:
        raise ValueError(f"no encoder for 0x{msg_id:04x}; pass the body as bytes")
    return codec[1](body, version)
