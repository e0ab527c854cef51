"""`guanjia vehicles list [--agency X] [--only] [--category C] [--status S] [--q TEXT]
[--limit N] [--json]`: the register.

`--agency` takes an exact name, short name, unified social credit code or id and includes
the agencies below it (a bureau's register covers the agencies it serves); `--only` keeps
the agency itself. With --json: {"count", "items": [{"id", "plate", "vin", "category",
"category_label", "energy_type", "agency", "agency_id", "status", "terminal", …}]}; count is
every matching car, items at most --limit of them (default all).
"""

from ..models import Vehicle
from ..services import find_agency

SUMMARY = "列出车辆登记（--agency 含下级单位）"


def add_arguments(parser):
    parser.add_argument("--agency", help="单位名称或统一社会信用代码（含下级单位）")
    parser.add_argument("--only", action="store_true", help="只列该单位本身的车辆")
    parser.add_argument("--category", help="车辆类别代码或名称")
    parser.add_argument("--status", help="in_service / sealed / in_repair / disposed")
    parser.add_argument("--q", help="车牌号或车架号中的文字")
    parser.add_argument("--limit", type=int, default=None, help="最多列出多少辆")


def item(car: Vehicle) -> dict:
    return {
        "id": car.pk,
        "plate": car.plate,
        "vin": car.vin,
        "category": car.category,
        "category_label": car.get_category_display(),
        "body_type": car.body_type,
        "brand_model": car.brand_model,
        "energy_type": car.energy_type,
        "energy_label": car.get_energy_type_display(),
        "is_new_energy": car.is_new_energy,
        "displacement_l": None if car.displacement_l is None else float(car.displacement_l),
        "purchase_price": float(car.purchase_price),
        "purchase_date": car.purchase_date.isoformat(),
        "odometer_km": float(car.odometer_km),
        "agency": car.agency.name,
        "agency_id": car.agency_id,
        "status": car.status,
        "status_label": car.get_status_display(),
        "terminal": car.terminal_number,
        "terminal_key": car.terminal_key,
    }


def run(options) -> dict:
    from ..filters import filter_vehicles

    qs = Vehicle.objects.all()
    agency = find_agency(options["agency"]) if options.get("agency") else None
    qs = filter_vehicles(
        qs,
        agency=agency,
        include_below=not options.get("only"),
        category=options.get("category"),
        status=options.get("status"),
        q=options.get("q"),
    ).select_related("agency")
    rows = qs[: options["limit"]] if options.get("limit") else qs
    result = {"count": qs.count(), "items": [item(car) for car in rows.iterator(chunk_size=2000)]}
    if agency is not None:
        result["agency"] = agency.name
    return result


def render(result: dict) -> str:
    lines = [
        f"{i['plate']:<9} {i['vin']} {i['category_label']:<10} {i['status_label']:<4} "
        f"{i['agency']} {i['terminal']}"
        for i in result["items"]
    ]
    lines.append(f"共 {result['count']} 辆")
    return "\n".join(lines)
