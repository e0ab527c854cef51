"""Menus: dishes with their recipes, and the week's menu plan of a canteen.

Decisions (kept here so a reader need not guess):

* **Open days.** A canteen serves on workdays (`core.calendar.is_workday`: weekends off,
  public holidays off, adjusted working days 调休 on).
* **Which meals.** The plan covers lunch (`PLANNED_MEALS`), the meal DB50/T 9001—2022 6.1
  rules on ("午餐宜按'三荤两素'加水果配置"), when the canteen serves it; breakfast and dinner
  are served from a smaller fixed range and carry no 荤素 rule.
* **The rule.** Each served meal of an open day carries exactly `rule_meat` 荤菜,
  `rule_veg` 素菜, `rule_staple` 主食, `rule_soup` 汤品 and `rule_fruit` 水果 — the
  "三荤两素 + 水果" of DB50/T 9001—2022 6.1 by default. More dishes than the rule is a
  violation too: each extra dish is food cooked for the same diners.
* **No repeat.** A dish served on day d is not served again (any meal) before day
  d + `no_repeat_days`; a dish also appears at most once a day. Served days of the weeks
  before the plan count, so a plan does not repeat the end of the last one.
* **Generation** fills each slot, in date and meal order, with the dishes of the category
  used longest ago (never used first; ties broken by a shuffle seeded with `seed`, so the
  same seed gives the same plan). When a category has too few dishes to avoid a repeat the
  least recently used dish is taken anyway and the category is reported as short.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from guanjia.core.calendar import is_workday

from . import services
from .models import Canteen, Dish, DishCategory, Ingredient, Meal, MenuItem, MenuPlan, RecipeLine

DISH_FIELDS = ("name", "category", "portion_g", "cost", "allergens", "is_active")
WEEKDAYS = "一二三四五六日"
CATEGORY_ORDER = [c.value for c in DishCategory]
PLANNED_MEALS = (Meal.LUNCH,)


def planned_meals(canteen: Canteen) -> list[str]:
    """The meals of the canteen the weekly plan and its rule cover."""
    return [m for m in canteen.meal_list if m in PLANNED_MEALS]


def rule_counts(canteen: Canteen) -> dict[str, int]:
    """How many dishes of each category one served meal carries."""
    return {
        DishCategory.MEAT: canteen.rule_meat,
        DishCategory.VEG: canteen.rule_veg,
        DishCategory.STAPLE: canteen.rule_staple,
        DishCategory.SOUP: canteen.rule_soup,
        DishCategory.FRUIT: canteen.rule_fruit,
    }


def week_monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def week_days(week_start: dt.date) -> list[dt.date]:
    return [week_start + dt.timedelta(days=i) for i in range(7)]


def open_days(week_start: dt.date) -> list[dt.date]:
    return [d for d in week_days(week_start) if is_workday(d)]


def day_label(day: dt.date) -> str:
    return _("%(m)d月%(d)d日（周%(w)s）") % {
        "m": day.month,
        "d": day.day,
        "w": WEEKDAYS[day.weekday()],
    }


def meal_label(meal: str) -> str:
    return str(Meal(meal).label) if meal in Meal.values else meal


def category_label(category: str) -> str:
    return str(DishCategory(category).label)


# -- dishes and recipes -------------------------------------------------------------------------


def save_dish(actor, canteen: Canteen, dish: Dish | None = None, **fields) -> Dish:
    services.check_fields(fields, DISH_FIELDS)
    dish = dish or Dish(canteen=canteen)
    for name, value in fields.items():
        setattr(dish, name, value)
    return services.save(actor, dish)


def ingredient_named(actor, agency, name: str, unit: str = "kg") -> Ingredient:
    """The agency's ingredient of that name, created (in `unit`) when it is new."""
    found = Ingredient.objects.filter(agency=agency, name=name.strip()).first()
    if found:
        return found
    return services.save(actor, Ingredient(agency=agency, name=name.strip(), unit=unit or "kg"))


@transaction.atomic
def set_recipe(actor, dish: Dish, lines: list[tuple[Ingredient, Decimal]]) -> list[RecipeLine]:
    """Replace the dish's recipe by `lines` (ingredient, quantity per portion)."""
    seen = set()
    for ingredient, quantity in lines:
        if ingredient.agency_id != dish.canteen.agency_id:
            raise ValidationError(_("食材 %(i)s 不属于本单位") % {"i": ingredient.name})
        if ingredient.pk in seen:
            raise ValidationError(_("食材 %(i)s 重复") % {"i": ingredient.name})
        quantity = Decimal(quantity)
        if not quantity.is_finite():
            raise ValidationError(_("食材 %(i)s 的每份用量应为数字") % {"i": ingredient.name})
        if quantity <= 0:
            raise ValidationError(_("食材 %(i)s 的每份用量应大于 0") % {"i": ingredient.name})
        seen.add(ingredient.pk)
    for old in RecipeLine.objects.filter(dish=dish):
        services.delete(actor, old)
    return [
        services.save(actor, RecipeLine(dish=dish, ingredient=i, quantity=Decimal(q)))
        for i, q in lines
    ]


