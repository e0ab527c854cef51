"""The configuration audit: cars above their configuration standard (超标准) and agencies
above their quota (超编制), each finding with the threshold, the value and the source.

Which standard measures a car: the active ConfigurationStandard rows of its category (or
of any category), its body type (or any) and its region (or national), at the car's tier —
"basic" unless an ExceptionApproval grants "need" or "special", in which case the approved
tier is used (falling back to the highest lower tier that has a standard for the body type)
and the approval is cited in every reason. Standards restricted to new-energy cars apply to
new-energy cars only; for each limit (price, displacement) the widest applicable ceiling
counts, so a new-energy sedan of any category may cost up to 18万元 while a petrol sedan of
机要通信 stays at 12万元. A standard without ceilings (特种专业技术用车, set by departments)
flags nothing. A car whose body type no standard of its tier covers (a medium bus without an
approval) is flagged as needing approval.

Further rules of §2.2 flagged as reasons: an imported car (党政机关应当配备使用国产汽车) and an
off-road car without an approval (越野车不得作为领导干部固定用车；确需越野车的按程序报批).

Disposed cars are not audited. Quotas count cars in service, sealed or in repair per agency
and category; an agency with quotas is over in a category when it holds more cars than the
quota (a category without a quota row counts as 0); agencies without any quota row are
listed under `no_quota` rather than flagged.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import Count

from guanjia.core.scope import subtree_q

from .models import (
    NEW_ENERGY,
    BodyType,
    Category,
    ConfigurationStandard,
    ExceptionApproval,
    Quota,
    Vehicle,
)

TIERS = ("basic", "need", "special")
TIER_LABELS = dict(ConfigurationStandard.Tier.choices)
COUNTED = (Vehicle.Status.IN_SERVICE, Vehicle.Status.SEALED, Vehicle.Status.IN_REPAIR)
RULES_2017 = "《党政机关公务用车管理办法》（中办发〔2017〕71号）"
DOMESTIC_SOURCE = RULES_2017 + "：党政机关应当配备使用国产汽车"
DOMESTIC_URL = "http://news.0752qc.com/news-93713.html"
OFF_ROAD_SOURCE = (
    RULES_2017 + "：越野车不得作为领导干部固定用车；确需越野车的，按程序报批后可配备国产越野车"
)
OFF_ROAD_URL = "https://xiangshen.net/jjjc/2025/0507/c301a23280/page.htm"
APPROVAL_SOURCE = RULES_2017 + "：确因工作需要超出规定标准配备的，必须报省级公务用车主管部门批准"


def _wan(value: Decimal) -> str:
    """120000 → "12万", 158000 → "15.8万"."""
    text = f"{Decimal(value) / 10000:.2f}".rstrip("0").rstrip(".")
    return f"{text}万"


def _litres(value: Decimal) -> str:
    return f"{Decimal(value):.2f}".rstrip("0").rstrip(".") + "升"


class Standards:
    """The active configuration standards, loaded once, matched to cars in memory."""

    def __init__(self, rows=None):
        rows = (
            list(ConfigurationStandard.objects.filter(is_active=True).select_related("region"))
            if rows is None
            else list(rows)
        )
        self.rows = rows

    def _applies(self, s: ConfigurationStandard, car: Vehicle) -> bool:
        if s.category and s.category != car.category:
            return False
        if s.body_types and car.body_type not in s.body_types.split():
            return False
        if s.new_energy_only and car.energy_type not in NEW_ENERGY:
            return False
        if s.region_id:
            region_path = car.agency.region.path if car.agency.region_id else ""
            if not region_path.startswith(s.region.path):
                return False
        return True

    def for_car(self, car: Vehicle, tier: str) -> tuple[str, list[ConfigurationStandard]]:
        """(the tier used, the standards measuring `car` at it): the approved tier, else
        the highest lower tier with a category standard for the car's body type."""
        applicable = [s for s in self.rows if self._applies(s, car)]
        for t in reversed(TIERS[: TIERS.index(tier) + 1]):
            own = [s for s in applicable if s.tier == t and not s.new_energy_only]
            if own:
                nev = [
                    s
                    for s in applicable
                    if s.new_energy_only and TIERS.index(s.tier) <= TIERS.index(t)
                ]
                return t, own + nev
        return tier, [s for s in applicable if s.new_energy_only]


