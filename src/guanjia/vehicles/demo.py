"""The vehicles' part of the demo world: the register, quotas, garages and drivers, a few
hundred dispatch orders, and a year of fuel, maintenance, inspections and insurance with
planted 私车公养 anomalies.

Sizes follow the seeds ("重庆3万余辆、四川6.6万余辆"): `--scale province` holds 30,000
Chongqing and 66,000 Sichuan cars, each with a JT/T 808 terminal; `--scale small` about
1,000 in the same proportion. Rows are written with bulk_create (a province's register is
too large to audit row by row at load time; the demo world is loaded as the system) from
values that pass the register's own validators (plates, VINs with their check digit,
terminal numbers). Dispatch orders, inspections and refuellings are dated relative to the
day the world is loaded, so the dispatch board and the reminders have something to show;
everything else is deterministic in the seed.

Planted anomalies (found by `guanjia vehicles audit` and `guanjia vehicles detect`):
cars above their configuration standard, agencies above their quota, a refuelling larger
than the tank, a fuel card used for two cars, fuel per 100 km far above the norm, and a
maintenance bill for a plate that is not in the register.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from django.utils import timezone

from guanjia.core.models import Agency, Region
from guanjia.demo.registry import DemoContext, demo_part

from .models import (
    BodyType,
    Category,
    Driver,
    EnergyType,
    ExceptionApproval,
    FuelCard,
    Garage,
    Inspection,
    Maintenance,
    Quota,
    Refuelling,
    RepairShop,
    TripRequest,
    Vehicle,
)
from .reference import load_reference_data
from .validators import VIN_ALPHABET, validate_plate, validate_vin, vin_check_digit

CQ, SC = "500000", "510000"
# Approximate centres and spreads (degrees) for scattering garages and places.
CENTRES = {CQ: (29.56, 106.55, 0.9, 1.4), SC: (30.66, 104.06, 1.6, 2.4)}
# Plate letters in use (渝 A–H for the municipality; 川 letters of Sichuan's cities).
PLATE_PREFIX = {CQ: ("渝", "ABCDFGH"), SC: ("川", "ABCDEFHJKLMQRSTUVWXYZ")}
DOMESTIC_WMI = ("LFV", "LSV", "LGB", "LVS", "LS5", "LGW", "LB3", "LC0", "LSG", "LHG")
BRANDS = (
    ("红旗 H5", BodyType.SEDAN, EnergyType.GASOLINE, "1.50", 149800, 53, "6.9"),
    ("大众 帕萨特", BodyType.SEDAN, EnergyType.GASOLINE, "1.40", 179900, 66, "6.4"),
    ("丰田 凯美瑞", BodyType.SEDAN, EnergyType.GASOLINE, "1.80", 159800, 60, "6.3"),
    ("别克 GL8", BodyType.SMALL_BUS, EnergyType.GASOLINE, "2.00", 229900, 65, "8.9"),
    ("长安 逸动", BodyType.SEDAN, EnergyType.GASOLINE, "1.60", 89900, 53, "6.2"),
    ("比亚迪 秦PLUS", BodyType.SEDAN, EnergyType.BEV, None, 119800, None, None),
    ("比亚迪 汉", BodyType.SEDAN, EnergyType.PHEV, "1.50", 169800, 50, "4.2"),
    ("江铃 全顺", BodyType.MEDIUM_BUS, EnergyType.DIESEL, "2.00", 189000, 80, "9.5"),
    ("宇通 ZK6", BodyType.LARGE_BUS, EnergyType.DIESEL, "6.70", 420000, 200, "22.0"),
    ("依维柯 救护", BodyType.SPECIAL, EnergyType.DIESEL, "2.80", 260000, 80, "11.0"),
)
# Category weights and the models each uses (indexes into BRANDS).
CATEGORY_MIX = (
    (Category.ZFZQ, 45, (4, 4, 5)),
    (Category.YJBZ, 20, (0, 2, 3, 5, 7)),
    (Category.QT, 20, (0, 4, 5, 6, 8)),
    (Category.JYTX, 8, (4, 5)),
    (Category.TZZY, 7, (9, 7)),
)
PURPOSES = (
    "赴区县检查指导工作",
    "参加市级会议",
    "机要文件传递",
    "应急值守",
    "执法检查",
    "公务接待",
)
PLACES = ("机关大院", "市政务服务中心", "区政府", "高铁站", "机场", "应急指挥中心", "督查现场")


def _jitter(rng, region_code: str) -> tuple[float, float]:
    lat, lon, dlat, dlon = CENTRES[CQ if region_code.startswith("50") else SC]
    return round(lat + rng.uniform(-dlat, dlat), 6), round(lon + rng.uniform(-dlon, dlon), 6)


def _vin(rng, index: int, year: int) -> str:
    body = rng.choice(DOMESTIC_WMI) + "".join(rng.choice(VIN_ALPHABET[:-1]) for _ in range(5))
    year_code = "ABCDEFGHJKLMNPRSTVWXY123456789"[(year - 2010) % 30]
    tail = year_code + rng.choice("ABCDEFGH") + f"{index:06d}"
    vin = body + "0" + tail
    return vin[:8] + vin_check_digit(vin) + vin[9:]


class _Plates:
    """Unique plates per province: ordinary ones 5 digits, NEV ones D/F + 5 digits."""

    def __init__(self, rng):
        self.rng, self.used = rng, set()

    def make(self, province: str, nev: bool) -> str:
        abbr, letters = PLATE_PREFIX[province]
        while True:
            letter = self.rng.choice(letters)
            serial = f"{self.rng.randrange(100000):05d}"
            plate = (
                f"{abbr}{letter}{self.rng.choice('DF')}{serial}" if nev else abbr + letter + serial
            )
            if plate not in self.used:
                self.used.add(plate)
                return plate


def _province_agencies(code: str) -> list[Agency]:
    region = Region.objects.get(code=code)
    return list(
        Agency.objects.filter(region__path__startswith=region.path, is_active=True)
        .select_related("region")
        .order_by("path")
    )


def _weights(agencies: list[Agency], bureaus: set[int]) -> list[float]:
    """Bureaus and their motor pools run the big fleets; an agency a handful of cars."""
    return [8.0 if a.pk in bureaus or a.kind == Agency.Kind.MOTORPOOL else 1.0 for a in agencies]


def _spread(total: int, weights: list[float]) -> list[int]:
    whole = sum(weights)
    counts = [int(total * w / whole) for w in weights]
    for i in range(total - sum(counts)):
        counts[i % len(counts)] += 1
    return counts


@demo_part("vehicles", order=50)
def build_vehicles(ctx: DemoContext) -> dict[str, int]:
    """公务用车：车辆登记（含终端）、编制、驾驶员、派车单、一年的加油与维修记录（含异常）"""
    # The configuration standards and thresholds the audit and the detectors compare with:
    # installed by migrate, but gone from a database a test (or an operator) has flushed.
    load_reference_data()
    totals = {
        CQ: ctx.size("vehicles_cq", small=310, province=30000),
        SC: ctx.size("vehicles_sc", small=690, province=66000),
    }
    bureau_ids = {b.pk for b in ctx.bureaus}
    rng = ctx.derive("register")
    plates = _Plates(ctx.derive("plates"))
    today = timezone.localdate()
    counts = {"vehicles": 0, "garages": 0, "drivers": 0, "quotas": 0, "approvals": 0}
    fleet: dict[int, list[Vehicle]] = {}
    ctx.stage("公务用车", total=sum(totals.values()))
    serial = 0
    for province, total in totals.items():
        agencies = _province_agencies(province)
        for agency, n in zip(agencies, _spread(total, _weights(agencies, bureau_ids)), strict=True):
            if n == 0:
                continue
            lat, lon = _jitter(rng, agency.region.code)
            garage = Garage.objects.create(
                agency=agency, name=f"{agency.short_name or agency.name}停车场", lat=lat, lon=lon
            )
            counts["garages"] += 1
            batch = []
            for _ in range(n):
                serial += 1
                batch.append(_vehicle(rng, plates, province, agency, garage, serial, today))
            fleet[agency.pk] = Vehicle.objects.bulk_create(batch, batch_size=1000)
            counts["vehicles"] += n
            ctx.tick(n)
    _check_sample(fleet)
    counts.update(_drivers_and_quotas(ctx, fleet, today))
    counts["approvals"] = _approvals(ctx, fleet)
    counts["trips"] = _trips(ctx, fleet, today)
    counts.update(_running_costs(ctx, fleet, today))
    return counts


def _vehicle(rng, plates, province, agency, garage, serial, today) -> Vehicle:
    category = rng.choices([c for c, _w, _m in CATEGORY_MIX], [w for _c, w, _m in CATEGORY_MIX])[0]
    models = next(m for c, _w, m in CATEGORY_MIX if c == category)
    name, body, energy, displacement, price, tank, norm = BRANDS[rng.choice(models)]
    price = Decimal(price + rng.randrange(-8000, 8000, 100))
    if rng.random() < 0.006:  # planted: bought above the ceiling (audit finds these)
        price += Decimal(rng.randrange(30000, 90000, 1000))
    purchased = today - dt.timedelta(days=rng.randrange(60, 365 * 11))
    years = (today - purchased).days / 365
    status = rng.choices(
        [s for s, _l in Vehicle.Status.choices], [92, 3, 3, 2] if years < 9 else [70, 5, 5, 20]
    )[0]
    nev = energy in (EnergyType.BEV, EnergyType.PHEV)
    number = f"0139{serial:08d}"
    return Vehicle(
        plate=plates.make(province, nev),
        vin=_vin(rng, serial, purchased.year),
        category=category,
        body_type=body,
        brand_model=name,
        energy_type=energy,
        displacement_l=Decimal(displacement) if displacement else None,
        purchase_price=price,
        purchase_date=purchased,
        odometer_km=Decimal(int(years * rng.randrange(12000, 32000))),
        seats={BodyType.SMALL_BUS: 7, BodyType.MEDIUM_BUS: 15, BodyType.LARGE_BUS: 45}.get(body, 5),
        tank_l=Decimal(tank) if tank else None,
        fuel_norm_l_100km=Decimal(norm) if norm else None,
        agency=agency,
        status=status,
        garage=garage,
        # A fifth of the terminals are 2019 ones: the same number, zero-padded to 20 digits.
        terminal_number=number.zfill(20) if serial % 5 == 0 else number,
        terminal_key=number.lstrip("0"),
    )


def _check_sample(fleet) -> None:
    """The generated identifiers pass the register's validators (cheap: a sample)."""
    for cars in list(fleet.values())[:20]:
        for car in cars[:5]:
            validate_plate(car.plate)
            validate_vin(car.vin)


