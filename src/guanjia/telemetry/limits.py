"""Every bound the gateway and the position store keep, in one place.

Defaults suit one machine serving ~100,000 terminals reporting every 30 s. Each can be
changed without code: the Django setting `TELEMETRY_LIMITS` (a dict of field → value), then
the environment `GUANJIA_GW_<FIELD>` (e.g. `GUANJIA_GW_IDLE_TIMEOUT_S=300`), then the
gateway's command-line flags, each overriding the one before.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Limits:
    # -- framing and buffers (per connection)
    max_frame: int = 4096  # escaped bytes between two 0x7e; the spec's body is ≤ 1023
    read_buffer: int = 16384  # unframed bytes kept per connection before it is closed
    write_buffer: int = 65536  # replies queued to a client that does not read: then closed
    # -- rates and time
    frames_per_second: float = 50.0  # token bucket per connection (= per terminal)
    burst_frames: int = 200  # bucket size: a blind-area catch-up may come in a burst
    idle_timeout_s: float = 180.0  # no complete frame for this long → closed (spec §5.3)
    partial_frame_s: float = 30.0  # a frame begun and not finished in this time → closed
    max_auth_failures: int = 3  # refused register/auth/unauthenticated messages, then closed
    # -- the whole gateway
    max_connections: int = 120_000  # beyond this new connections are refused at once
    # -- subpackages (reassembly)
    max_subpackages: int = 64  # packages per message
    max_pending_messages: int = 4  # messages being reassembled per connection
    subpackage_timeout_s: float = 60.0
    # -- group commit
    flush_interval_s: float = 0.02  # the write-ahead segment is fsynced this often …
    flush_max_positions: int = 20_000  # … or as soon as this many positions wait
    segment_bytes: int = 64 * 1024 * 1024  # a segment is closed at this size …
    segment_seconds: float = 300.0  # … or at this age, then compactable
    dedupe_recent: int = 8  # GNSS times remembered per terminal to drop duplicates
    # -- register cache
    registry_refresh_s: float = 60.0
    status_every_s: float = 2.0  # the status file /healthz reads

    def replace(self, **changes) -> Limits:
        changes = {k: v for k, v in changes.items() if v is not None}
        return dataclasses.replace(self, **changes)


def _coerce(field_type, value):
    kind = {"int": int, "float": float}.get(str(field_type), float)
    return kind(value)


def load(**overrides) -> Limits:
    """The limits in force: defaults ← settings.TELEMETRY_LIMITS ← GUANJIA_GW_* ← overrides."""
    values: dict = {}
    try:
        from django.conf import settings

        values.update(getattr(settings, "TELEMETRY_LIMITS", {}) or {})
    except Exception:  # settings not configured (a bare script): defaults
        pass
    for f in fields(Limits):
        env = os.environ.get(f"GUANJIA_GW_{f.name.upper()}")
        if env:
            values[f.name] = env
    values.update({k: v for k, v in overrides.items() if v is not None})
    known = {f.name: f for f in fields(Limits)}
    unknown = set(values) - set(known)
    if unknown:
        raise ValueError(f"未知的网关限值：{', '.join(sorted(unknown))}")
    return Limits(**{k: _coerce(known[k].type, v) for k, v in values.items()})
