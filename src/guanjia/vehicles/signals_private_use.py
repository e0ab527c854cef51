"""私车公养 signals found in the fuel and maintenance records alone (before telemetry).

Each detector is a function over the records in scope that returns case proposals with
their evidence; `detect()` runs them and opens the new ones (`cases.open_cases`, idempotent
through the dedup key). Detectors are set-based — one or two queries each, whatever the
number of cars — so a province's year of refuellings runs in one pass.

* fuel_tank_overfill — one refuelling above tank × (1 + `fuel.tank_tolerance`); one case
  per refuelling.
* fuel_card_shared — one card filled two or more registered cars in a calendar month; per
  card and month.
* fuel_over_norm — litres per 100 km of a month above the car's norm × (1 +
  `fuel.over_norm_ratio`), over at least `fuel.min_distance_km`; per car and month.
* fuel_unregistered — a card filled a plate not in the register (私油公供); per card, plate
  and month.
* maintenance_unregistered — a bill for a plate not in the register; per bill.
* maintenance_other_agency — a bill for a registered car of an agency outside the payer's
  tree; per bill.

Sources: 《党政机关公务用车管理办法》(中办发〔2017〕71号) 第二十六条 item 3 "公车私用、私车公养"
and item 7 "为非本单位车辆报销运行维护费用" (rules.md §2.4); "私车公养" includes "私油公供"
(用公务加油卡给私车加油) in the discipline bodies' definition (same section).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, FloatField, Value
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanjia.core.models import Agency

from . import cases
from .cases import Proposal
from .lifecycle import require, threshold_groups
from .models import EnergyType, Maintenance, Refuelling, Threshold, Vehicle

ITEM3 = "《党政机关公务用车管理办法》（中办发〔2017〕71号）第二十六条第（三）项：公车私用、私车公养"
PRIVATE_FUEL = ITEM3 + "；私车公养包括“私油公供”（用公务加油卡给私车加油）"
ITEM7 = (
    "《党政机关公务用车管理办法》（中办发〔2017〕71号）第二十六条第（七）项："
    "为非本单位车辆报销运行维护费用"
)

TANK = cases.register_rule("fuel_tank_overfill", _("单次加油量超过油箱容积"), PRIVATE_FUEL)
SHARED = cases.register_rule("fuel_card_shared", _("一张加油卡为多辆车加油"), PRIVATE_FUEL)
NORM = cases.register_rule("fuel_over_norm", _("百公里油耗超出车型定额"), PRIVATE_FUEL)
FUEL_UNREG = cases.register_rule("fuel_unregistered", _("加油卡为登记外车辆加油"), PRIVATE_FUEL)
MNT_UNREG = cases.register_rule("maintenance_unregistered", _("维修结算车牌不在车辆登记中"), ITEM3)
MNT_OTHER = cases.register_rule("maintenance_other_agency", _("为非本单位车辆支付维修费"), ITEM7)
PRIVATE_USE_RULES = (TANK, SHARED, NORM, FUEL_UNREG, MNT_UNREG, MNT_OTHER)

LIQUID_FUELS = (
    EnergyType.GASOLINE,
    EnergyType.DIESEL,
    EnergyType.PHEV,
    EnergyType.EREV,
    EnergyType.HEV,
)
EVIDENCE_ROWS = 100  # refuelling ids kept in a case's evidence


class Window:
    """What the detectors look at: records the actor may add cases for, in an agency's
    tree, in [since, until)."""

    def __init__(self, actor=None, agency: Agency | None = None, since=None, until=None):
        self.actor, self.agency = actor, agency
        self.since, self.until = _aware(since), _aware(until)

    def records(self, model, time_field: str, agency_field: str = "agency"):
        qs = (
            model.objects.all() if self.actor is None else model.objects.restrict(self.actor, "add")
        )
        if self.agency is not None:
            qs = qs.filter(**{f"{agency_field}__path__startswith": self.agency.path})
        if self.since is not None:
            since = self.since if time_field == "at" else self.since.date()
            qs = qs.filter(**{f"{time_field}__gte": since})
        if self.until is not None:
            until = self.until if time_field == "at" else self.until.date()
            qs = qs.filter(**{f"{time_field}__lt": until})
        return qs


def _aware(value):
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    return timezone.make_aware(dt.datetime.combine(value, dt.time.min))


def _month(at: dt.datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m")


def _num(d) -> float | None:
    return None if d is None else float(d)


def _per_agency(key: str) -> tuple[Decimal, dict[int, Decimal]]:
    rows = list(Threshold.objects.filter(key=key).values_list("agency_id", "value"))
    default = next((v for a, v in rows if a is None), None)
    if default is None:
        raise LookupError(f"阈值 {key} 未配置")
    return default, {a: v for a, v in rows if a is not None}


# -- the detectors --------------------------------------------------------------------------


def tank_overfill(window: Window) -> list[Proposal]:
    """Refuellings larger than the car's tank (litres > tank_l × (1 + tolerance))."""
    out = []
    base = window.records(Refuelling, "at").filter(vehicle__tank_l__isnull=False)
    for tolerance, q in threshold_groups("fuel.tank_tolerance"):
        limit = ExpressionWrapper(
            F("vehicle__tank_l") * Value(1 + tolerance),
            output_field=DecimalField(max_digits=9, decimal_places=3),
        )
        rows = (
            base.filter(q)
            .annotate(limit=limit)
            .filter(litres__gt=F("limit"))
            .values_list(
                "pk", "agency_id", "vehicle_id", "plate", "at", "litres", "vehicle__tank_l",
                "card__number", "station", "amount",
            )
        )  # fmt: skip
        for pk, aid, vid, plate, at, litres, tank, card, station, amount in rows:
            out.append(
                Proposal(
                    rule=TANK,
                    agency_id=aid,
                    vehicle_id=vid,
                    dedup_key=f"{TANK}:{pk}",
                    title=f"{plate} {timezone.localtime(at):%Y-%m-%d} 加油 {litres} 升，"
                    f"超过油箱容积 {tank} 升",
                    episode_start=at,
                    evidence={
                        "refuelling_ids": [pk],
                        "plate": plate,
                        "card": card,
                        "at": timezone.localtime(at).isoformat(),
                        "litres": _num(litres),
                        "amount": _num(amount),
                        "tank_l": _num(tank),
                        "tolerance": _num(tolerance),
                        "limit_l": round(float(tank) * (1 + float(tolerance)), 2),
                        "station": station,
                    },
                )
            )
    return out