def _drivers_and_quotas(ctx, fleet, today) -> dict[str, int]:
    rng = ctx.derive("drivers")
    drivers, quotas = [], []
    surnames, given = (
        "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗",
        "建国伟芳敏静强磊军洋勇艳杰娟涛明超秀霞平刚",
    )
    for agency_id, cars in fleet.items():
        for i in range(max(1, math.ceil(len(cars) / 2.5))):
            expiry = today + dt.timedelta(days=rng.randrange(-40, 365 * 6))
            drivers.append(
                Driver(
                    agency_id=agency_id,
                    name=rng.choice(surnames) + rng.choice(given) + rng.choice(given),
                    phone=f"139{rng.randrange(10**8):08d}",
                    licence_number=f"5{agency_id:07d}{i:05d}{rng.randrange(100000):05d}",
                    licence_class=rng.choice(("C1", "C1", "B1", "A1")),
                    licence_expiry=expiry,
                )
            )
        by_category: dict[str, int] = {}
        for car in cars:
            if car.status != Vehicle.Status.DISPOSED:
                by_category[car.category] = by_category.get(car.category, 0) + 1
        for category, actual in by_category.items():
            # Most agencies sit within their quota; about one in twelve is above it.
            quota = actual - 1 if rng.random() < 0.08 and actual > 1 else actual + rng.randrange(3)
            quotas.append(
                Quota(
                    agency_id=agency_id,
                    category=category,
                    quota=quota,
                    basis="（示例）公务用车编制核定文件",
                )
            )
    Driver.objects.bulk_create(drivers, batch_size=1000)
    Quota.objects.bulk_create(quotas, batch_size=1000)
    return {"drivers": len(drivers), "quotas": len(quotas)}


