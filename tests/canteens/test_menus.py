"""Menus without HTTP: the generated week keeps the canteen's rule and does not repeat a
dish within N days; a short category is named; a hand-edited plan's violations are listed
in Chinese naming the day, the meal and the category or dish; publishing needs a clean
plan."""

import datetime as dt
import itertools
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from guanjia.canteens import menus
from guanjia.canteens.models import Dish, MenuItem

from .matrix_procurement import WEEK, dishes


def _slots(plan):
    slots = defaultdict(list)
    for item in plan.items.select_related("dish"):
        slots[(item.date, item.meal)].append(item.dish)
    return slots


def test_generated_week_keeps_the_rule_on_open_days_only(canteens):
    canteen = canteens["A"]
    dishes(canteen)
    plan, shortages = menus.generate_plan(None, canteen, WEEK, seed=7)
    assert shortages == []
    slots = _slots(plan)
    assert {d for d, _m in slots} == {WEEK + dt.timedelta(days=i) for i in range(5)}
    for dishes_of_meal in slots.values():
        assert Counter(d.category for d in dishes_of_meal) == {
            "meat": 3, "veg": 2, "staple": 1, "soup": 1, "fruit": 1,
        }  # fmt: skip
    assert menus.violations(plan) == []


def test_generated_week_does_not_repeat_within_n_days(canteens):
    canteen = canteens["A"]
    canteen.no_repeat_days = 2
    canteen.save()
    dishes(canteen, {"meat": 6, "veg": 4, "staple": 2, "soup": 2, "fruit": 2})
    plan, shortages = menus.generate_plan(None, canteen, WEEK, seed=3)
    assert shortages == []
    served = defaultdict(list)
    for item in plan.items.all():
        served[item.dish_id].append(item.date)
    for days in served.values():
        days.sort()
        assert all((b - a).days >= 2 for a, b in itertools.pairwise(days)), days
    # With 6 meat dishes and 3 a day, each comes back exactly every second day.
    meat = [d for d in canteen.dishes.filter(category="meat")]
    assert sorted(len(served[d.pk]) for d in meat) == [2, 2, 2, 3, 3, 3]


def test_generation_is_deterministic_for_a_seed(canteens):
    canteen = canteens["A"]
    dishes(canteen, {"meat": 20, "veg": 12, "staple": 6, "soup": 6, "fruit": 6})

    def layout(seed):
        plan, _ = menus.generate_plan(None, canteen, WEEK, seed=seed)
        return sorted(plan.items.values_list("date", "meal", "dish__name"))

    first = layout(5)
    assert layout(5) == first
    assert layout(6) != first


def test_a_short_category_is_named(canteens):
    canteen = canteens["A"]  # no_repeat_days 7: five open days need 15 meat dishes
    dishes(canteen, {"meat": 4, "veg": 10, "staple": 5, "soup": 5, "fruit": 5})
    plan, shortages = menus.generate_plan(None, canteen, WEEK)
    assert len(shortages) == 1 and shortages[0].startswith("荤菜不足"), shortages
    assert "7 天内不重复" in shortages[0] and "4 道" in shortages[0]
    found = menus.violations(plan)
    assert found and all("荤菜" in f or "-meat-" in f for f in found), found
    assert any("重复" in f for f in found)


def test_the_next_week_does_not_repeat_the_last_one(canteens):
    canteen = canteens["A"]
    dishes(canteen, {"meat": 21, "veg": 14, "staple": 7, "soup": 7, "fruit": 7})
    first, _ = menus.generate_plan(None, canteen, WEEK)
    second, shortages = menus.generate_plan(None, canteen, WEEK + dt.timedelta(days=7))
    assert shortages == [] and menus.violations(second) == []
    friday = set(
        first.items.filter(date=WEEK + dt.timedelta(days=4)).values_list("dish", flat=True)
    )
    monday = set(
        second.items.filter(date=WEEK + dt.timedelta(days=7)).values_list("dish", flat=True)
    )
    assert not friday & monday


def test_violations_of_a_hand_edited_plan(canteens):
    canteen = canteens["A"]
    dishes(canteen)
    plan, _ = menus.generate_plan(None, canteen, WEEK)
    monday, tuesday, saturday = WEEK, WEEK + dt.timedelta(days=1), WEEK + dt.timedelta(days=5)
    mon = _slots(plan)[(monday, "lunch")]
    # Monday: drop a meat dish. Tuesday: serve Monday's soup again. Saturday: a dish.
    first_meat = next(d for d in mon if d.category == "meat")
    menus.set_slot(None, plan, monday, "lunch", [d for d in mon if d != first_meat])
    tue = [d for d in _slots(plan)[(tuesday, "lunch")] if d.category != "soup"]
    soup = next(d for d in mon if d.category == "soup")
    menus.set_slot(None, plan, tuesday, "lunch", [*tue, soup])
    menus.set_slot(None, plan, saturday, "lunch", [soup])
    found = menus.violations(plan)
    assert "3月2日（周一）午餐：荤菜 2 道，应为 3 道" in found, found
    assert f"3月3日（周二）午餐：菜品“{soup.name}”与3月2日（周一）午餐重复（7 天内不重复）" in found
    assert "3月7日（周六）午餐：不是工作日，食堂不开餐，不应排菜" in found
    assert f"3月7日（周六）午餐：菜品“{soup.name}”与3月3日（周二）午餐重复（7 天内不重复）" in found
    assert len(found) == 4, found