def parse_recipe(actor, agency, text: str) -> list[tuple[Ingredient, Decimal]]:
    """Recipe lines typed one a line as `名称,每份用量[,单位]` (，or spaces also separate)."""
    lines, errors = [], []
    for n, raw in enumerate((text or "").splitlines(), start=1):
        parts = raw.replace("，", ",").replace(" ", ",").split(",")
        parts = [p for p in (s.strip() for s in parts) if p]
        if not parts:
            continue
        try:
            quantity = Decimal(parts[1])
        except (IndexError, ArithmeticError):
            quantity = None
        if quantity is None or not quantity.is_finite():  # "nan" and "inf" parse as Decimals
            errors.append(_("第 %(n)d 行应为“名称,每份用量[,单位]”") % {"n": n})
            continue
        unit = parts[2] if len(parts) > 2 else "kg"
        lines.append((ingredient_named(actor, agency, parts[0], unit), quantity))
    if errors:
        raise ValidationError(errors)
    return lines


def recipe_text(dish: Dish) -> str:
    return "\n".join(
        f"{r.ingredient.name},{r.quantity.normalize():f},{r.ingredient.unit}"
        for r in dish.recipe.select_related("ingredient")
    )


# -- plans ----------------------------------------------------------------------------------


def get_plan(actor, canteen: Canteen, week_start: dt.date) -> MenuPlan:
    """The canteen's plan of the week starting on `week_start` (a Monday), made if new."""
    if week_start.weekday() != 0:
        raise ValidationError({"week_start": _("周菜单须从周一开始")})
    plan = MenuPlan.objects.filter(canteen=canteen, week_start=week_start).first()
    return plan or services.save(actor, MenuPlan(canteen=canteen, week_start=week_start))


def _history(canteen: Canteen, before: dt.date, exclude_plan=None) -> dict[int, dt.date]:
    """When each dish was last served in the `no_repeat_days` before `before`."""
    since = before - dt.timedelta(days=max(canteen.no_repeat_days, 1))
    rows = MenuItem.objects.filter(plan__canteen=canteen, date__gte=since, date__lt=before).exclude(
        plan=exclude_plan
    )
    last: dict[int, dt.date] = {}
    for dish_id, day in rows.values_list("dish_id", "date"):
        last[dish_id] = max(day, last.get(dish_id, day))
    return last


@dataclass
class Shortage:
    category: str
    needed: int
    available: int


def shortage_text(canteen: Canteen, s: Shortage) -> str:
    values = {
        "c": category_label(s.category),
        "n": s.needed,
        "d": canteen.no_repeat_days,
        "a": s.available,
    }
    if s.available < s.needed:
        return _("%(c)s不足：每餐需 %(n)d 道，现有启用菜品只有 %(a)d 道，餐次未配齐") % values
    return (
        _("%(c)s不足：每餐需 %(n)d 道、%(d)d 天内不重复，现有启用菜品 %(a)d 道，计划中有重复")
        % values
    )


@transaction.atomic
def generate_plan(actor, canteen: Canteen, week_start: dt.date, seed: int = 0):
    """Fill the week's draft plan automatically. Returns (plan, shortages) where shortages
    name the categories that had to repeat a dish (or could not fill a slot)."""
    plan = get_plan(actor, canteen, week_start)
    if plan.status == MenuPlan.Status.PUBLISHED:
        raise ValidationError(_("周菜单已发布，不能重新生成"))
    for item in MenuItem.objects.filter(plan=plan):
        services.delete(actor, item)
    rng = random.Random(f"{seed}:{canteen.pk}:{week_start.isoformat()}")
    last = _history(canteen, week_start, exclude_plan=plan)
    window = max(canteen.no_repeat_days, 1)
    pools = {
        cat: sorted(Dish.objects.filter(canteen=canteen, category=cat, is_active=True), key=str)
        for cat in CATEGORY_ORDER
    }
    tie = {d.pk: rng.random() for pool in pools.values() for d in pool}
    short: dict[str, Shortage] = {}
    for day in open_days(week_start):
        used_today: set[int] = set()
        for meal in planned_meals(canteen):
            for cat, needed in rule_counts(canteen).items():
                pool = [d for d in pools[cat] if d.pk not in used_today]
                pool.sort(key=lambda d: (last.get(d.pk, dt.date.min), tie[d.pk]))
                chosen = pool[:needed]
                fresh = [d for d in chosen if (day - last.get(d.pk, dt.date.min)).days >= window]
                if len(fresh) < needed:
                    short.setdefault(cat, Shortage(cat, needed, len(pools[cat])))
                for dish in chosen:
                    services.save(actor, MenuItem(plan=plan, date=day, meal=meal, dish=dish))
                    last[dish.pk] = day
                    used_today.add(dish.pk)
    return plan, [shortage_text(canteen, s) for s in short.values()]


