"""Indicators of the vehicle register: cars above standard, categories above quota, the
share of new-energy cars. Each reads through the scope (`scope.restrict`), so nobody counts
what they may not list. The register is a snapshot: a period counts the cars bought
before its end (and not yet disposed)."""

from guanjia.core.indicator_registry import IndicatorScope, Period, indicator

from . import audit
from .models import NEW_ENERGY, Quota, Vehicle


def _vehicles(scope: IndicatorScope, period: Period):
    return scope.restrict(Vehicle).filter(agency__in=scope.agencies(), purchase_date__lt=period.end)


@indicator(
    "vehicles.over_standard_count",
    unit="辆",
    label="超标准配备车辆数",
    higher_is_better=False,
    description="范围内（含下级单位）未处置车辆中超出配备标准（价格、排气量、车型、国产、越野车）"
    "的车辆数；经批准的按批准档次衡量。",
)
def over_standard_count(scope: IndicatorScope, period: Period) -> float | None:
    vehicles = _vehicles(scope, period)
    if not vehicles.exists():
        return None
    return len(audit.over_standard(vehicles))


@indicator(
    "vehicles.over_quota_count",
    unit="项",
    label="超编制配备项数",
    higher_is_better=False,
    description="范围内各单位各车辆类别中，在用、封存和维修车辆数超过核定编制的项数"
    "（未核定任何编制的单位不计）。",
)
def over_quota_count(scope: IndicatorScope, period: Period) -> float | None:
    quotas = scope.restrict(Quota).filter(agency__in=scope.agencies())
    if not quotas.exists():
        return None
    rows, _none = audit.over_quota(_vehicles(scope, period), quotas)
    return len(rows)


@indicator(
    "vehicles.nev_share",
    unit="%",
    label="新能源车辆占比",
    higher_is_better=True,
    description="范围内在用车辆中新能源汽车（纯电动、插电混动、增程式、燃料电池）的百分比。",
)
def nev_share(scope: IndicatorScope, period: Period) -> float | None:
    in_service = _vehicles(scope, period).filter(status=Vehicle.Status.IN_SERVICE)
    total = in_service.count()
    if not total:
        return None
    nev = in_service.filter(energy_type__in=NEW_ENERGY).count()
    return round(100.0 * nev / total, 2)
