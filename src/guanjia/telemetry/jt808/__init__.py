"""JT/T 808 (2011/2013 and 2019) codec: framing, headers, sub-packages, bodies.

Typical gateway use::

    splitter = FrameSplitter()
    parts = Reassembler()
    for payload in splitter.feed(data):          # may raise FrameTooLarge: drop the peer
        try:
            msg = parts.add(decode_frame(payload))  # FrameError: count, drop, keep serving
        except FrameError:
            ...
        if msg and msg.msg_id == LOCATION:
            pos = to_position(msg.terminal_key, msg.body, received)
        reply = encode_message(PLATFORM_RESPONSE, msg.terminal, my_serial,
                               GeneralResponse(msg.serial, msg.msg_id, RESULT_OK),
                               version=msg.version)

Pure Python, no Django imports.
"""

from __future__ import annotations

from ..positions import Position
from .bodies import (
    ALARM_EMERGENCY,
    ALARM_OVERSPEED,
    AUTHENTICATE,
    BATCH_BLIND,
    BATCH_NORMAL,
    CODECS,
    DEREGISTER,
    HEARTBEAT,
    LOCATION,
    LOCATION_BATCH,
    PLATFORM_RESPONSE,
    REGISTER,
    REGISTER_NO_TERMINAL,
    REGISTER_NO_VEHICLE,
    REGISTER_OK,
    REGISTER_RESPONSE,
    REGISTER_TERMINAL_TAKEN,
    REGISTER_VEHICLE_TAKEN,
    RESULT_BAD_MESSAGE,
    RESULT_FAILURE,
    RESULT_OK,
    RESULT_UNSUPPORTED,
    STATUS_ACC,
    STATUS_FIXED,
    STATUS_SOUTH,
    STATUS_WEST,
    TERMINAL_RESPONSE,
    Authentication,
    GeneralResponse,
    Location,
    LocationBatch,
    Register,
    RegisterResponse,
    bcd_time_to_epoch,
    epoch_to_bcd_time,
)
from .codec import (
    GeneralResponder,
    Message,
    decode_frame,
    decode_wire,
    encode,
    encode_general_response,
    encode_message,
    encode_payload,
    split_message,
)
from .framing import (
    FrameError,
    FrameSplitter,
    FrameTooLarge,
    checksum,
    escape,
    unescape,
)
from .subpackage import Reassembler


def to_position(terminal_key: str, body: Location, received: float) -> Position:
    """The shared Position of a decoded 0x0200 body (or one 0x0704 item). A report without
    GNSS time (all-zero BCD) is stamped with the receive time."""
    t = body.time
    status = body.status
    lat = body.lat_e6 / 1e6
    lon = body.lon_e6 / 1e6
    if status & STATUS_SOUTH:
        lat = -lat
    if status & STATUS_WEST:
        lon = -lon
    m = body.mileage
    f = body.fuel
    return Position(
        terminal_key,
        int(received) if t is None else t,
        lat,
        lon,
        body.speed / 10,
        body.direction,
        body.altitude,
        body.alarm,
        status,
        None if m is None else m / 10,
        None if f is None else f / 10,
        received,
    )


def positions_of(msg: Message, received: float) -> list[Position]:
    """Positions carried by a decoded 0x0200 or 0x0704 message; empty for anything else,
    including an encrypted or still sub-packaged one (whose body stays raw bytes)."""
    body = msg.body
    if type(body) is Location:
        return [to_position(msg.terminal_key, body, received)]
    if type(body) is LocationBatch:
        key = msg.terminal_key
        return [to_position(key, item, received) for item in body.items]
    return []


__all__ = [
    "ALARM_EMERGENCY",
    "ALARM_OVERSPEED",
    "AUTHENTICATE",
    "BATCH_BLIND",
    "BATCH_NORMAL",
    "CODECS",
    "DEREGISTER",
    "HEARTBEAT",
    "LOCATION",
    "LOCATION_BATCH",
    "PLATFORM_RESPONSE",
    "REGISTER",
    "REGISTER_NO_TERMINAL",
    "REGISTER_NO_VEHICLE",
    "REGISTER_OK",
    "REGISTER_RESPONSE",
    "REGISTER_TERMINAL_TAKEN",
    "REGISTER_VEHICLE_TAKEN",
    "RESULT_BAD_MESSAGE",
    "RESULT_FAILURE",
    "RESULT_OK",
    "RESULT_UNSUPPORTED",
    "STATUS_ACC",
    "STATUS_FIXED",
    "STATUS_SOUTH",
    "STATUS_WEST",
    "TERMINAL_RESPONSE",
    "Authentication",
    "FrameError",
    "FrameSplitter",
    "FrameTooLarge",
    "GeneralResponder",
    "GeneralResponse",
    "Location",
    "LocationBatch",
    "Message",
    "Reassembler",
    "Register",
    "RegisterResponse",
    "bcd_time_to_epoch",
    "checksum",
    "decode_frame",
    "decode_wire",
    "encode",
    "encode_general_response",
    "encode_message",
    "encode_payload",
    "epoch_to_bcd_time",
    "escape",
    "positions_of",
    "split_message",
    "to_position",
    "unescape",
]
