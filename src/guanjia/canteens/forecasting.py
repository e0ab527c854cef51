"""Diner forecasts: our model, the baselines it is judged against, and the backtest.

A series is a run of consecutive days with the diners of one meal (0 = not served). The
forecast is for the days after the last one, 14 by default.

Our model (`guanjia`) is built on what drives a 机关食堂's count — the seeds' "用餐人数的
变化 … 周期性规律" — rather than on a generic time-series shape:

1. **Whether the canteen serves at all** is a question for the calendar, not for the series:
   each day has a kind — ordinary workday, adjusted working day (调休 Saturday or Sunday),
   weekend, public holiday (guanjia.core.calendar, with its editable table for years
   chinese-calendar does not cover). A kind the canteen served on in fewer than half of its
   past occurrences is forecast 0. A generic model that sees a Spring Festival week of zeros
   drags them into the next weeks; this one knows the week is a holiday.
2. **How many come on a served day** is a regression of log(diners) on: the day of the week;
   the kind of day; the first workday after and the last workday before a break of three
   days or more (节后/节前: people take the bridge days); the last workday of the month;
   the month of the year (summer rotation, 年底); a linear trend (staff numbers drift); and
   an intercept that follows the level (recent weeks weigh more: weights halve every
   `half_life_days`). Ridge-penalised so a month seen once does not swing the forecast.
   Registered events (a meeting of 200, a remote-work day) are added on top.
3. **P10/P90** from the weighted quantiles of the fit's own log-residuals on served days.

Chosen by backtest, not by fashion: `backtest()` runs a rolling origin over the series for
`seasonal_naive` (same weekday last week), the library model (statsforecast AutoETS with a
weekly season, fed the series as it is) and ours; `guanjia canteen backtest` prints it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import numpy as np

from guanjia.core.calendar import holiday_name, is_workday, on_change

WORKDAY, ADJUSTED, WEEKEND, HOLIDAY = "workday", "adjusted", "weekend", "holiday"
KINDS = (WORKDAY, ADJUSTED, WEEKEND, HOLIDAY)
KIND_LABELS = {WORKDAY: "工作日", ADJUSTED: "调休上班", WEEKEND: "周末", HOLIDAY: "节假日"}
HORIZON = 14


@lru_cache(maxsize=16384)
def day_kind(day: date) -> str:
    if is_workday(day):
        return ADJUSTED if day.weekday() >= 5 else WORKDAY
    if holiday_name(day) or day.weekday() < 5:
        return HOLIDAY
    return WEEKEND


def _days_off_run(day: date, step: int) -> int:
    """Consecutive days off next to `day` going forward (step=1) or backward (step=-1)."""
    n, d = 0, day + timedelta(days=step)
    while n < 30 and not is_workday(d):
        n += 1
        d += timedelta(days=step)
    return n


def special_tags(day: date) -> list[str]:
    """Why a day is not ordinary, in words for the forecast page (节前, 节后, 调休, 月末 …)."""
    tags = []
    kind = day_kind(day)
    if kind == HOLIDAY:
        tags.append(holiday_label(day))
    elif kind == ADJUSTED:
        tags.append("调休上班")
    if kind in (WORKDAY, ADJUSTED):
        if _days_off_run(day, 1) >= 3:
            tags.append("节前")
        if _days_off_run(day, -1) >= 3:
            tags.append("节后")
        if _is_last_workday_of_month(day):
            tags.append("月末")
    return tags


HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}


def holiday_label(day: date) -> str:
    name = holiday_name(day)
    return HOLIDAY_NAMES.get(name, name) if name else "节假日"


def _is_last_workday_of_month(day: date) -> bool:
    d = day + timedelta(days=1)
    while d.month == day.month:
        if is_workday(d):
            return False
        d += timedelta(days=1)
    return True


# -- the series ------------------------------------------------------------------------------


@dataclass
class Series:
    """Diners of one meal on consecutive days starting at `start`."""

    start: date
    values: np.ndarray

    @classmethod
    def from_pairs(cls, pairs: Sequence[tuple[date, int]]) -> Series:
        """From (day, diners) pairs in any order; a missing day inside counts as not served."""
        if not pairs:
            raise ValueError("空序列")
        pairs = sorted(pairs)
        start, end = pairs[0][0], pairs[-1][0]
        values = np.zeros((end - start).days + 1)
        for day, n in pairs:
            values[(day - start).days] = n
        return cls(start, values)

    @property
    def end(self) -> date:
        """The last day (inclusive)."""
        return self.start + timedelta(days=len(self.values) - 1)

    def day(self, i: int) -> date:
        return self.start + timedelta(days=i)

    def before(self, origin: date) -> Series:
        return Series(self.start, self.values[: (origin - self.start).days])

    def window(self, origin: date, horizon: int) -> np.ndarray:
        i = (origin - self.start).days
        return self.values[i : i + horizon]


@dataclass
class Forecast:
    days: list[date]
    p50: np.ndarray
    p10: np.ndarray
    p90: np.ndarray
    tags: list[list[str]] = field(default_factory=list)


# -- baselines ---------------------------------------------------------------------------------


def seasonal_naive(history: Series, horizon: int = HORIZON) -> np.ndarray:
    """Same weekday last week (the last week repeated)."""
    last_week = history.values[-7:]
    return np.array([last_week[h % 7] for h in range(horizon)], dtype=float)


def auto_ets(history: Series, horizon: int = HORIZON) -> np.ndarray:
    """statsforecast's AutoETS with a weekly season, on the series as it is."""
    from statsforecast.models import AutoETS

    model = AutoETS(season_length=7)
    out = model.forecast(y=history.values.astype(float), h=horizon)
    return np.maximum(np.asarray(out["mean"], dtype=float), 0.0)


