"""Where positions go once they are durably written.

The gateway acknowledges a position only after the write-ahead segment holding it is
fsynced; it then hands the batch to `deliver()`, which calls every registered sink in
order (the live state, the rule engine, …). In one process the sinks run right there;
scaled out (GUANJIA_REDIS_URL), the gateway's only sink publishes to Redis Streams and the
rule workers call `deliver()` on what they consume. A failing sink is logged and counted,
never allowed to stop the gateway or the other sinks: the positions are already safe.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from .positions import Position

log = logging.getLogger(__name__)

Sink = Callable[[Sequence[Position]], None]

_sinks: list[tuple[str, Sink]] = []
failures: dict[str, int] = {}


def register(name: str, sink: Sink) -> None:
    """Add (or replace) the sink `name`."""
    unregister(name)
    _sinks.append((name, sink))


def unregister(name: str) -> None:
    _sinks[:] = [(n, s) for n, s in _sinks if n != name]


def sinks() -> list[str]:
    return [n for n, _s in _sinks]


def deliver(positions: Sequence[Position]) -> None:
    for name, sink in list(_sinks):
        try:
            sink(positions)
        except Exception:  # one sink's bug must not stop the others
            failures[name] = failures.get(name, 0) + 1
            log.exception("position sink %s failed on a batch of %d", name, len(positions))
