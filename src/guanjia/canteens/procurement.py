"""Production and procurement: portions from the forecast, ingredient quantities from the
menu's recipes, purchase requests, price inquiry (询价) and quotation comparison, the
award, receipt into stock, the supplier register and the price history.

Decisions (kept here so a reader need not guess):

* **Portions.** For each served meal the kitchen prepares
  `p50 × (1 + safety_margin_pct / 100)` portions, rounded up, but never more than the
  forecast's P90: the margin covers an ordinary day above the median, and P90 is where
  cooking more would mostly feed the waste bin.
* **Portions per dish.** Each diner is assumed to take one portion of each category on the
  menu (one 荤菜, one 素菜, one 主食, one 汤, one 水果); when a category has several dishes
  the diners split evenly between them, so each of the 三荤 gets portions ÷ 3. A dish's
  ingredients are its recipe quantities (per portion) × its portions.
* **Inquiry (询价).** DB50/T 9001—2022 5.1: a purchase above `inquiry.amount_threshold` 元
  needs quotations from at least `inquiry.min_suppliers` different suppliers. The amount
  checked is the larger of the request's estimate and the chosen quotation's total, so a
  request without a price estimate cannot slip under the threshold. Every supplier that
  answered counts as asked, an expired quotation included (the inquiry took place).
* **Comparison.** Quotation lines are compared at the normalised unit price (pack price ÷
  pack size, per stock unit). A quotation's total is Σ line quantity × unit price over the
  request's lines; a quotation must price every line. The cheapest valid (not expired on
  the day of the comparison) quotation is flagged; choosing another needs a reason, and an
  expired quotation or one from a supplier whose food licence has expired or is not on
  record (no licence number or expiry date) cannot be chosen.
* **Receipt.** Receiving an awarded request books each line into stock at the awarded
  unit price (rounded to the cent).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from . import services, stock
from .menus import day_label, meal_label
from .models import (
    Canteen,
    Forecast,
    Ingredient,
    MenuItem,
    MenuPlan,
    PurchaseLine,
    PurchaseRequest,
    Quotation,
    QuotationLine,
    StockMovement,
    Supplier,
)
from .reference import rule, rule_value

ZERO = Decimal("0")
QTY = Decimal("0.001")
SUPPLIER_FIELDS = (
    "agency", "name", "uscc", "contact", "phone", "categories", "licence_no", "licence_expiry",
    "is_active",
)  # fmt: skip
OPEN = (PurchaseRequest.Status.DRAFT, PurchaseRequest.Status.INQUIRING)


# -- portions and quantities ------------------------------------------------------------------


def portions(canteen: Canteen, forecast: Forecast) -> int:
    """Portions to prepare for one forecast meal: P50 plus the canteen's safety margin,
    rounded up, capped at P90 (see the module's decisions)."""
    margin = Decimal(1) + Decimal(canteen.safety_margin_pct) / 100
    wanted = int((Decimal(forecast.p50) * margin).to_integral_value(rounding=ROUND_CEILING))
    return min(wanted, max(forecast.p90, forecast.p50))


@dataclass
class Needs:
    """What a period's menu needs: quantity per ingredient, the portions planned per
    meal, and the menu meals that had no forecast."""

    quantities: dict[Ingredient, Decimal] = field(default_factory=dict)
    meals: list[dict] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def ingredient_needs(canteen: Canteen, start: dt.date, end: dt.date) -> Needs:
    """Ingredients for the published menu of `canteen` from `start` to `end` (exclusive)."""
    items = (
        MenuItem.objects.filter(
            plan__canteen=canteen,
            plan__status=MenuPlan.Status.PUBLISHED,
            date__gte=start,
            date__lt=end,
        )
        .select_related("dish")
        .prefetch_related("dish__recipe__ingredient")
        .order_by("date", "meal")
    )
    slots = defaultdict(list)
    for item in items:
        slots[(item.date, item.meal)].append(item.dish)
    forecasts = {
        (f.date, f.meal): f
        for f in Forecast.objects.filter(canteen=canteen, date__gte=start, date__lt=end)
    }
    needs = Needs()
    totals: dict[Ingredient, Decimal] = defaultdict(lambda: ZERO)
    for (day, meal), dishes in sorted(slots.items()):
        f = forecasts.get((day, meal))
        if f is None:
            needs.missing.append(f"{day_label(day)}{meal_label(meal)}")
            continue
        served = portions(canteen, f)
        per_category = defaultdict(int)
        for dish in dishes:
            per_category[dish.category] += 1
        for dish in dishes:
            dish_portions = Decimal(served) / per_category[dish.category]
            for line in dish.recipe.all():
                totals[line.ingredient] += line.quantity * dish_portions
        needs.meals.append({"date": day, "meal": meal, "p50": f.p50, "p90": f.p90,
                            "portions": served})  # fmt: skip
    needs.quantities = {
        i: q.quantize(QTY, rounding=ROUND_CEILING)
        for i, q in sorted(totals.items(), key=lambda kv: kv[0].name)
    }
    return needs


def latest_price(canteen: Canteen, ingredient: Ingredient) -> Decimal:
    """The last known unit price of `ingredient` for the canteen's agency (0 if none)."""
    history = price_history(ingredient, canteens=Canteen.objects.filter(agency=canteen.agency))
    return history[-1]["unit_price"] if history else ZERO


@transaction.atomic
def request_from_forecast(
    actor, canteen: Canteen, start: dt.date, end: dt.date, needed_on: dt.date | None = None,
    note: str = "",
) -> PurchaseRequest:  # fmt: skip
    """A purchase request for the ingredients of the published menu from `start` to `end`
    (exclusive), sized from the forecast. Refused when a menu meal has no forecast."""
    if end <= start:
        raise ValidationError({"end": _("截止日期应晚于起始日期")})
    needs = ingredient_needs(canteen, start, end)
    if needs.missing:
        raise ValidationError(
            [_("以下餐次没有就餐预测，请先生成预测：") + "、".join(needs.missing)]
        )
    if not needs.quantities:
        raise ValidationError(
            _("%(s)s 至 %(e)s 没有已发布菜单的配方用量，无法生成采购申请")
            % {"s": start, "e": end - dt.timedelta(days=1)}
        )
    request = services.save(
        actor,
        PurchaseRequest(
            canteen=canteen,
            needed_on=needed_on or start,
            note=note or _("按 %(s)s 起菜单与就餐预测生成") % {"s": start},
            created_by=actor,
        ),
    )
    for ingredient, quantity in needs.quantities.items():
        services.save(
            actor,
            PurchaseLine(
                request=request,
                ingredient=ingredient,
                quantity=quantity,
                estimated_price=latest_price(canteen, ingredient),
            ),
        )
    return request


def estimated_amount(request: PurchaseRequest) -> Decimal:
    return sum((line.quantity * line.estimated_price for line in request.lines.all()), ZERO)


# -- suppliers ----------------------------------------------------------------------------


def save_supplier(actor, supplier: Supplier | None = None, **fields) -> Supplier:
    services.check_fields(fields, SUPPLIER_FIELDS)
    supplier = supplier or Supplier()
    for name, value in fields.items():
        setattr(supplier, name, value)
    return services.save(actor, supplier)


class WarnDays(dict):
    """`supplier.licence_warn_days` per agency id, each read from the rules once: a list of
    suppliers asks for it once per agency instead of once per row."""

    def of(self, supplier: Supplier) -> int:
        if supplier.agency_id not in self:
            self[supplier.agency_id] = int(
                rule_value("supplier.licence_warn_days", supplier.agency)
            )
        return self[supplier.agency_id]


def licence_state(
    supplier: Supplier, today: dt.date | None = None, warn_days: WarnDays | None = None
) -> str:
    """ "expired", "expiring" (within `supplier.licence_warn_days`), "missing" (no licence
    number or no expiry date on record) or "valid"."""
    today = today or timezone.localdate()
    if supplier.licence_expiry is None:
        return "missing"
    if supplier.licence_expiry < today:
        return "expired"
    if not supplier.licence_no.strip():
        return "missing"
    warn = (WarnDays() if warn_days is None else warn_days).of(supplier)
    if supplier.licence_expiry <= today + dt.timedelta(days=warn):
        return "expiring"
    return "valid"


def licence_states(suppliers, today: dt.date | None = None) -> dict[int, str]:
    """licence_state of each supplier by id, the warn days read once per agency."""
    today, warn_days = today or timezone.localdate(), WarnDays()
    return {s.pk: licence_state(s, today, warn_days) for s in suppliers}


# -- quotations ---------------------------------------------------------------------------


@transaction.atomic
def add_quotation(
    actor,
    request: PurchaseRequest,
    supplier: Supplier,
    *,
    received_on: dt.date,
    valid_until: dt.date,
    prices: dict[int, tuple[Decimal, Decimal]],
    lead_time_days: int = 1,
) -> Quotation:
    """Record a supplier's quotation. `prices` maps each purchase line's id to
    (pack_size, pack_price); every line of the request must be priced."""
    if request.status not in OPEN:
        raise ValidationError(
            _("采购申请已%(s)s，不能再登记报价") % {"s": request.get_status_display()}
        )
    if supplier.agency_id != request.canteen.agency_id:
        raise ValidationError({"supplier": _("供应商不在本单位供应商名录中")})
    if not supplier.is_active:
        raise ValidationError({"supplier": _("供应商已停用")})
    if valid_until < received_on:
        raise ValidationError({"valid_until": _("有效期至不能早于报价日期")})
    if Quotation.objects.filter(request=request, supplier=supplier).exists():
        raise ValidationError({"supplier": _("该供应商已报价")})
    lines = {line.pk: line for line in request.lines.select_related("ingredient")}
    unknown = set(prices) - set(lines)
    missing = [lines[pk].ingredient.name for pk in lines if pk not in prices]
    if unknown:
        raise ValidationError(_("报价明细不属于本采购申请"))
    if missing:
        raise ValidationError(_("报价须包含全部采购明细，缺少：%(m)s") % {"m": "、".join(missing)})
    quotation = services.save(
        actor,
        Quotation(
            request=request,
            supplier=supplier,
            received_on=received_on,
            valid_until=valid_until,
            lead_time_days=lead_time_days,
        ),
    )
    for pk, (pack_size, pack_price) in prices.items():
        if Decimal(pack_size) <= 0 or Decimal(pack_price) < 0:
            raise ValidationError(
                _("%(i)s：包装数量应大于 0，价格不能为负") % {"i": lines[pk].ingredient.name}
            )
        services.save(
            actor,
            QuotationLine(
                quotation=quotation,
                line=lines[pk],
                pack_size=Decimal(pack_size),
                pack_price=Decimal(pack_price),
            ),
        )
    if request.status == PurchaseRequest.Status.DRAFT:
        request.status = PurchaseRequest.Status.INQUIRING
        services.save(actor, request)
    return quotation


def quotation_total(quotation: Quotation) -> Decimal:
    return sum(
        (ql.line.quantity * ql.unit_price for ql in quotation.lines.select_related("line")), ZERO
    )


@dataclass
class Compared:
    quotation: Quotation
    total: Decimal
    expired: bool
    licence: str
    cheapest: bool = False
    unit_prices: dict[int, Decimal] = field(default_factory=dict)  # purchase line id → price

    @property
    def supplier(self):
        return self.quotation.supplier


def compare(request: PurchaseRequest, today: dt.date | None = None) -> list[Compared]:
    """The request's quotations side by side, cheapest total first; the cheapest valid
    one flagged, expired ones marked."""
    today = today or timezone.localdate()
    rows, warn_days = [], WarnDays()
    for q in request.quotations.select_related("supplier", "supplier__agency").prefetch_related(
        "lines__line"
    ):
        prices = {ql.line_id: ql.unit_price for ql in q.lines.all()}
        total = sum((ql.line.quantity * ql.unit_price for ql in q.lines.all()), ZERO)
        licence = licence_state(q.supplier, today, warn_days)
        rows.append(Compared(q, total, q.valid_until < today, licence, False, prices))
    rows.sort(key=lambda r: (r.total, r.quotation.pk))
    valid = [r for r in rows if not r.expired]
    if valid:
        valid[0].cheapest = True
    return rows


@dataclass
class Inquiry:
    amount: Decimal
    threshold: Decimal
    min_suppliers: int
    suppliers: int
    source: str

    @property
    def required(self) -> bool:
        return self.amount > self.threshold

    @property
    def satisfied(self) -> bool:
        return not self.required or self.suppliers >= self.min_suppliers


def inquiry(request: PurchaseRequest, chosen: Quotation | None = None) -> Inquiry:
    """Whether the request needs a price inquiry and whether it has enough quotations.
    The amount is the larger of the estimate and the chosen quotation's total (before a
    choice, the lowest quotation's)."""
    agency = request.canteen.agency
    amount = estimated_amount(request)
    if chosen is not None:
        amount = max(amount, quotation_total(chosen))
    elif quoted := [quotation_total(q) for q in request.quotations.all()]:
        amount = max(amount, min(quoted))  # before the award: at least the lowest quote
    return Inquiry(
        amount=amount,
        threshold=rule_value("inquiry.amount_threshold", agency),
        min_suppliers=int(rule_value("inquiry.min_suppliers", agency)),
        suppliers=request.quotations.values("supplier").distinct().count(),
        source=rule("inquiry.amount_threshold", agency).source,
    )


@transaction.atomic
def award(
    actor, request: PurchaseRequest, quotation: Quotation, reason: str = "",
    today: dt.date | None = None,
) -> PurchaseRequest:  # fmt: skip
    """Choose the supplier. Refused when the inquiry has too few suppliers (5.1), the
    quotation has expired or its supplier's licence has (or is not on record), or when it
    is not the cheapest valid quotation and no reason is given."""
    today = today or timezone.localdate()
    if request.status not in OPEN:
        raise ValidationError(
            _("采购申请已%(s)s，不能选定供应商") % {"s": request.get_status_display()}
        )
    if quotation.request_id != request.pk:
        raise ValidationError({"quotation": _("报价不属于本采购申请")})
    if quotation.valid_until < today:
        raise ValidationError(
            {"quotation": _("%(s)s 的报价已于 %(d)s 过期，不能选定")
             % {"s": quotation.supplier.name, "d": quotation.valid_until}}
        )  # fmt: skip
    licence = licence_state(quotation.supplier, today)
    if licence == "expired":
        raise ValidationError(
            {"quotation": _("%(s)s 的食品经营许可证已于 %(d)s 过期，不能选定")
             % {"s": quotation.supplier.name, "d": quotation.supplier.licence_expiry}}
        )  # fmt: skip
    if licence == "missing":
        raise ValidationError(
            {"quotation": _("%(s)s 未登记食品经营许可证（许可证编号及有效期），不能选定")
             % {"s": quotation.supplier.name}}
        )  # fmt: skip
    check = inquiry(request, quotation)
    if not check.satisfied:
        raise ValidationError(
            _("采购金额 %(a)s 元超过 %(t)s 元，按 DB50/T 9001—2022 5.1 须向不少于 %(n)d 家供应商"
              "询价，目前只有 %(h)d 家报价") % {"a": stock.cents(check.amount),
              "t": check.threshold.normalize(), "n": check.min_suppliers, "h": check.suppliers}
        )  # fmt: skip
    cheapest = next((r for r in compare(request, today) if r.cheapest), None)
    reason = (reason or "").strip()
    if cheapest and cheapest.quotation.pk != quotation.pk and not reason:
        raise ValidationError(
            {"reason": _("未选择最低价报价（最低为 %(s)s，合计 %(t)s 元），须填写选择理由")
             % {"s": cheapest.supplier.name, "t": stock.cents(cheapest.total)}}
        )  # fmt: skip
    request.awarded = quotation
    request.award_reason = reason
    request.status = PurchaseRequest.Status.AWARDED
    return services.save(actor, request)


@transaction.atomic
def receive(actor, request: PurchaseRequest, day: dt.date | None = None) -> list[StockMovement]:
    """Book an awarded request into stock at the awarded unit prices."""
    if request.status != PurchaseRequest.Status.AWARDED or request.awarded is None:
        raise ValidationError(_("只有已选定供应商的采购申请才能入库"))
    day = day or timezone.localdate()
    rows = []
    for ql in request.awarded.lines.select_related("line__ingredient"):
        rows.append(
            stock.record_movement(
                actor,
                request.canteen,
                ql.line.ingredient,
                kind=StockMovement.Kind.IN,
                quantity=ql.line.quantity,
                unit_cost=ql.unit_price,
                date=day,
                note=_("采购入库：%(s)s") % {"s": request.awarded.supplier.name},
                request=request,
            )
        )
    request.status = PurchaseRequest.Status.RECEIVED
    services.save(actor, request)
    return rows


@transaction.atomic
def cancel(actor, request: PurchaseRequest) -> PurchaseRequest:
    if request.status == PurchaseRequest.Status.RECEIVED:
        raise ValidationError(_("已入库的采购申请不能取消"))
    request.status = PurchaseRequest.Status.CANCELLED
    return services.save(actor, request)


# -- price history ------------------------------------------------------------------------


def price_history(ingredient: Ingredient, canteens) -> list[dict]:
    """Unit prices of `ingredient` over time in `canteens` (a queryset the caller may
    see): awarded quotation lines (dated by the quotation) and stock receipts, oldest
    first."""
    rows = []
    awarded = QuotationLine.objects.filter(
        line__ingredient=ingredient,
        quotation__request__canteen__in=canteens,
        quotation__request__awarded=F("quotation"),
    ).select_related("quotation__supplier", "quotation__request__canteen")
    for ql in awarded:
        rows.append({
            "date": ql.quotation.received_on,
            "source": _("选定报价"),
            "canteen": ql.quotation.request.canteen.name,
            "supplier": ql.quotation.supplier.name,
            "unit_price": stock.cents(ql.unit_price),
        })  # fmt: skip
    receipts = StockMovement.objects.filter(
        ingredient=ingredient, canteen__in=canteens, kind=StockMovement.Kind.IN
    ).select_related("canteen", "request__awarded__supplier")
    for m in receipts:
        supplier = m.request.awarded.supplier.name if m.request and m.request.awarded else ""
        rows.append({
            "date": m.date, "source": _("入库"), "canteen": m.canteen.name,
            "supplier": supplier, "unit_price": m.unit_cost,
        })  # fmt: skip
    rows.sort(key=lambda r: (r["date"], r["source"] == _("入库")))
    return rows