def _approval_ref(approval: ExceptionApproval | None) -> dict | None:
    if approval is None:
        return None
    return {
        "id": approval.pk,
        "tier": approval.tier,
        "tier_label": TIER_LABELS.get(approval.tier, approval.tier),
        "document_number": approval.document_number,
        "approved_by": approval.approved_by,
        "approved_on": approval.approved_on.isoformat(),
    }


def _reason(rule, field, limit, value, source, source_url, message, approval):
    reason = {
        "rule": rule,
        "field": field,
        "limit": limit,
        "value": value,
        "source": source,
        "source_url": source_url,
        "message": message,
    }
    if approval is not None:
        reason["approval"] = approval
        reason["message"] += f"（已按批准文件{approval['document_number']}核定的档次衡量）"
    return reason


def car_reasons(car: Vehicle, standards: Standards, approval=None) -> list[dict]:
    """Why `car` is above its standard (empty when it is not)."""
    approved_tier = approval.tier if approval is not None else "basic"
    ref = _approval_ref(approval)
    reasons = []
    category_label = Category(car.category).label if car.category in Category.values else ""
    if not car.is_domestic:
        reasons.append(
            _reason(
                "domestic",
                "is_domestic",
                True,
                False,
                DOMESTIC_SOURCE,
                DOMESTIC_URL,
                "进口车辆：党政机关应当配备使用国产汽车",
                None,
            )
        )
    if car.body_type == BodyType.OFF_ROAD:
        if approval is None:
            reasons.append(
                _reason(
                    "off_road",
                    "body_type",
                    None,
                    car.body_type,
                    OFF_ROAD_SOURCE,
                    OFF_ROAD_URL,
                    "越野车未经批准配备：确需越野车的须按程序报批",
                    None,
                )
            )
        return reasons  # no ceiling is set for approved off-road cars
    _tier, rows = standards.for_car(car, approved_tier)
    category_rows = [s for s in rows if not s.new_energy_only]
    if not category_rows:
        body = BodyType(car.body_type).label if car.body_type in BodyType.values else car.body_type
        reasons.append(
            _reason(
                "needs_approval",
                "body_type",
                None,
                car.body_type,
                APPROVAL_SOURCE,
                OFF_ROAD_URL,
                f"{category_label}按{TIER_LABELS[approved_tier]}不得配备{body}，"
                "须报省级公务用车主管部门批准",
                ref,
            )
        )
        return reasons
    for field, value, fmt in (
        ("purchase_price", car.purchase_price, _wan),
        ("displacement_l", car.displacement_l, _litres),
    ):
        limit_field = "max_price" if field == "purchase_price" else "max_displacement_l"
        # A field measured by no standard here has no ceiling (the NEV sedan rule sets a
        # price only); with one, the widest ceiling counts (NEV relaxes the price).
        setting = [s for s in rows if getattr(s, limit_field) is not None]
        if value is None or not setting:
            continue
        if any(getattr(s, limit_field) is None for s in category_rows):
            continue  # the category's own standard leaves this field open
        # On a tie the new-energy rule is named: it is the one that measures this car.
        widest = max(setting, key=lambda s: (getattr(s, limit_field), s.new_energy_only))
        limit = getattr(widest, limit_field)
        if value > limit:
            what = "购置价格" if field == "purchase_price" else "排气量"
            whose = (
                "新能源轿车"
                if widest.new_energy_only
                else f"{category_label}（{TIER_LABELS[widest.tier]}）"
            )
            reasons.append(
                _reason(
                    widest.key,
                    field,
                    float(limit) if field == "displacement_l" else int(limit),
                    float(value) if field == "displacement_l" else int(value),
                    widest.source,
                    widest.source_url,
                    f"{what}{fmt(value)}{'元' if field == 'purchase_price' else ''}"
                    f"超过{whose}标准{fmt(limit)}{'元' if field == 'purchase_price' else ''}",
                    ref,
                )
            )
    return reasons


def latest_approvals(vehicle_ids) -> dict[int, ExceptionApproval]:
    """Each car's most generous approval (special over need; the latest on a tie)."""
    best: dict[int, ExceptionApproval] = {}
    rows = ExceptionApproval.objects.filter(vehicle_id__in=vehicle_ids).order_by("approved_on")
    for a in rows:
        current = best.get(a.vehicle_id)
        if current is None or TIERS.index(a.tier) >= TIERS.index(current.tier):
            best[a.vehicle_id] = a
    return best


