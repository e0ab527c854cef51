"""Load the demo world: every registered part, in one transaction, as the system.

    from guanjia.demo.services import load_demo_world
    load_demo_world(scale="small", seed=2022)   # → {"scale", "seed", "counts", "seconds"}

The demo world only goes into an empty database: if any agency exists, loading is refused
with `DemoWorldExists` and nothing is written. Same scale + seed (+ sizes) → same world.
"""

from __future__ import annotations

import time
from typing import Any

from django.db import connection, transaction
from django.utils.translation import gettext as _

from guanjia.core.context import acting_as
from guanjia.core.models import Agency

from .registry import (
    DEFAULT_SEED,
    DEMO_PASSWORD,
    SCALES,
    DemoContext,
    ProgressCallback,
    discover,
)

__all__ = [
    "DEFAULT_SEED",
    "DEMO_PASSWORD",
    "SCALES",
    "DemoWorldExists",
    "TqdmProgress",
    "load_demo_world",
]


class DemoWorldExists(Exception):
    """The database already holds agencies; the demo world was not loaded."""


def load_demo_world(
    scale: str = "small",
    seed: int = DEFAULT_SEED,
    progress: ProgressCallback | None = None,
    *,
    sizes: dict[str, Any] | None = None,
) -> dict:
    """Build the demo world; returns {"scale", "seed", "counts": {...}, "seconds"}.

    `progress(stage, done, total)` is called as work advances (see TqdmProgress).
    `sizes` overrides a part's sizes, e.g. {"served_agencies": (5, 8)} for a lighter
    province world; each part documents its keys (core: served_agencies, bureau_users,
    agency_users).
    """
    if scale not in SCALES:
        raise ValueError(
            _("未知的演示数据规模：%(scale)s（可选 small、province）") % {"scale": scale}
        )
    parts = discover()
    started = time.perf_counter()
    counts: dict[str, int] = {}
    request_id = f"demo-{scale}-{seed}"[:36]
    with acting_as(source="system", request_id=request_id), transaction.atomic():
        existing = Agency.objects.count()
        if existing:
            raise DemoWorldExists(
                _(
                    "数据库中已有 %(n)d 个单位，演示数据只能载入空数据库，本次未做任何改动。"
                    "如需演示数据，请换一个 GUANJIA_HOME（或新的数据库）后再运行 guanjia demo。"
                )
                % {"n": existing}
            )
        ctx = DemoContext(scale=scale, seed=seed, sizes=dict(sizes or {}))
        if progress is not None:
            ctx.progress = progress
        for part in parts:
            ctx.begin_part(part.name)
            for key, value in (part.func(ctx) or {}).items():
                if key in counts:
                    raise ValueError(f"demo part {part.name!r} reports {key!r} again")
                counts[key] = int(value)
            _analyze()
    return {
        "scale": scale,
        "seed": seed,
        "counts": counts,
        "seconds": round(time.perf_counter() - started, 2),
    }


def _analyze() -> None:
    """Refresh PostgreSQL's statistics after a part's bulk load. Statistics taken while the
    tables were empty (autovacuum after migrate, or after an earlier rolled-back load) make
    the planner treat the freshly loaded rows as none and choose nested loops: the later
    parts' subtree queries then ran five times slower. ANALYZE inside the transaction
    samples its own rows."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


class TqdmProgress:
    """A progress callback drawing one tqdm bar per stage; `close()` when done.

    `guanjia demo` uses it on a terminal; `guanjia up` may too:
        progress = TqdmProgress(); load_demo_world(progress=progress); progress.close()
    """

    def __init__(self, file=None, disable: bool = False):
        self.file = file
        self.disable = disable
        self.bar = None
        self.label = None

    def __call__(self, label: str, done: int, total: int | None) -> None:
        if self.disable:
            return
        if label != self.label:
            self.close()
            from tqdm import tqdm

            self.label = label
            self.bar = tqdm(
                total=total, desc=label, file=self.file, unit="项", leave=True, dynamic_ncols=True
            )
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        self.bar = None
        self.label = None