def _approvals(ctx, fleet) -> int:
    """Buses above the basic standard carry the provincial approval that allows them (all
    but one in forty: those the audit finds)."""
    buses = [
        car
        for cars in fleet.values()
        for car in cars
        if car.body_type in (BodyType.SMALL_BUS, BodyType.MEDIUM_BUS, BodyType.LARGE_BUS)
    ]
    # Every fortieth bus that has a ceiling (特种专业技术用车 have none), in the order they
    # were made — never by database id, which differs between databases — goes without.
    ceilinged = [car for car in buses if car.category != Category.TZZY]
    without = {id(car) for i, car in enumerate(ceilinged) if i % 40 == 0}
    approvals = [
        ExceptionApproval(
            vehicle=car,
            tier="special",
            reason="（示例）承担集中接送与应急保障任务，确需配备大中型客车",
            approved_by="省级公务用车主管部门",
            document_number=f"（示例）车审〔{car.purchase_date.year}〕{i % 1000 + 1}号",
            approved_on=car.purchase_date - dt.timedelta(days=30),
        )
        for i, car in enumerate(buses)
        if id(car) not in without
    ]
    ExceptionApproval.objects.bulk_create(approvals, batch_size=1000)
    return len(approvals)


def _demo_agencies(ctx, fleet) -> list[int]:
    """Agencies whose running records the demo fills: the named bureaus' own fleets and the
    agencies they serve, at both scales (a year of refuellings for every car would make the
    world slow to load without showing anything more; the demo logins are theirs)."""
    named = ("大足区机关事务管理中心", "重庆市市级机关后勤服务中心", "成都市机关事务管理局")
    ids = set()
    for name in named:
        bureau = ctx.agencies_by_name[name]
        ids |= set(Agency.objects.filter(path__startswith=bureau.path).values_list("pk", flat=True))
    return [a for a in fleet if a in ids]