# -- ours -------------------------------------------------------------------------------------


@dataclass
class CalendarFeatures:
    """The regression's design for a run of days, computed once per day."""

    names: list[str]
    rows: np.ndarray  # days × features
    kinds: list[str]


FEATURE_NAMES = (
    ["intercept", "trend"]
    + [f"weekday_{i}" for i in range(1, 7)]
    + [f"kind_{k}" for k in (ADJUSTED, WEEKEND, HOLIDAY)]
    + ["before_break", "after_break", "month_end"]
    + [f"month_{m}" for m in range(2, 13)]
)


def calendar_features(days: Sequence[date], anchor: date) -> CalendarFeatures:
    rows = np.array([_calendar_row(day) for day in days], dtype=float).reshape(
        len(days), len(FEATURE_NAMES)
    )
    rows[:, 1] = [(day - anchor).days / 365.25 for day in days]
    return CalendarFeatures(list(FEATURE_NAMES), rows, [day_kind(day) for day in days])


@lru_cache(maxsize=16384)
def _calendar_row(day: date) -> tuple[float, ...]:
    """The day's features but the trend; the same for every canteen, so computed once."""
    row = [0.0] * len(FEATURE_NAMES)
    kind = day_kind(day)
    row[0] = 1.0
    if day.weekday():
        row[1 + day.weekday()] = 1.0
    if kind != WORKDAY:
        row[8 + (ADJUSTED, WEEKEND, HOLIDAY).index(kind)] = 1.0
    if kind in (WORKDAY, ADJUSTED):
        row[11] = float(_days_off_run(day, 1) >= 3)
        row[12] = float(_days_off_run(day, -1) >= 3)
        row[13] = float(_is_last_workday_of_month(day))
    if day.month > 1:
        row[12 + day.month] = 1.0
    return tuple(row)


# An entry in the calendar table (next year's 放假安排 keyed in) changes both memos.
on_change(day_kind.cache_clear)
on_change(_calendar_row.cache_clear)