def over_standard(vehicles, standards: Standards | None = None) -> list[dict]:
    """[{"plate", "vehicle_id", "agency", "category", "reasons"}] for the given cars
    (a queryset), disposed cars left out."""
    standards = standards or Standards()
    cars = (
        vehicles.exclude(status=Vehicle.Status.DISPOSED)
        .select_related("agency__region")
        .order_by("plate")
    )
    out = []
    chunk: list[Vehicle] = []

    def flush():
        approvals = latest_approvals([c.pk for c in chunk])
        for car in chunk:
            reasons = car_reasons(car, standards, approvals.get(car.pk))
            if reasons:
                out.append(
                    {
                        "plate": car.plate,
                        "vehicle_id": car.pk,
                        "agency": car.agency.name,
                        "agency_id": car.agency_id,
                        "category": car.category,
                        "reasons": reasons,
                    }
                )
        chunk.clear()

    for car in cars.iterator(chunk_size=2000):
        chunk.append(car)
        if len(chunk) >= 2000:
            flush()
    flush()
    return out


def with_actual(user, quotas: list) -> list:
    """Set `actual` (cars counted against the quota, within `user`'s scope) on each quota."""
    counts = {
        (r["agency_id"], r["category"]): r["n"]
        for r in Vehicle.objects.restrict(user)
        .filter(status__in=COUNTED, agency_id__in={q.agency_id for q in quotas})
        .values("agency_id", "category")
        .annotate(n=Count("pk"))
        .order_by()
    }
    for q in quotas:
        q.actual = counts.get((q.agency_id, q.category), 0)
    return quotas


def over_quota(vehicles, quotas) -> tuple[list[dict], list[str]]:
    """(categories above quota per agency, names of agencies holding cars but no quota)."""
    counts = defaultdict(int)
    names = {}
    rows = (
        vehicles.filter(status__in=COUNTED)
        .values("agency_id", "agency__name", "category")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        counts[(row["agency_id"], row["category"])] += row["n"]
        names[row["agency_id"]] = row["agency__name"]
    quota_rows = {(q.agency_id, q.category): q for q in quotas.select_related("agency")}
    with_quota = {agency_id for agency_id, _c in quota_rows}
    for q in quota_rows.values():
        names[q.agency_id] = q.agency.name
    out = []
    for (agency_id, category), actual in sorted(counts.items()):
        if agency_id not in with_quota:
            continue
        q = quota_rows.get((agency_id, category))
        quota = q.quota if q else 0
        if actual > quota:
            out.append(
                {
                    "agency": names[agency_id],
                    "agency_id": agency_id,
                    "category": category,
                    "category_label": str(Category(category).label),
                    "quota": quota,
                    "actual": actual,
                    "basis": q.basis if q else "",
                }
            )
    no_quota = sorted(names[a] for a in {a for a, _c in counts} - with_quota)
    return out, no_quota


def audit(vehicles, quotas) -> dict:
    """The audit document: {"over_standard", "over_quota", "no_quota", "checked"}."""
    found = over_standard(vehicles)
    quota_rows, no_quota = over_quota(vehicles, quotas)
    return {
        "over_standard": found,
        "over_quota": quota_rows,
        "no_quota": no_quota,
        "checked": vehicles.exclude(status=Vehicle.Status.DISPOSED).count(),
    }


def audit_for(user, agency=None, include_below: bool = True) -> dict:
    """The audit of what `user` may see (None = everything), narrowed to `agency` (and
    the agencies below it unless include_below is False)."""
    vehicles = Vehicle.objects.all() if user is None else Vehicle.objects.restrict(user)
    quotas = Quota.objects.all() if user is None else Quota.objects.restrict(user)
    if agency is not None:
        if include_below:
            vehicles = vehicles.filter(subtree_q("agency", agency))
            quotas = quotas.filter(subtree_q("agency", agency))
        else:
            vehicles, quotas = vehicles.filter(agency=agency), quotas.filter(agency=agency)
    result = audit(vehicles, quotas)
    if agency is not None:
        result["agency"] = agency.name
    return result
