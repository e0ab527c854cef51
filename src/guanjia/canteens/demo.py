"""The canteens' part of the demo world: the 大足 centre canteen (about 3,000 staff) and a
few dozen others, each with diners since the start of last year, stored forecasts,
weighings by stream, clean-plate observations, survey answers, suppliers, stock movements
and a price inquiry.

The story follows the seeds: the waste per diner falls by about a quarter over the period
(大足: "倾销量减少约四分之一"; 成都: 人均餐厨垃圾 −20.35 %) and the clean-plate rate rises
from about 68 % to about 89 % (成都: "光盘率从68%提高到89%"). Diner series come from
`synthetic` (each canteen its own profile); rows are bulk-written as the system.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from decimal import Decimal

from django.utils import timezone

from guanjia.demo.registry import DemoContext, demo_part

from . import forecasts, synthetic
from .models import (
    AttendanceEvent,
    Canteen,
    DinerCount,
    Ingredient,
    PlateObservation,
    StockMovement,
    Supplier,
    SurveyResponse,
    WasteRecord,
    WasteStream,
)
from .reference import load_reference_data

DAZU_CENTRE = "大足区机关事务管理中心"
INGREDIENTS = (
    ("猪肉", "kg", "肉类", 26.0, 0.060),
    ("鸡肉", "kg", "肉类", 18.0, 0.040),
    ("鲜鱼", "kg", "水产", 22.0, 0.030),
    ("大米", "kg", "粮油", 4.2, 0.120),
    ("青菜", "kg", "蔬菜", 3.5, 0.150),
    ("土豆", "kg", "蔬菜", 2.8, 0.060),
    ("鸡蛋", "kg", "蛋类", 9.5, 0.030),
    ("食用油", "L", "粮油", 12.0, 0.012),
    ("时令水果", "kg", "水果", 7.0, 0.150),
)
SUPPLIERS = ("大足区农产品配送中心", "重庆鲜达食品有限公司", "龙水镇蔬菜合作社", "川渝粮油贸易公司")


@demo_part("canteens", order=60)
def build_canteens(ctx: DemoContext) -> dict[str, int]:
    """机关食堂：大足区机关中心食堂与数十个食堂的就餐人数、预测、称重、光盘、问卷与采购"""
    load_reference_data()  # the rules migrate installed, in case the database was flushed
    n_canteens = ctx.size("canteens", small=30, province=120)
    today = timezone.localdate()
    start = dt.date(today.year - 1, 1, 1)
    rng = ctx.derive("canteens")
    counts = dict.fromkeys(
        (
            "canteens",
            "diner_counts",
            "waste_records",
            "plate_observations",
            "survey_responses",
            "stock_movements",
            "forecasts",
        ),
        0,
    )
    hosts = _hosts(ctx, n_canteens)
    ctx.stage("机关食堂", total=len(hosts))
    for i, (agency, staff) in enumerate(hosts):
        canteen = Canteen.objects.create(
            agency=agency,
            code=f"ct{i + 1:04d}",
            name="大足区机关中心食堂" if i == 0 else f"{agency.short_name or agency.name}机关食堂",
            staff_served=staff,
            capacity=int(staff * 0.4),
            meals="breakfast,lunch,dinner"
            if i == 0
            else rng.choice(["lunch", "lunch", "breakfast,lunch"]),
            mode=rng.choice(
                [Canteen.Mode.SELF_RUN, Canteen.Mode.SELF_RUN, Canteen.Mode.CONTRACTED]
            ),
        )
        counts["canteens"] += 1
        lunches = _diners(ctx, canteen, i, start, today, counts)
        _waste_and_plates(ctx.derive(f"waste-{i}"), canteen, lunches, start, today, counts)
        _surveys(ctx.derive(f"survey-{i}"), canteen, start, today, counts)
        if i == 0:
            _events(canteen, today)
        if i < ctx.size("canteens_with_forecasts", small=30, province=40):
            counts["forecasts"] += _forecasts(canteen, today)
        ctx.tick()
    dazu = Canteen.objects.get(code="ct0001")
    counts["stock_movements"] += _procurement(ctx.derive("stock"), dazu, start, today)
    counts.update(_menus_and_inquiry(ctx.derive("menus"), dazu, today))
    counts["evaluations"] = _evaluations(today)
    return counts


def _hosts(ctx, n: int) -> list:
    """(agency, staff) of the canteens: the 大足 centre first (≈3,000 staff), then bureaus
    of both provinces in order."""
    rng = ctx.derive("hosts")
    dazu = ctx.agencies_by_name[DAZU_CENTRE]
    hosts = [(dazu, 3000)]
    for bureau in ctx.bureaus:
        if len(hosts) >= n:
            break
        if bureau.pk != dazu.pk:
            hosts.append((bureau, rng.choice([150, 250, 400, 600, 900, 1500])))
    for bureau in ctx.bureaus:  # province scale: canteens of agencies the bureaus serve
        for agency in ctx.served.get(bureau.name, [])[1:4]:
            if len(hosts) >= n:
                return hosts
            hosts.append((agency, rng.choice([80, 120, 200, 300])))
    return hosts


def _diners(ctx, canteen, i, start, today, counts) -> dict[dt.date, int]:
    rows, lunches = [], {}
    for meal in canteen.meal_list:
        share = {"breakfast": 0.45, "lunch": 1.0, "dinner": 0.3}[meal]
        seed = ctx.seed * 1000 + i * 10 + len(meal)
        pairs = synthetic.series(
            seed,
            start,
            today - dt.timedelta(days=1),
            staff=max(20, int(canteen.staff_served * share)),
        )
        for day, n in pairs:
            rows.append(DinerCount(canteen=canteen, date=day, meal=meal, diners=n, source="import"))
            if meal == "lunch":
                lunches[day] = n
    DinerCount.objects.bulk_create(rows, batch_size=2000)
    counts["diner_counts"] += len(rows)
    return lunches


def _progress(day, start, today) -> float:
    """0 at the start of the period, 1 at its end: how far the anti-waste measures got."""
    return min(1.0, max(0.0, (day - start).days / max(1, (today - start).days)))


def _waste_and_plates(rng, canteen, lunches, start, today, counts) -> None:
    """Per served lunch: trimmings (inedible), unserved food, plate waste (edible and
    inedible) and now and then spoiled stock; the total per diner falls from ≈175 g to
    ≈130 g (−25 %), the clean-plate rate rises from ≈68 % to ≈89 %."""
    waste, plates = [], []
    for day, diners in lunches.items():
        if not diners:
            continue
        p = _progress(day, start, today)
        per_capita_g = (175 - 45 * p) * rng.uniform(0.9, 1.1)
        total_kg = per_capita_g * diners / 1000
        split = {
            (WasteStream.PREPARATION, False): 0.30,
            (WasteStream.UNSERVED, True): 0.28 - 0.05 * p,
            (WasteStream.PLATE, True): 0.30 - 0.03 * p,
            (WasteStream.PLATE, False): 0.12 + 0.08 * p,
        }
        scale = 1 / sum(split.values())
        for (stream, edible), share in split.items():
            weight = Decimal(str(round(total_kg * share * scale, 2)))
            waste.append(
                WasteRecord(
                    canteen=canteen,
                    date=day,
                    stream=stream,
                    edible=edible,
                    weight_kg=weight,
                    item=_item(rng, stream),
                )
            )
        if rng.random() < 0.08:
            waste.append(
                WasteRecord(
                    canteen=canteen,
                    date=day,
                    stream=WasteStream.SPOILAGE,
                    edible=True,
                    weight_kg=Decimal(str(round(rng.uniform(0.5, 4), 2))),
                    item=rng.choice(["青菜", "豆腐", "面包"]),
                )
            )
        if day.weekday() in (1, 3):  # observations twice a week
            trays = min(diners, rng.randint(150, 300))
            rate = min(0.97, (0.68 + 0.21 * p) * rng.uniform(0.96, 1.04))
            plates.append(
                PlateObservation(
                    canteen=canteen,
                    date=day,
                    trays_observed=trays,
                    clean_trays=math.floor(trays * rate),
                    observer="值班员",
                )
            )
    WasteRecord.objects.bulk_create(waste, batch_size=2000)
    PlateObservation.objects.bulk_create(plates, batch_size=2000)
    counts["waste_records"] += len(waste)
    counts["plate_observations"] += len(plates)


def _item(rng, stream) -> str:
    return {
        WasteStream.PREPARATION: rng.choice(["菜叶菜根", "鱼鳞内脏", "果皮"]),
        WasteStream.UNSERVED: rng.choice(["米饭", "红烧肉", "炒青菜", "汤"]),
        WasteStream.PLATE: rng.choice(["米饭", "青菜", "骨头", "面条"]),
    }.get(stream, "")


def _surveys(rng, canteen, start, today, counts) -> None:
    rows = []
    month = start
    while month < today:
        p = _progress(month, start, today)
        for _ in range(rng.randint(8, 20)):
            overall = 5 if rng.random() < 0.45 + 0.2 * p else rng.choice([3, 4, 4, 4, 2])
            rows.append(
                SurveyResponse(
                    canteen=canteen,
                    overall=overall,
                    taste=rng.randint(3, 5),
                    variety=rng.randint(2, 5),
                    hygiene=rng.randint(4, 5),
                    service=rng.randint(3, 5),
                )
            )
        month = (month.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    created = SurveyResponse.objects.bulk_create(rows, batch_size=2000)
    # submitted_at is auto_now_add: spread the answers over the months they belong to.
    month, k = start, 0
    tz = timezone.get_default_timezone()
    for row in created:
        row.submitted_at = dt.datetime.combine(start, dt.time(12), tz) + dt.timedelta(
            days=k % max(1, (today - start).days)
        )
        k += 17
    SurveyResponse.objects.bulk_update(created, ["submitted_at"], batch_size=2000)
    counts["survey_responses"] += len(rows)


def _forecasts(canteen, today) -> int:
    """Forecasts as the kitchen would have made them: every Monday of the last 8 weeks (so
    the forecast page has actuals to compare), then from today."""
    monday = today - dt.timedelta(days=today.weekday())
    stored = 0
    for weeks in range(8, 0, -1):
        stored += forecasts.refresh(
            None, canteen, origin=monday - dt.timedelta(weeks=weeks), horizon=7
        )
    return stored + forecasts.refresh(None, canteen, origin=today)


def _procurement(rng, canteen, start, today) -> int:
    """Ingredients and suppliers of the 大足 canteen; weekly receipts and daily issues, so
    stock and turnover days have data."""
    agency = canteen.agency
    ingredients = {
        name: Ingredient.objects.create(agency=agency, name=name, unit=unit, category=cat)
        for name, unit, cat, _price, _per in INGREDIENTS
    }
    for k, name in enumerate(SUPPLIERS, start=1):
        Supplier.objects.create(
            agency=agency,
            name=name,
            contact="联系人",
            phone="023-4372" + str(rng.randint(1000, 9999)),
            licence_no=f"JY15001110{k:06d}",  # 食品经营许可证: JY + 14 digits
            licence_expiry=today + dt.timedelta(days=rng.randint(-20, 700)),
        )
    rows = []
    day = max(start, today - dt.timedelta(days=180))
    while day < today:
        for name, _unit, _cat, price, per_diner in INGREDIENTS:
            used = per_diner * canteen.staff_served * 0.8
            cost = Decimal(str(round(price * rng.uniform(0.92, 1.08), 2)))
            if day.weekday() == 0:
                rows.append(
                    StockMovement(
                        canteen=canteen,
                        date=day,
                        ingredient=ingredients[name],
                        kind="in",
                        quantity=Decimal(str(round(used * 5.2, 1))),
                        unit_cost=cost,
                    )
                )
            if day.weekday() < 5:
                rows.append(
                    StockMovement(
                        canteen=canteen,
                        date=day,
                        ingredient=ingredients[name],
                        kind="out",
                        quantity=Decimal(str(round(used * rng.uniform(0.9, 1.1), 1))),
                        unit_cost=cost,
                    )
                )
        day += dt.timedelta(days=1)
    StockMovement.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


DISHES = {
    "meat": "红烧肉 宫保鸡丁 鱼香肉丝 回锅肉 水煮鱼 糖醋排骨 土豆烧牛肉 辣子鸡 啤酒鸭 粉蒸肉 "
    "青椒肉丝 酸菜鱼 咖喱鸡块 香菇滑鸡 梅菜扣肉 番茄牛腩",
    "veg": "清炒时蔬 麻婆豆腐 干煸四季豆 酸辣土豆丝 蒜蓉西兰花 醋溜白菜 手撕包菜 地三鲜 "
    "清炒豌豆尖 凉拌黄瓜 番茄炒蛋",
    "staple": "米饭 杂粮饭 馒头 蛋炒饭 担担面 玉米窝头",
    "soup": "紫菜蛋花汤 冬瓜排骨汤 番茄蛋汤 酸辣汤 豆腐汤 萝卜汤",
    "fruit": "苹果 香蕉 橙子 西瓜 梨 葡萄",
}
RECIPE = {  # ingredient, quantity per portion (in the ingredient's unit)
    "meat": (("猪肉", "0.080"), ("鸡肉", "0.040"), ("食用油", "0.010")),
    "veg": (("青菜", "0.150"), ("土豆", "0.050"), ("食用油", "0.008")),
    "staple": (("大米", "0.120"),),
    "soup": (("鸡蛋", "0.030"), ("青菜", "0.030")),
    "fruit": (("时令水果", "0.150"),),
}


def _menus_and_inquiry(rng, canteen, today) -> dict[str, int]:
    """Dishes with recipes, this week's and next week's published lunch menus, and a price
    inquiry for next week's ingredients: three suppliers quoted, the cheapest chosen."""
    from . import menus, procurement
    from .models import Supplier

    ingredients = {i.name: i for i in Ingredient.objects.filter(agency=canteen.agency)}
    dishes = 0
    for category, names in DISHES.items():
        for name in names.split():
            dish = menus.save_dish(
                None,
                canteen,
                name=name,
                category=category,
                cost=Decimal(str(round(rng.uniform(2, 9), 1))),
            )
            menus.set_recipe(
                None, dish, [(ingredients[i], Decimal(q)) for i, q in RECIPE[category]]
            )
            dishes += 1
    monday = menus.week_monday(today)
    for week in (monday, monday + dt.timedelta(days=7)):
        plan, _short = menus.generate_plan(None, canteen, week, seed=1)
        menus.publish(None, plan)
    next_week = monday + dt.timedelta(days=7)
    request = procurement.request_from_forecast(
        None, canteen, next_week, next_week + dt.timedelta(days=5)
    )
    quotes = []
    for k, supplier in enumerate(Supplier.objects.filter(agency=canteen.agency).order_by("pk")[:3]):
        factor = (1.0, 0.96, 1.05)[k]
        prices = {
            line.pk: (
                Decimal("1"),
                Decimal(str(round(float(line.estimated_price or 5) * factor, 2))),
            )
            for line in request.lines.all()
        }
        quotes.append(
            procurement.add_quotation(
                None,
                request,
                supplier,
                received_on=today,
                valid_until=today + dt.timedelta(days=10),
                prices=prices,
            )
        )
    cheapest = min(quotes, key=procurement.quotation_total)
    procurement.award(None, request, cheapest)
    return {"dishes": dishes, "menu_plans": 2, "purchase_requests": 1, "quotations": len(quotes)}