def card_shared(window: Window) -> list[Proposal]:
    """Cards that filled two or more registered cars in one calendar month."""
    # Registered cars only: a card filling an unregistered plate is `fuel_unregistered`,
    # one episode should not open two cases.
    base = window.records(Refuelling, "at").filter(card__isnull=False, vehicle__isnull=False)
    suspects = (
        base.values("card_id").annotate(n=Count("plate", distinct=True)).filter(n__gt=1)
    ).values_list("card_id", flat=True)
    groups: dict[tuple[int, str], list] = defaultdict(list)
    rows = (
        base.filter(card_id__in=list(suspects))
        .order_by("card_id", "at")
        .values_list(
            "pk", "card_id", "card__number", "card__agency_id", "card__vehicle__plate", "plate",
            "at", "litres", "vehicle_id",
        )
    )  # fmt: skip
    for row in rows.iterator(chunk_size=2000):
        groups[(row[1], _month(row[6]))].append(row)
    out = []
    for (card_id, month), items in groups.items():
        plates: dict[str, dict] = {}
        for _pk, _c, _n, _a, _b, plate, _at, litres, _v in items:
            p = plates.setdefault(plate, {"plate": plate, "count": 0, "litres": 0.0})
            p["count"] += 1
            p["litres"] = round(p["litres"] + float(litres), 2)
        if len(plates) < 2:
            continue
        _pk, _c, number, agency_id, bound, *_rest = items[0]
        bound_vehicle = next((i[8] for i in items if i[5] == bound), None)
        out.append(
            Proposal(
                rule=SHARED,
                agency_id=agency_id,
                vehicle_id=bound_vehicle,
                dedup_key=f"{SHARED}:{card_id}:{month}",
                title=f"加油卡 {number} 于 {month} 为 {len(plates)} 个车牌加油："
                + "、".join(sorted(plates)),
                episode_start=items[0][6],
                episode_end=items[-1][6],
                evidence={
                    "card": number,
                    "bound_plate": bound,
                    "month": month,
                    "plates": sorted(plates.values(), key=lambda p: -p["count"]),
                    "refuelling_ids": [i[0] for i in items][:EVIDENCE_ROWS],
                    "first": timezone.localtime(items[0][6]).isoformat(),
                    "last": timezone.localtime(items[-1][6]).isoformat(),
                },
            )
        )
    return out


