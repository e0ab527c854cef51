"""Plausible diner series for canteens the platform has not seen: the demo world's canteens
and the held-out canteens of the forecast benchmark.

Each canteen draws its own profile from a seed: staff served and the share who eat in;
a weekday shape (Monday busiest in some, Friday quietest in most); whether it serves on
weekends (duty canteens of 公安/应急 agencies do, at a fraction); the dips before and after
long holidays; a summer dip; a trend; correlated day-to-day noise (AR(1), not independent:
a flu season or a busy fortnight lasts); one-off shocks (a remote-work day, a big meeting);
and sometimes a step change (a department moving in or out). Several of these are not in
the forecast model's features on purpose — the shocks, the AR noise and the step — so the
backtest on these series measures the model against things it does not know about.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta

from guanjia.core.calendar import holiday_name, is_workday


@dataclass
class Profile:
    staff: int
    eat_in: float
    weekday: tuple[float, ...]  # Monday … Sunday
    weekend_share: float  # 0 = closed on weekends and holidays
    adjusted: float  # 调休 Saturday relative to an ordinary day
    before_break: float
    after_break: float
    summer: float
    december: float
    trend_per_year: float
    noise: float
    ar: float
    shock_rate: float
    step_at: float | None  # fraction of the span where a step change happens
    step: float

    @classmethod
    def draw(cls, rng: random.Random, staff: int | None = None) -> Profile:
        monday = rng.uniform(1.0, 1.08)
        weekday = (
            monday,
            rng.uniform(0.97, 1.03),
            rng.uniform(0.97, 1.03),
            rng.uniform(0.93, 1.0),
            rng.uniform(0.78, 0.92),
        )
        weekend_share = rng.choice([0.0, 0.0, 0.0, 0.0, rng.uniform(0.15, 0.35)])
        return cls(
            staff=staff or rng.choice([120, 200, 350, 600, 900, 1500, 2400]),
            eat_in=rng.uniform(0.55, 0.85),
            weekday=(*weekday, 1.0, 1.0),
            weekend_share=weekend_share,
            adjusted=rng.uniform(0.78, 0.92),
            before_break=rng.uniform(0.65, 0.85),
            after_break=rng.uniform(0.9, 1.0),
            summer=rng.uniform(0.85, 0.96),
            december=rng.uniform(1.0, 1.05),
            trend_per_year=rng.uniform(-0.03, 0.06),
            noise=rng.uniform(0.025, 0.06),
            ar=rng.uniform(0.3, 0.7),
            shock_rate=rng.uniform(0.005, 0.02),
            step_at=rng.choice([None, None, rng.uniform(0.3, 0.9)]),
            step=rng.uniform(0.85, 1.15),
        )


def _days_off(day: date, step: int) -> int:
    n, d = 0, day + timedelta(days=step)
    while n < 30 and not is_workday(d):
        n, d = n + 1, d + timedelta(days=step)
    return n


def series(seed: int, start: date, end: date, staff: int | None = None,
           profile: Profile | None = None) -> list[tuple[date, int]]:  # fmt: skip
    """(day, diners) for every day from `start` to `end` inclusive (0 = not served)."""
    rng = random.Random(seed)
    p = profile or Profile.draw(rng, staff)
    span = (end - start).days + 1
    out, ar_state = [], 0.0
    for i in range(span):
        day = start + timedelta(days=i)
        ar_state = p.ar * ar_state + rng.gauss(0.0, p.noise) * math.sqrt(1 - p.ar**2)
        workday = is_workday(day)
        if workday:
            factor = p.weekday[day.weekday()] if day.weekday() < 5 else p.adjusted
            if _days_off(day, 1) >= 3:
                factor *= p.before_break
            if _days_off(day, -1) >= 3:
                factor *= p.after_break
        elif p.weekend_share and not holiday_name(day):
            factor = p.weekend_share
        elif p.weekend_share and holiday_name(day):
            factor = p.weekend_share * 0.8
        else:
            out.append((day, 0))
            continue
        if day.month in (7, 8):
            factor *= p.summer
        if day.month == 12:
            factor *= p.december
        factor *= (1 + p.trend_per_year) ** (i / 365.25)
        if p.step_at is not None and i >= p.step_at * span:
            factor *= p.step
        if rng.random() < p.shock_rate:
            factor *= rng.choice([rng.uniform(0.5, 0.8), rng.uniform(1.15, 1.4)])
        out.append((day, max(0, round(p.staff * p.eat_in * factor * math.exp(ar_state)))))
    return out