@dataclass
class GuanjiaModel:
    half_life_days: float = 365.0
    ridge: float = 2.0
    min_open_share: float = 0.5
    quantiles: tuple[float, float] = (0.1, 0.9)

    def fit_predict(
        self, history: Series, horizon: int = HORIZON, events: dict[date, int] | None = None
    ) -> Forecast:
        n = len(history.values)
        past_days = [history.day(i) for i in range(n)]
        future_days = [history.end + timedelta(days=h + 1) for h in range(horizon)]
        anchor = history.end
        past = calendar_features(past_days, anchor)
        future = calendar_features(future_days, anchor)
        served = history.values > 0
        if not served.any():  # a meal listed but never served yet: nothing to forecast from
            zero = np.zeros(horizon)
            return Forecast(future_days, zero, zero, zero, [special_tags(d) for d in future_days])

        open_kinds = self._open_kinds(past.kinds, served)
        age = np.arange(n)[::-1].astype(float)
        weights = 0.5 ** (age / self.half_life_days)

        columns = self._usable_columns(past.rows[served])
        x, y, w = past.rows[served][:, columns], np.log(history.values[served]), weights[served]
        beta = self._ridge(x, y, w)
        residuals = y - x @ beta
        lo, hi = _weighted_quantiles(residuals, w, self.quantiles)

        log_mean = future.rows[:, columns] @ beta
        p50 = np.exp(log_mean)
        p10, p90 = np.exp(log_mean + lo), np.exp(log_mean + hi)
        closed = np.array([k not in open_kinds for k in future.kinds])
        if events:
            change = np.array([events.get(d, 0) for d in future_days], dtype=float)
            p10, p50, p90 = (np.maximum(v + change, 0.0) for v in (p10, p50, p90))
        for v in (p10, p50, p90):
            v[closed] = 0.0
        return Forecast(future_days, p50, p10, p90, [special_tags(d) for d in future_days])

    def __call__(self, history: Series, horizon: int = HORIZON) -> np.ndarray:
        return self.fit_predict(history, horizon).p50

    def _open_kinds(self, kinds: list[str], served: np.ndarray) -> set[str]:
        seen: dict[str, list[int]] = {}
        for kind, on in zip(kinds, served, strict=True):
            seen.setdefault(kind, [0, 0])
            seen[kind][0] += 1
            seen[kind][1] += bool(on)
        opened = {k for k, (total, on) in seen.items() if on / total >= self.min_open_share}
        # A kind never seen yet (a first 调休 Saturday) is served if workdays are.
        if WORKDAY in opened and ADJUSTED not in seen:
            opened.add(ADJUSTED)
        return opened

    @staticmethod
    def _usable_columns(rows: np.ndarray) -> np.ndarray:
        """Features that occur among served days (a dummy never seen cannot be fitted)."""
        return np.flatnonzero(np.abs(rows).sum(axis=0) > 0)

    def _ridge(self, x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
        penalty = np.full(x.shape[1], self.ridge)
        penalty[0] = 0.0  # the intercept (the level) is never shrunk
        xtw = x.T * w
        return np.linalg.solve(xtw @ x + np.diag(penalty), xtw @ y)


def _weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs) -> tuple[float, ...]:
    if len(values) == 0:
        return tuple(0.0 for _ in qs)
    order = np.argsort(values)
    v, cw = values[order], np.cumsum(weights[order])
    cw = cw / cw[-1]
    return tuple(float(np.interp(q, cw, v)) for q in qs)


guanjia_model = GuanjiaModel()


# -- the backtest --------------------------------------------------------------------------------

MODELS: dict[str, Callable[[Series, int], np.ndarray]] = {
    "seasonal_naive": seasonal_naive,
    "AutoETS": auto_ets,
    "guanjia": guanjia_model,
}


def origins(series: Series, count: int = 8, step: int = 14, horizon: int = HORIZON) -> list[date]:
    """`count` forecast origins `step` days apart, the last one's horizon ending on the
    series' last day (the origin is the first forecast day)."""
    last = series.end - timedelta(days=horizon - 1)
    found = [last - timedelta(days=step * k) for k in range(count)][::-1]
    if (found[0] - series.start).days < 28:
        raise ValueError("序列太短：回测至少需要在第一个预测起点前有 4 周数据")
    return found


def errors(actual: np.ndarray, predicted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Absolute and absolute-percentage errors over the served days (actual > 0); a 0
    forecast on a served day is a 100 % error."""
    served = actual > 0
    abs_err = np.abs(actual[served] - predicted[served])
    return abs_err, abs_err / actual[served]


def backtest(
    series: Series,
    models: dict[str, Callable] | None = None,
    count: int = 8,
    step: int = 14,
    horizon: int = HORIZON,
) -> dict[str, dict[str, float]]:
    """Rolling-origin backtest: for each origin, fit on the days before it and forecast the
    next `horizon` days. MAPE (%) and MAE over every served day of every window."""
    models = models or MODELS
    found = origins(series, count, step, horizon)
    result = {}
    for name, model in models.items():
        abs_all, pct_all = [], []
        for origin in found:
            actual = series.window(origin, horizon)
            predicted = np.asarray(model(series.before(origin), horizon), dtype=float)
            a, p = errors(actual, predicted[: len(actual)])
            abs_all.append(a)
            pct_all.append(p)
        abs_err, pct = np.concatenate(abs_all), np.concatenate(pct_all)
        result[name] = {
            "mape": _round(100.0 * pct.mean()) if len(pct) else None,
            "mae": _round(abs_err.mean()) if len(abs_err) else None,
            "days": len(pct),
        }
    return result


def _round(x: float) -> float:
    return round(float(x), 2) if math.isfinite(x) else None