def _trips(ctx, fleet, today) -> int:
    """Dispatch orders from a month ago to next week in every state; the requesters are the
    demo's staff at each agency (or the fleet manager's colleague)."""
    rng = ctx.derive("trips")
    n = ctx.size("trips", small=300, province=1500)
    agencies = [a for a in _demo_agencies(ctx, fleet) if fleet[a]]
    users = {}
    for user in ctx.users_by_username.values():
        users.setdefault(user.agency_id, user)
    staff = ctx.users_by_username.get("dazu_staff")
    drivers: dict[int, list[Driver]] = {}
    for d in Driver.objects.filter(agency_id__in=agencies, licence_expiry__gt=today):
        drivers.setdefault(d.agency_id, []).append(d)
    tz = timezone.get_current_timezone()
    rows, per_day, filed = [], {}, {}
    busy = set()
    for _ in range(n):
        agency_id = rng.choice(agencies)
        requester = users.get(agency_id) or staff
        day = today + dt.timedelta(days=rng.randrange(-30, 8))
        start = dt.datetime.combine(day, dt.time(rng.randrange(8, 16), rng.choice((0, 30))), tz)
        end = start + dt.timedelta(hours=rng.randrange(1, 5))
        created = start - dt.timedelta(hours=rng.randrange(4, 72))
        seq = per_day[day] = per_day.get(day, 0) + 1
        trip = TripRequest(
            number=f"PC{day:%Y%m%d}{seq:04d}",
            agency_id=agency_id,
            requester=requester,
            purpose=rng.choice(PURPOSES),
            passengers=rng.randrange(1, 4),
            origin=rng.choice(PLACES),
            destination=rng.choice(PLACES),
            start_at=start,
            end_at=end,
        )
        future = start > timezone.now()
        trip.status = _trip_status(rng, future)
        if trip.status != TripRequest.Status.REQUESTED:
            trip.approved_at = created + dt.timedelta(hours=rng.uniform(0.2, 20))
        if trip.status == TripRequest.Status.REJECTED:
            trip.rejection_reason = "（示例）可乘公共交通，不予派车"
        if trip.status in (TripRequest.Status.ASSIGNED, TripRequest.Status.COMPLETED):
            car = _free_car(rng, fleet[agency_id], day, busy)
            driver_pool = drivers.get(agency_id)
            if car is None or not driver_pool:
                trip.status = TripRequest.Status.APPROVED
            else:
                trip.vehicle, trip.driver = car, rng.choice(driver_pool)
                trip.assigned_at = trip.approved_at + dt.timedelta(hours=1)
        if trip.status == TripRequest.Status.COMPLETED:
            km = trip.vehicle.odometer_km
            trip.started_at, trip.ended_at = start, end
            trip.start_odometer_km = km - rng.randrange(200, 3000)
            trip.end_odometer_km = trip.start_odometer_km + rng.randrange(8, 160)
            trip.rating = rng.choice((5, 5, 5, 4, 4, 3))
        if trip.status == TripRequest.Status.CANCELLED:
            trip.cancel_reason, trip.cancelled_at = (
                "（示例）会议改期",
                created + dt.timedelta(hours=2),
            )
        rows.append(trip)
        filed[trip.number] = created
    created_rows = TripRequest.objects.bulk_create(rows, batch_size=500)
    # created_at is auto_now_add: put it back in the past for the approval-time indicator.
    for trip in created_rows:
        trip.created_at = filed[trip.number]
    TripRequest.objects.bulk_update(created_rows, ["created_at"], batch_size=500)
    return len(created_rows)