def test_a_dinner_in_a_lunch_only_canteen_and_an_inactive_dish(canteens):
    canteen = canteens["A"]
    dishes(canteen)
    plan, _ = menus.generate_plan(None, canteen, WEEK)
    fruit = plan.items.filter(date=WEEK, dish__category="fruit").get().dish
    Dish.objects.filter(pk=fruit.pk).update(is_active=False)
    MenuItem.objects.create(plan=plan, date=WEEK, meal="dinner", dish=fruit)
    found = menus.violations(plan)
    assert f"3月2日（周一）午餐：菜品“{fruit.name}”已停用" in found
    assert "3月2日（周一）晚餐：该餐次不排周菜单，不应排菜" in found


def test_publish_refuses_a_plan_with_violations_and_freezes_a_clean_one(canteens):
    canteen = canteens["A"]
    dishes(canteen)
    plan, _ = menus.generate_plan(None, canteen, WEEK)
    menus.set_slot(None, plan, WEEK, "lunch", [])
    with pytest.raises(ValidationError) as exc:
        menus.publish(None, plan)
    assert any("3月2日（周一）午餐：荤菜 0 道，应为 3 道" in m for m in exc.value.messages)
    plan, _ = menus.generate_plan(None, canteen, WEEK)
    menus.publish(None, plan)
    plan.refresh_from_db()
    assert plan.status == "published"
    with pytest.raises(ValidationError):
        menus.generate_plan(None, canteen, WEEK)
    with pytest.raises(ValidationError):
        menus.set_slot(None, plan, WEEK, "lunch", [])


def test_recipe_text_round_trip_and_bad_lines(canteens):
    canteen = canteens["A"]
    dish = menus.save_dish(None, canteen, name="宫保鸡丁", category="meat")
    lines = menus.parse_recipe(None, canteen.agency, "鸡胸肉，0.12\n花生米 0.02 kg\n\n黄瓜,0.05")
    menus.set_recipe(None, dish, lines)
    assert sorted(menus.recipe_text(dish).splitlines()) == sorted(
        ["鸡胸肉,0.12,kg", "花生米,0.02,kg", "黄瓜,0.05,kg"]
    )
    with pytest.raises(ValidationError) as exc:
        menus.parse_recipe(None, canteen.agency, "鸡胸肉\n黄瓜,abc")
    assert exc.value.messages == [
        "第 1 行应为“名称,每份用量[,单位]”", "第 2 行应为“名称,每份用量[,单位]”",
    ]  # fmt: skip


def test_a_dish_of_another_canteen_cannot_be_planned(canteens):
    dishes(canteens["A"])
    other = menus.save_dish(None, canteens["B"], name="成都菜", category="veg")
    plan = menus.get_plan(None, canteens["A"], WEEK)
    with pytest.raises(ValidationError):
        menus.set_slot(None, plan, WEEK, "lunch", [other])


def test_a_category_with_fewer_dishes_than_a_meal_needs(canteens):
    canteen = canteens["A"]
    dishes(canteen, {"meat": 15, "veg": 10, "staple": 5, "soup": 5, "fruit": 0})
    plan, shortages = menus.generate_plan(None, canteen, WEEK)
    assert shortages == ["水果不足：每餐需 1 道，现有启用菜品只有 0 道，餐次未配齐"]
    assert "3月2日（周一）午餐：水果 0 道，应为 1 道" in menus.violations(plan)


def test_a_quantity_that_is_not_a_finite_number_is_a_row_error(canteens):
    canteen = canteens["A"]
    dish = menus.save_dish(None, canteen, name="番茄炒蛋", category="veg")
    with pytest.raises(ValidationError) as exc:
        menus.parse_recipe(None, canteen.agency, "番茄,0.15\n鸡蛋,nan\n葱,inf\n盐,-Infinity")
    assert exc.value.messages == [f"第 {n} 行应为“名称,每份用量[,单位]”" for n in (2, 3, 4)]
    egg = menus.ingredient_named(None, canteen.agency, "鸡蛋")
    for bad in ("NaN", "Infinity", "sNaN"):
        with pytest.raises(ValidationError) as exc:
            menus.set_recipe(None, dish, [(egg, Decimal(bad))])
        assert "每份用量应为数字" in exc.value.messages[0]
    assert not dish.recipe.exists()