@transaction.atomic
def set_slot(actor, plan: MenuPlan, day: dt.date, meal: str, dishes) -> None:
    """Hand-edit one slot: the dishes served at `meal` on `day` become `dishes`."""
    if plan.status == MenuPlan.Status.PUBLISHED:
        raise ValidationError(_("周菜单已发布，不能修改"))
    if day not in week_days(plan.week_start):
        raise ValidationError({"date": _("日期不在本周")})
    wanted = {d.pk: d for d in dishes}
    for d in wanted.values():
        if d.canteen_id != plan.canteen_id:
            raise ValidationError(_("菜品 %(d)s 不属于本食堂") % {"d": d.name})
    for item in MenuItem.objects.filter(plan=plan, date=day, meal=meal):
        if item.dish_id in wanted:
            wanted.pop(item.dish_id)
        else:
            services.delete(actor, item)
    for dish in wanted.values():
        services.save(actor, MenuItem(plan=plan, date=day, meal=meal, dish=dish))


def grid(plan: MenuPlan) -> list[dict]:
    """The plan as rows of days, each with its meals' dishes by category."""
    items = defaultdict(list)
    for item in plan.items.select_related("dish"):
        items[(item.date, item.meal)].append(item.dish)
    rows = []
    for day in week_days(plan.week_start):
        meals = []
        for meal in planned_meals(plan.canteen):
            dishes = sorted(
                items[(day, meal)], key=lambda d: (CATEGORY_ORDER.index(d.category), d.name)
            )
            meals.append({"meal": meal, "label": meal_label(meal), "dishes": dishes})
        rows.append({"date": day, "label": day_label(day), "open": is_workday(day), "meals": meals})
    return rows


def violations(plan: MenuPlan) -> list[str]:
    """Every way the plan breaks the canteen's rule, one Chinese sentence each, in date
    order: missing or extra dishes per category, dishes on closed days or unserved meals,
    inactive dishes, and repeats within `no_repeat_days` (counting the weeks before)."""
    canteen = plan.canteen
    rule = rule_counts(canteen)
    items = list(plan.items.select_related("dish").order_by("date", "meal", "dish__name"))
    slots = defaultdict(list)
    for item in items:
        slots[(item.date, item.meal)].append(item.dish)
    found: list[str] = []
    for day in week_days(plan.week_start):
        served = is_workday(day)
        for meal in Meal.values:
            dishes = slots.get((day, meal), [])
            where = f"{day_label(day)}{meal_label(meal)}"
            if not served or meal not in planned_meals(canteen):
                if dishes:
                    why = _("不是工作日，食堂不开餐") if not served else _("该餐次不排周菜单")
                    found.append(_("%(w)s：%(why)s，不应排菜") % {"w": where, "why": why})
                continue
            for cat, needed in rule.items():
                have = sum(1 for d in dishes if d.category == cat)
                if have != needed:
                    found.append(
                        _("%(w)s：%(c)s %(h)d 道，应为 %(n)d 道")
                        % {"w": where, "c": category_label(cat), "h": have, "n": needed}
                    )
            for d in dishes:
                if not d.is_active:
                    found.append(_("%(w)s：菜品“%(d)s”已停用") % {"w": where, "d": d.name})
    found += _repeats(plan, items)
    return found


def _repeats(plan: MenuPlan, items: list[MenuItem]) -> list[str]:
    canteen = plan.canteen
    window = max(canteen.no_repeat_days, 1)
    earlier = MenuItem.objects.filter(
        plan__canteen=canteen,
        date__gte=plan.week_start - dt.timedelta(days=window),
        date__lt=plan.week_start,
    ).exclude(plan=plan)
    served = sorted(
        [(i.date, i.meal, i.dish) for i in earlier.select_related("dish")]
        + [(i.date, i.meal, i.dish) for i in items],
        key=lambda r: (r[0], Meal.values.index(r[1]) if r[1] in Meal.values else 9),
    )
    previous: dict[int, tuple[dt.date, str]] = {}
    found = []
    for day, meal, dish in served:
        if dish.pk in previous:
            p_day, p_meal = previous[dish.pk]
            if (day - p_day).days < window and day >= plan.week_start:
                found.append(
                    _("%(w)s：菜品“%(d)s”与%(p)s重复（%(n)d 天内不重复）")
                    % {
                        "w": f"{day_label(day)}{meal_label(meal)}",
                        "d": dish.name,
                        "p": f"{day_label(p_day)}{meal_label(p_meal)}",
                        "n": canteen.no_repeat_days,
                    }
                )
        previous[dish.pk] = (day, meal)
    return found


def publish(actor, plan: MenuPlan) -> MenuPlan:
    """Publish the plan; refused, listing the violations, unless it keeps every rule."""
    if found := violations(plan):
        raise ValidationError([_("周菜单不符合配餐规则，不能发布："), *found])
    plan.status = MenuPlan.Status.PUBLISHED
    return services.save(actor, plan)


def unpublish(actor, plan: MenuPlan) -> MenuPlan:
    plan.status = MenuPlan.Status.DRAFT
    return services.save(actor, plan)