def _trip_status(rng, future: bool) -> str:
    S = TripRequest.Status
    if future:
        return rng.choices([S.REQUESTED, S.APPROVED, S.ASSIGNED, S.CANCELLED], [3, 3, 3, 1])[0]
    return rng.choices([S.COMPLETED, S.REJECTED, S.CANCELLED], [17, 2, 1])[0]


def _free_car(rng, cars, day, busy):
    for _ in range(6):
        car = rng.choice(cars)
        if car.status == Vehicle.Status.IN_SERVICE and (car.pk, day) not in busy:
            busy.add((car.pk, day))
            return car
    return None


def _running_costs(ctx, fleet, today) -> dict[str, int]:
    """A year of refuellings (one card per car), maintenance at designated shops,
    inspections and insurance; plus the planted 私车公养 anomalies."""
    rng = ctx.derive("running")
    agencies = _demo_agencies(ctx, fleet)
    ctx.stage("加油与维修记录", total=len(agencies))
    tz = timezone.get_current_timezone()
    cards, fuel, repairs, inspections, shops = [], [], [], [], {}
    for agency_id in agencies:
        shops[agency_id] = RepairShop.objects.create(
            agency_id=agency_id,
            name=f"（示例）定点维修厂{agency_id}",
            contract_until=today + dt.timedelta(days=365),
        )
        for car in fleet[agency_id]:
            if car.status == Vehicle.Status.DISPOSED:
                continue
            inspections += _inspections(rng, car, today)
            if car.energy_type == EnergyType.BEV:
                continue
            card = FuelCard(agency_id=agency_id, number=f"9100{car.pk:012d}", vehicle=car)
            cards.append(card)
            fuel += _refuellings(rng, car, card, today, tz)
            if rng.random() < 0.5:
                amount = Decimal(rng.randrange(300, 4900))
                repairs.append(
                    Maintenance(
                        agency_id=agency_id,
                        vehicle=car,
                        plate=car.plate,
                        shop=shops[agency_id],
                        kind=rng.choice(("service", "repair", "tyres")),
                        date=today - dt.timedelta(days=rng.randrange(10, 360)),
                        items="（示例）常规保养：机油、机滤、空滤",
                        amount=amount,
                        status=Maintenance.Status.DONE,
                    )
                )
        ctx.tick()
    FuelCard.objects.bulk_create(cards, batch_size=1000)
    _plant_anomalies(rng, fleet, agencies, cards, fuel, repairs, shops, today, tz)
    Refuelling.objects.bulk_create(fuel, batch_size=2000)
    Maintenance.objects.bulk_create(repairs, batch_size=1000)
    Inspection.objects.bulk_create(inspections, batch_size=2000)
    return {
        "fuel_cards": len(cards),
        "refuellings": len(fuel),
        "maintenance": len(repairs),
        "inspections": len(inspections),
    }