def fuel_over_norm(window: Window) -> list[Proposal]:
    """Cars whose litres per 100 km in a month exceed their norm by more than the ratio.

    Between consecutive refuellings with odometer readings, the litres of the later fill
    were burnt over the distance between the two readings; a month sums the segments that
    end in it. Months shorter than `fuel.min_distance_km` are not judged."""
    ratio_default, ratios = _per_agency("fuel.over_norm_ratio")
    min_default, mins = _per_agency("fuel.min_distance_km")
    lead_in = Window(window.actor, window.agency, None, window.until)
    if window.since is not None:  # the reading before the first segment
        lead_in.since = window.since - dt.timedelta(days=62)
    as_float = {f"f_{n}": Cast(n, FloatField()) for n in ("litres", "odometer_km")}
    rows = (
        lead_in.records(Refuelling, "at")
        .filter(
            vehicle__isnull=False,
            odometer_km__isnull=False,
            vehicle__fuel_norm_l_100km__isnull=False,
            vehicle__energy_type__in=LIQUID_FUELS,
        )
        .annotate(**as_float)
        .order_by("vehicle_id", "at", "pk")
        .values_list("pk", "vehicle_id", "agency_id", "at", "f_litres", "f_odometer_km")
    )
    # Plain floats and (year, month) keys: a year of a province's refuellings is millions
    # of rows, and Decimal conversion and strftime per row would dominate.
    tz = timezone.get_default_timezone()
    since = window.since
    months: dict[tuple[int, int, int], list] = {}  # (car, year, month) → [aid, L, km, ids, t0, t1]
    prev_vid, prev_km = None, 0.0
    for pk, vid, aid, at, litres, km in rows.iterator(chunk_size=5000):
        if vid == prev_vid and km > prev_km:
            if since is None or at >= since:
                local = at.astimezone(tz)
                m = months.get((vid, local.year, local.month))
                if m is None:
                    m = months[(vid, local.year, local.month)] = [aid, 0.0, 0.0, [], at, at]
                m[1] += litres
                m[2] += km - prev_km
                m[3].append(pk)
                m[5] = at
        if vid != prev_vid or km >= prev_km:
            prev_vid, prev_km = vid, km
    cars = dict(
        Vehicle.objects.filter(pk__in={k[0] for k in months}).values_list("pk", "fuel_norm_l_100km")
    )
    flagged = []
    for (vid, year, month), (aid, litres, km, ids, t0, t1) in months.items():
        ratio = ratios.get(aid, ratio_default)
        if km <= 0 or km < float(mins.get(aid, min_default)):
            continue
        norm = cars[vid]
        per_100 = litres * 100 / km
        limit = float(norm) * (1 + float(ratio))
        if per_100 > limit:
            flagged.append((vid, f"{year}-{month:02d}", aid, litres, km, ids, t0, t1, norm, ratio))
    plates = dict(Vehicle.objects.filter(pk__in={f[0] for f in flagged}).values_list("pk", "plate"))
    out = []
    for vid, month, aid, litres, km, ids, t0, t1, norm, ratio in flagged:
        per_100 = litres * 100 / km
        out.append(
            Proposal(
                rule=NORM,
                agency_id=aid,
                vehicle_id=vid,
                dedup_key=f"{NORM}:{vid}:{month}",
                title=f"{plates[vid]} {month} 百公里油耗 {per_100:.1f} 升，"
                f"定额 {norm} 升（超出 {(per_100 / float(norm) - 1) * 100:.0f}%）",
                episode_start=t0,
                episode_end=t1,
                evidence={
                    "plate": plates[vid],
                    "month": month,
                    "litres": round(litres, 2),
                    "km": round(km, 1),
                    "l_per_100km": round(per_100, 2),
                    "norm_l_per_100km": _num(norm),
                    "ratio": _num(ratio),
                    "limit_l_per_100km": round(float(norm) * (1 + float(ratio)), 2),
                    "refuelling_ids": ids[:EVIDENCE_ROWS],
                },
            )
        )
    return out


def _registered_plates():
    return Vehicle.objects.values("plate")


