"""Stock of a canteen's store room: receipts (IN), issues to the kitchen (OUT) and
write-offs (LOSS, 报损), the stock on hand, its value and the turnover days.

Valuation is the moving weighted average: a receipt enters at its purchase price; an issue
or a write-off leaves at the average cost of what is on hand at that moment (recorded as the
movement's `unit_cost`). So the value of the stock on a day is Σ IN qty × cost − Σ OUT/LOSS
qty × cost over the movements up to that day, and each issue's cost is what it took out.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, DecimalField, F, Sum, When
from django.utils.translation import gettext as _

from . import services
from .models import Canteen, Ingredient, StockMovement

ZERO = Decimal("0")
CENT = Decimal("0.01")
OUTGOING = (StockMovement.Kind.OUT, StockMovement.Kind.LOSS)


def cents(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _signed(field: str):
    """`field` with the sign of the movement: + for IN, − for OUT and LOSS."""
    return Case(
        When(kind=StockMovement.Kind.IN, then=F(field)),
        default=-F(field),
        output_field=DecimalField(max_digits=20, decimal_places=5),
    )


_VALUE = Case(
    When(kind=StockMovement.Kind.IN, then=F("quantity") * F("unit_cost")),
    default=-F("quantity") * F("unit_cost"),
    output_field=DecimalField(max_digits=20, decimal_places=5),
)


@dataclass
class Level:
    canteen: Canteen
    ingredient: Ingredient
    quantity: Decimal
    value: Decimal

    @property
    def average_cost(self) -> Decimal | None:
        return None if self.quantity <= 0 else cents(self.value / self.quantity)


def on_hand(canteen: Canteen, ingredient: Ingredient, day: dt.date | None = None):
    """(quantity, value) of `ingredient` in `canteen`'s store after the movements up to
    `day` (all of them when None)."""
    qs = StockMovement.objects.filter(canteen=canteen, ingredient=ingredient)
    if day is not None:
        qs = qs.filter(date__lte=day)
    got = qs.aggregate(q=Sum(_signed("quantity")), v=Sum(_VALUE))
    return Decimal(got["q"] or 0), Decimal(got["v"] or 0)


def lowest_balance(canteen: Canteen, ingredient: Ingredient, day: dt.date):
    """(date, quantity) of the lowest end-of-day balance from `day` onward. A back-dated
    issue lowers every later balance too, so it may take no more than this."""
    low_day, low = day, on_hand(canteen, ingredient, day)[0]
    later = (
        StockMovement.objects.filter(canteen=canteen, ingredient=ingredient, date__gt=day)
        .values("date")
        .annotate(q=Sum(_signed("quantity")))
        .order_by("date")
    )
    running = low
    for row in later:
        running += row["q"]
        if running < low:
            low_day, low = row["date"], running
    return low_day, low


def levels(movements, day: dt.date | None = None) -> list[Level]:
    """Stock on hand per canteen and ingredient from the `movements` queryset (already
    restricted to what the caller may see), leaving out what is used up."""
    if day is not None:
        movements = movements.filter(date__lte=day)
    rows = (
        movements.values("canteen_id", "ingredient_id")
        .annotate(q=Sum(_signed("quantity")), v=Sum(_VALUE))
        .order_by("canteen_id", "ingredient_id")
    )
    rows = [r for r in rows if r["q"] and r["q"] > 0]
    canteens = Canteen.objects.in_bulk({r["canteen_id"] for r in rows})
    ingredients = Ingredient.objects.in_bulk({r["ingredient_id"] for r in rows})
    return [
        Level(
            canteens[r["canteen_id"]],
            ingredients[r["ingredient_id"]],
            Decimal(r["q"]),
            cents(r["v"]),
        )
        for r in rows
    ]


def record_movement(
    actor,
    canteen: Canteen,
    ingredient: Ingredient,
    *,
    kind: str,
    quantity,
    date: dt.date,
    unit_cost=None,
    note: str = "",
    request=None,
) -> StockMovement:
    """Record a receipt, issue or write-off. A receipt needs its unit cost; an issue or a
    write-off takes the average cost on hand and may not take more than is on hand."""
    quantity = Decimal(quantity)
    if quantity <= 0:
        raise ValidationError({"quantity": _("数量应大于 0")})
    if ingredient.agency_id != canteen.agency_id:
        raise ValidationError({"ingredient": _("食材不属于本食堂的单位")})
    with transaction.atomic():
        # Writers of the same ingredient queue here, so two issues cannot both pass the
        # check below against the same balance.
        Ingredient.objects.select_for_update().filter(pk=ingredient.pk).first()
        if kind in OUTGOING:
            have, value = on_hand(canteen, ingredient, date)
            low_day, low = lowest_balance(canteen, ingredient, date)
            if quantity > low:
                raise ValidationError(
                    {"quantity": _("%(i)s 库存不足：%(d)s 结存 %(h)s%(u)s，不能出库 %(q)s%(u)s")
                     % {"i": ingredient.name, "d": low_day, "h": low.normalize(),
                        "q": quantity.normalize(), "u": ingredient.unit}}
                )  # fmt: skip
            unit_cost = cents(value / have) if have else ZERO
        elif kind == StockMovement.Kind.IN:
            if unit_cost is None or Decimal(unit_cost) < 0:
                raise ValidationError({"unit_cost": _("入库须填写单价")})
        else:
            raise ValidationError({"kind": _("未知的出入库类型：%(k)s") % {"k": kind}})
        row = StockMovement(
            canteen=canteen, ingredient=ingredient, kind=kind, quantity=quantity,
            unit_cost=cents(unit_cost), date=date, note=note, request=request,
        )  # fmt: skip
        return services.save(actor, row)


def daily_values(movements, start: dt.date, end: dt.date) -> list[Decimal]:
    """Stock value at the end of each day from `start` to `end` (exclusive)."""
    opening = movements.filter(date__lt=start).aggregate(v=Sum(_VALUE))["v"] or ZERO
    deltas = defaultdict(lambda: ZERO)
    inside = movements.filter(date__gte=start, date__lt=end).values("date").annotate(v=Sum(_VALUE))
    for row in inside:
        deltas[row["date"]] = row["v"]
    values, running = [], Decimal(opening)
    day = start
    while day < end:
        running += deltas[day]
        values.append(running)
        day += dt.timedelta(days=1)
    return values


def issued_value(movements, start: dt.date, end: dt.date) -> Decimal:
    """Cost of what left the store (issued and written off) from `start` to `end`."""
    qs = movements.filter(kind__in=OUTGOING, date__gte=start, date__lt=end)
    return Decimal(qs.aggregate(v=Sum(F("quantity") * F("unit_cost")))["v"] or ZERO)


def turnover_days(movements, start: dt.date, end: dt.date) -> Decimal | None:
    """Stock turnover days (库存周转天数, DB50/T 9001—2022 5.2) over [start, end):

        average stock value ÷ average daily issue value

    where the average stock value is the mean of the stock value at the end of each
    calendar day of the period, and the average daily issue value is the cost of the
    issues and write-offs (OUT + LOSS, at the average cost they left at) in the period
    divided by its number of calendar days. None when nothing left the store."""
    days = (end - start).days
    issued = issued_value(movements, start, end)
    if days <= 0 or issued <= 0:
        return None
    values = daily_values(movements, start, end)
    average_stock = sum(values, ZERO) / days
    return average_stock / (issued / days)


def movements_value(movements) -> Decimal:
    return Decimal(movements.aggregate(v=Sum(_VALUE))["v"] or ZERO)