def _inspections(rng, car, today) -> list[Inspection]:
    rows = []
    for kind, cost in (("inspection", 300), ("compulsory", 950), ("commercial", 3200)):
        # Most are valid for months yet; a few run out soon or have just run out.
        until = today + dt.timedelta(days=rng.randrange(-20, 340))
        rows.append(
            Inspection(
                vehicle=car,
                kind=kind,
                provider="（示例）检测站" if kind == "inspection" else "（示例）保险公司",
                valid_from=until - dt.timedelta(days=365),
                valid_until=until,
                cost=Decimal(cost),
            )
        )
    return rows


def _refuellings(rng, car, card, today, tz) -> list[Refuelling]:
    """Every two to three weeks for a year, odometer and litres consistent with the norm."""
    norm = float(car.fuel_norm_l_100km or 8)
    tank = float(car.tank_l or 55)
    km = float(car.odometer_km) - 14000
    rows, day = [], today - dt.timedelta(days=365)
    while day < today:
        distance = rng.randrange(300, 700)
        km += distance
        litres = min(tank * 0.95, distance * norm / 100 * rng.uniform(0.9, 1.1))
        rows.append(
            Refuelling(
                agency_id=car.agency_id,
                card=card,
                vehicle=car,
                plate=car.plate,
                at=dt.datetime.combine(day, dt.time(rng.randrange(7, 20)), tz),
                litres=Decimal(f"{litres:.2f}"),
                amount=Decimal(f"{litres * 7.8:.2f}"),
                odometer_km=Decimal(f"{km:.1f}"),
                station="（示例）中国石化加油站",
            )
        )
        day += dt.timedelta(days=rng.randrange(14, 22))
    return rows


def _plant_anomalies(rng, fleet, agencies, cards, fuel, repairs, shops, today, tz) -> None:
    by_agency: dict[int, list[FuelCard]] = {}
    for card in cards:
        by_agency.setdefault(card.agency_id, []).append(card)
    planted = [a for a in agencies if len(by_agency.get(a, [])) >= 2][:6]
    for agency_id in planted:
        first, second = by_agency[agency_id][:2]
        car, other = first.vehicle, second.vehicle
        at = dt.datetime.combine(today - dt.timedelta(days=12), dt.time(18), tz)
        # More than the tank holds: 私油公供 into a second container or another car.
        fuel.append(
            Refuelling(
                agency_id=agency_id,
                card=first,
                vehicle=car,
                plate=car.plate,
                at=at,
                litres=(car.tank_l or Decimal(55)) * Decimal("1.6"),
                amount=Decimal("650.00"),
                station="（示例）高速服务区加油站",
            )
        )
        # The same card fills another registered car the next day.
        fuel.append(
            Refuelling(
                agency_id=agency_id,
                card=first,
                vehicle=other,
                plate=other.plate,
                at=at + dt.timedelta(days=1),
                litres=Decimal("40.00"),
                amount=Decimal("312.00"),
                station="（示例）中国石化加油站",
            )
        )
        # A bill for a plate that is not in the register.
        repairs.append(
            Maintenance(
                agency_id=agency_id,
                vehicle=None,
                plate="川A9Z999" if car.plate.startswith("川") else "渝A9Z999",
                shop=shops[agency_id],
                kind="repair",
                date=today - dt.timedelta(days=20),
                items="（示例）更换刹车片",
                amount=Decimal("1860.00"),
                status=Maintenance.Status.DONE,
            )
        )
    # Fuel far above the norm: the last refuellings of a few cars burn double.
    for agency_id in planted[:3]:
        car = by_agency[agency_id][2].vehicle if len(by_agency[agency_id]) > 2 else None
        if car is None:
            continue
        mine = [r for r in fuel if r.vehicle is car and r.odometer_km is not None][-3:]
        for r in mine[1:]:
            r.litres = min((car.tank_l or Decimal(55)) * Decimal("0.98"), r.litres * 2)