def fuel_unregistered(window: Window) -> list[Proposal]:
    """A fuel card filled a plate that is not in the register (私油公供)."""
    rows = (
        window.records(Refuelling, "at")
        .filter(card__isnull=False, vehicle__isnull=True)
        .exclude(plate="")
        .exclude(plate__in=_registered_plates())
        .order_by("card_id", "plate", "at")
        .values_list(
            "pk", "card_id", "card__number", "card__vehicle_id", "card__vehicle__plate",
            "agency_id", "plate", "at", "litres", "amount", "station",
        )
    )  # fmt: skip
    groups: dict[tuple, list] = defaultdict(list)
    for row in rows.iterator(chunk_size=2000):
        groups[(row[1], row[6], _month(row[7]))].append(row)
    out = []
    for (card_id, plate, month), items in groups.items():
        _pk, _c, number, bound_vid, bound_plate, aid, *_rest = items[0]
        litres = sum(float(i[8]) for i in items)
        out.append(
            Proposal(
                rule=FUEL_UNREG,
                agency_id=aid,
                vehicle_id=bound_vid,
                dedup_key=f"{FUEL_UNREG}:{card_id}:{plate}:{month}",
                title=f"加油卡 {number} 于 {month} 为登记外车牌 {plate} 加油 {len(items)} 次",
                episode_start=items[0][7],
                episode_end=items[-1][7],
                evidence={
                    "card": number,
                    "bound_plate": bound_plate,
                    "plate": plate,
                    "month": month,
                    "count": len(items),
                    "litres": round(litres, 2),
                    "amount": round(sum(float(i[9]) for i in items), 2),
                    "refuelling_ids": [i[0] for i in items][:EVIDENCE_ROWS],
                    "stations": sorted({i[10] for i in items if i[10]}),
                },
            )
        )
    return out


def _maintenance_evidence(pk, plate, date, amount, shop, items, kind) -> dict:
    return {
        "maintenance_ids": [pk],
        "plate": plate,
        "date": date.isoformat(),
        "amount": _num(amount),
        "shop": shop,
        "kind": kind,
        "items": items[:500],
    }


def maintenance_unregistered(window: Window) -> list[Proposal]:
    """Maintenance billed for a plate that is not in the register."""
    rows = (
        window.records(Maintenance, "date")
        .filter(vehicle__isnull=True)
        .exclude(status=Maintenance.Status.REJECTED)
        .exclude(plate__in=_registered_plates())
        .values_list("pk", "agency_id", "plate", "date", "amount", "shop__name", "items", "kind")
    )
    return [
        Proposal(
            rule=MNT_UNREG,
            agency_id=aid,
            dedup_key=f"{MNT_UNREG}:{pk}",
            title=f"{date:%Y-%m-%d} 维修结算车牌 {plate} 不在车辆登记中（{amount} 元）",
            episode_start=date,
            evidence=_maintenance_evidence(pk, plate, date, amount, shop, items, kind),
        )
        for pk, aid, plate, date, amount, shop, items, kind in rows
    ]


def maintenance_other_agency(window: Window) -> list[Proposal]:
    """Maintenance paid by an agency for a registered car of an agency outside its tree."""
    rows = (
        window.records(Maintenance, "date")
        .filter(vehicle__isnull=False)
        .exclude(status=Maintenance.Status.REJECTED)
        .exclude(vehicle__agency__path__startswith=F("agency__path"))
        .values_list(
            "pk", "agency_id", "vehicle_id", "plate", "date", "amount", "shop__name", "items",
            "kind", "vehicle__agency__name", "agency__name",
        )
    )  # fmt: skip
    return [
        Proposal(
            rule=MNT_OTHER,
            agency_id=aid,
            vehicle_id=vid,
            dedup_key=f"{MNT_OTHER}:{pk}",
            title=f"{payer} 为 {owner} 的车辆 {plate} 支付维修费 {amount} 元",
            episode_start=date,
            evidence=_maintenance_evidence(pk, plate, date, amount, shop, items, kind)
            | {"payer": payer, "owner": owner},
        )
        for pk, aid, vid, plate, date, amount, shop, items, kind, owner, payer in rows
    ]


DETECTORS = {
    TANK: tank_overfill,
    SHARED: card_shared,
    NORM: fuel_over_norm,
    FUEL_UNREG: fuel_unregistered,
    MNT_UNREG: maintenance_unregistered,
    MNT_OTHER: maintenance_other_agency,
}


def detect(actor, *, agency=None, since=None, until=None, rules=None) -> dict:
    """Run the detectors over the records in scope and open the new cases.

    Returns {"found": {rule: n}, "opened": {rule: n}, "case_ids": [...]}: found counts every
    episode seen (already known ones included), opened only those new."""
    require(actor, "add")
    window = Window(actor, agency, since, until)
    found, opened, ids = {}, {}, []
    for rule in rules or DETECTORS:
        if rule not in DETECTORS:
            raise ValueError(f"未知规则：{rule}")
        proposals = DETECTORS[rule](window)
        new = cases.open_cases(actor, proposals)
        found[rule], opened[rule] = len(proposals), len(new)
        ids += [c.pk for c in new]
    return {"found": found, "opened": opened, "case_ids": ids}
