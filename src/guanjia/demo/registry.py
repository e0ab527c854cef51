"""How each app adds its part of the demo world.

An app puts a `demo.py` next to its `models.py` and registers one function per part:

    from guanjia.demo.registry import demo_part

    @demo_part("vehicles", order=30)
    def vehicles(ctx):
        n = ctx.amount("vehicles_per_bureau", small=(3, 6), province=(40, 120))
        ctx.stage("公务用车", total=len(ctx.bureaus) * n)
        for bureau in ctx.bureaus:
            ...                                   # through the app's own services
            ctx.tick()
        return {"vehicles": created}              # counts of what was created

`load_demo_world()` imports `<app>.demo` for every installed `guanjia.*` app, then runs the
parts by (order, name) inside one transaction, as the system (`acting_as(source="system")`).
Core is order 10 (regions, the 68 bureaus, the agencies they serve, the 5 collaboration
groups, roles, users); parts that need agencies come after it.

Determinism: each part gets its own `random.Random` seeded from (seed, part name), so adding
or changing one part never changes what another part generates. Use `ctx.rng` (or
`ctx.derive("label")` for an independent stream inside a part) and never the global
`random` module, the clock or database ids for anything that ends up in the data.
"""

from __future__ import annotations

import importlib
import importlib.util
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SCALES = ("small", "province")
DEFAULT_SEED = 2022
# The one password of every demo account (documented in LOGINS.md and the README).
DEMO_PASSWORD = "Guanjia@2026"

# progress(stage label, units done in this stage, stage total or None)
ProgressCallback = Callable[[str, int, int | None], None]


def _no_progress(label: str, done: int, total: int | None) -> None:
    return None


@dataclass(frozen=True)
class DemoPart:
    name: str
    order: int
    func: Callable[[DemoContext], dict[str, int] | None]

    @property
    def description(self) -> str:
        return (self.func.__doc__ or "").strip().split("\n")[0]


_parts: dict[str, DemoPart] = {}


def demo_part(name: str, *, order: int = 100):
    """Register `func(ctx) -> dict[str, int]` as the part `name` of the demo world."""

    def register(func):
        existing = _parts.get(name)
        if existing is not None and _identity(existing.func) != _identity(func):
            raise ValueError(f"demo part {name!r} is registered twice")
        _parts[name] = DemoPart(name, order, func)
        return func

    return register


def _identity(func) -> tuple[str, str]:
    return (func.__module__, func.__qualname__)


def discover() -> list[DemoPart]:
    """Import `<app>.demo` of every installed guanjia app; the parts in running order."""
    from django.apps import apps

    for app in apps.get_app_configs():
        if not app.name.startswith("guanjia."):
            continue
        module = f"{app.name}.demo"
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)
    return registered_parts()


def registered_parts() -> list[DemoPart]:
    return sorted(_parts.values(), key=lambda p: (p.order, p.name))


@dataclass
class DemoContext:
    """What a part gets: the scale, its seeded RNG, progress, and what earlier parts built.

    Lookups are filled by the core part and may be read (not replaced) by later parts;
    a part that builds something others need puts it in `data` under its own name.
    """

    scale: str
    seed: int
    progress: ProgressCallback = _no_progress
    sizes: dict[str, Any] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)
    part: str = ""

    # Filled by the core part.
    regions_by_code: dict[str, Any] = field(default_factory=dict)
    agencies_by_name: dict[str, Any] = field(default_factory=dict)
    bureaus: list[Any] = field(default_factory=list)  # the 68 participants, in order
    served: dict[str, list[Any]] = field(default_factory=dict)  # bureau name → agencies
    groups: list[Any] = field(default_factory=list)
    roles_by_key: dict[str, Any] = field(default_factory=dict)
    users_by_username: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)

    _stage: str = ""
    _done: int = 0
    _total: int | None = None

    # -- randomness ---------------------------------------------------------------------

    def begin_part(self, name: str) -> None:
        self.part = name
        self.rng = random.Random(f"guanjia-demo:{self.seed}:{name}")

    def derive(self, label: str) -> random.Random:
        """An independent stream inside the current part (so changing how one thing is
        generated does not shift the random choices of another)."""
        return random.Random(f"guanjia-demo:{self.seed}:{self.part}:{label}")

    # -- sizes --------------------------------------------------------------------------

    def size(self, key: str, *, small, province):
        """The configured size `key` for this scale: an int or an (a, b) range.
        `sizes={key: value}` given to load_demo_world() overrides it (benchmarks, tests)."""
        if key in self.sizes:
            return self.sizes[key]
        return small if self.scale == "small" else province

    def amount(self, key: str, *, small, province, rng: random.Random | None = None) -> int:
        """Like size(), but a range is drawn from (rng or ctx.rng) each time it is asked."""
        value = self.size(key, small=small, province=province)
        if isinstance(value, (tuple, list)):
            low, high = value
            return (rng or self.rng).randint(low, high)
        return int(value)

    # -- progress -----------------------------------------------------------------------

    def stage(self, label: str, total: int | None = None) -> None:
        self._stage, self._done, self._total = label, 0, total
        self.progress(label, 0, total)

    def tick(self, n: int = 1) -> None:
        self._done += n
        self.progress(self._stage, self._done, self._total)

    @property
    def is_province(self) -> bool:
        return self.scale == "province"