def _evaluations(today) -> int:
    """Each canteen's self-evaluation of the last complete quarter, computed from its data."""
    from . import evaluation
    from .reference_evaluation import install_missing

    install_missing()
    quarter = (today.month - 1) // 3
    year, quarter = (today.year, quarter) if quarter else (today.year - 1, 4)
    rng = random.Random(f"evaluations:{year}Q{quarter}")
    done = 0
    for canteen in Canteen.objects.order_by("pk"):
        found = evaluation.start_evaluation(None, canteen, f"{year}Q{quarter}")
        for row in found.scores.select_related("item").filter(item__method="reviewer"):
            points = row.item.weight * Decimal(str(rng.choice([0.6, 0.8, 0.8, 1.0, 1.0])))
            evaluation.mark_item(None, row, points, note="自评：制度与台账齐全")
        if rng.random() < 0.8:  # a few are still being filled in
            evaluation.submit(None, found)
        done += 1
    return done


def _events(canteen, today) -> None:
    """Registered events ahead, so the forecast shows them."""
    ahead = [today + dt.timedelta(days=d) for d in range(1, 15)]
    workdays = [d for d in ahead if d.weekday() < 5]
    if len(workdays) >= 3:
        AttendanceEvent.objects.create(
            canteen=canteen,
            date=workdays[1],
            kind="meeting",
            change=180,
            title="全区机关事务工作会议",
        )
        AttendanceEvent.objects.create(
            canteen=canteen, date=workdays[2], kind="remote", change=-400, title="部分科室居家办公"
        )
