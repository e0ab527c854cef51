"""The one in-memory shape of a reported position, shared by the gateway, the archive, the
live state, the trip segmenter and the rules.

Kept as a NamedTuple: tens of thousands are made per second, and a tuple is the cheapest
Python object that still reads by name. Coordinates are as reported (WGS-84 degrees);
`time` is the terminal's GNSS time as a UTC epoch second (JT/T 808 sends BCD in GMT+8,
the codec converts), `received` the server's clock when the frame arrived.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import NamedTuple

CHINA = timezone(timedelta(hours=8))


class Position(NamedTuple):
    terminal: str  # terminal number without leading zeros (Vehicle.terminal_key)
    time: int  # GNSS time, UTC epoch seconds
    lat: float
    lon: float
    speed_kmh: float
    direction: int  # degrees 0–359, 0 = north
    altitude_m: int
    alarm: int  # alarm flag bits of 0x0200
    status: int  # status bits of 0x0200 (bit 0 ACC on, bit 1 positioned …)
    mileage_km: float | None = None  # additional item 0x01
    fuel_l: float | None = None  # additional item 0x02
    received: float = 0.0  # server epoch seconds

    @property
    def acc_on(self) -> bool:
        return bool(self.status & 0x1)

    def iso_time(self) -> str:
        """ISO 8601 in China time, as the track command prints it: 2026-03-02T08:15:00+08:00."""
        return datetime.fromtimestamp(self.time, UTC).astimezone(CHINA).isoformat()
