"""The spine's middle: indicators the apps measure, looked up by key.

An app declares what it measures in its `indicators.py`:

    @indicator("canteen.clean_plate_rate", unit="%", label="光盘率")
    def clean_plate_rate(scope: IndicatorScope, period: Period) -> float | None: ...

Standards carry requirements on these keys; evaluation computes them per agency and period.
A function returns None when there is no data (a verdict of "no-data", never a zero).

An indicator reads every model through `scope.restrict(Model)` (and agencies through
`scope.agencies()`), never `Model.objects` directly: that is the caller's data scope for
that model's domain, so nobody learns through an indicator what they may not list
(a user without "system.view" counts no users, one without "audit.view" no logins).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time

from django.utils import timezone


@dataclass(frozen=True)
class Period:
    """A calendar month (2026-03), quarter (2026Q3) or year (2026); end is exclusive."""

    kind: str
    start: date
    end: date
    label: str

    _PATTERNS = (
        (re.compile(r"^(\d{4})-(\d{2})$"), "month"),
        (re.compile(r"^(\d{4})Q([1-4])$", re.I), "quarter"),
        (re.compile(r"^(\d{4})$"), "year"),
    )

    @classmethod
    def parse(cls, text: str) -> Period:
        text = (text or "").strip()
        for pattern, kind in cls._PATTERNS:
            if m := pattern.match(text):
                year = int(m.group(1))
                if kind == "year":
                    return cls(kind, date(year, 1, 1), date(year + 1, 1, 1), f"{year}")
                n = int(m.group(2))
                first = n if kind == "month" else 3 * n - 2
                if not 1 <= first <= 12:
                    break
                months = 1 if kind == "month" else 3
                label = f"{year}-{n:02d}" if kind == "month" else f"{year}Q{n}"
                return cls(
                    kind, date(year, first, 1), _add_months(date(year, first, 1), months), label
                )
        raise ValueError(f"无法识别的统计期：{text!r}（应为 2026-03、2026Q3 或 2026）")

    def previous(self) -> Period:
        if self.kind == "year":
            return Period.parse(str(self.start.year - 1))
        months = 1 if self.kind == "month" else 3
        start = _add_months(self.start, -months)
        if self.kind == "month":
            return Period.parse(f"{start.year}-{start.month:02d}")
        return Period.parse(f"{start.year}Q{(start.month - 1) // 3 + 1}")

    def bounds(self) -> tuple[datetime, datetime]:
        """Aware datetimes in the platform's time zone, for filtering timestamps."""
        tz = timezone.get_default_timezone()
        return (
            datetime.combine(self.start, time.min, tz),
            datetime.combine(self.end, time.min, tz),
        )

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def _add_months(d: date, months: int) -> date:
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(d.day, calendar.monthrange(year, month + 1)[1]))


@dataclass(frozen=True)
class IndicatorScope:
    """Which agencies an indicator is computed over: one agency, optionally with every
    agency below it, and never beyond what `user` may see (None = the system itself)."""

    agency: object
    include_below: bool = True
    user: object | None = None

    def restrict(self, model, action: str = "view"):
        """`model`'s rows the scope's user may see (all of them for the system itself)."""
        if self.user is None:
            return model.objects.all()
        return model.objects.restrict(self.user, action)

    def agencies(self):
        from .models import Agency

        qs = self.restrict(Agency)
        if self.include_below:
            return qs.filter(path__startswith=self.agency.path)
        return qs.filter(pk=self.agency.pk)


@dataclass(frozen=True)
class Indicator:
    key: str
    unit: str
    label: str
    description: str
    higher_is_better: bool | None
    func: Callable[[IndicatorScope, Period], float | None]

    @property
    def domain(self) -> str:
        return self.key.split(".", 1)[0]

    def compute(self, scope: IndicatorScope, period: Period) -> float | None:
        return self.func(scope, period)


_registry: dict[str, Indicator] = {}


def indicator(
    key: str, *, unit: str, label: str, description: str = "", higher_is_better: bool | None = None
):
    if not re.fullmatch(r"[a-z_]+\.[a-z0-9_]+", key):
        raise ValueError(f"indicator key {key!r} must look like 'domain.name'")

    def register(func):
        if key in _registry and _registry[key].func is not func:
            raise ValueError(f"indicator {key!r} is registered twice")
        _registry[key] = Indicator(
            key, unit, label, description or (func.__doc__ or "").strip(), higher_is_better, func
        )
        return func

    return register


def all_indicators() -> list[Indicator]:
    return sorted(_registry.values(), key=lambda i: i.key)


def get_indicator(key: str) -> Indicator:
    try:
        return _registry[key]
    except KeyError:
        raise KeyError(f"未知指标：{key}") from None
