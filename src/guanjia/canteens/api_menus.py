"""Dishes and week menus under /api/v1/canteens/.

Reads start from `restrict(request.user)`; writes go through `menus` (the services), which
check the permission and re-check the written object's scope. A canteen a write names is
looked up within the caller's scope first, so a caller who cannot see it gets 404.
"""

import datetime as dt
from decimal import Decimal

from django.db import transaction
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from guanjia.core.api import WRITE_ERRORS, LimitOffset, visible
from guanjia.core.schemas import Error

from . import menus
from .models import Canteen, Dish, DishCategory, MenuPlan

router = Router(tags=["机关食堂"])


# -- dishes -------------------------------------------------------------------------------


class DishOut(Schema):
    id: int
    canteen_id: int
    agency_id: int = Field(alias="canteen.agency_id")
    name: str
    category: str
    portion_g: int
    cost: Decimal
    allergens: str
    is_active: bool
    recipe: list[dict]

    @staticmethod
    def resolve_recipe(obj) -> list[dict]:
        return [
            {"ingredient_id": r.ingredient_id, "ingredient": r.ingredient.name,
             "unit": r.ingredient.unit, "quantity": str(r.quantity)}
            for r in obj.recipe.all()
        ]  # fmt: skip


class RecipeIn(Schema):
    ingredient: str = Field(description="食材名称（本单位没有时新建）")
    quantity: Decimal = Field(gt=0, description="每份用量")
    unit: str = "kg"


class DishIn(Schema):
    canteen_id: int
    name: str
    category: DishCategory
    portion_g: int = 150
    cost: Decimal = Decimal("0")
    allergens: str = ""
    recipe: list[RecipeIn] = []


class DishFilter(Schema):
    canteen: int | None = None
    category: str | None = None
    active: bool | None = None


def _dishes(request):
    return (
        Dish.objects.restrict(request.user)
        .select_related("canteen")
        .prefetch_related("recipe__ingredient")
    )


@router.get("/dishes", response=list[DishOut], summary="菜品")
@paginate(LimitOffset)
def list_dishes(request, filters: Query[DishFilter]):
    qs = _dishes(request)
    if filters.canteen:
        qs = qs.filter(canteen_id=filters.canteen)
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.active is not None:
        qs = qs.filter(is_active=filters.active)
    return qs.order_by("canteen_id", "category", "name")


@router.post("/dishes", response={201: DishOut, **WRITE_ERRORS}, summary="新增菜品（含配方）")
def create_dish(request, data: DishIn):
    canteen = visible(request, Canteen, data.canteen_id)
    fields = data.dict(exclude={"canteen_id", "recipe"})
    with transaction.atomic():
        dish = menus.save_dish(request.user, canteen, **fields)
        lines = [
            (menus.ingredient_named(request.user, canteen.agency, r.ingredient, r.unit), r.quantity)
            for r in data.recipe
        ]
        menus.set_recipe(request.user, dish, lines)
    return Status(201, _dishes(request).get(pk=dish.pk))


# -- menu plans ---------------------------------------------------------------------------


class PlanOut(Schema):
    id: int
    canteen_id: int
    agency_id: int = Field(alias="canteen.agency_id")
    week_start: dt.date
    status: str


class SlotOut(Schema):
    date: dt.date
    meal: str
    open: bool
    dishes: list[dict]


class PlanDetail(PlanOut):
    days: list[SlotOut]
    violations: list[str]
    shortages: list[str] = []

    @staticmethod
    def resolve_days(obj) -> list[dict]:
        return [
            {"date": row["date"], "meal": m["meal"], "open": row["open"],
             "dishes": [{"id": d.pk, "name": d.name, "category": d.category}
                        for d in m["dishes"]]}
            for row in menus.grid(obj) for m in row["meals"]
        ]  # fmt: skip

    @staticmethod
    def resolve_violations(obj) -> list[str]:
        return menus.violations(obj)


class PlanFilter(Schema):
    canteen: int | None = None
    week_start: dt.date | None = None
    status: str | None = None


class GenerateIn(Schema):
    canteen_id: int
    week_start: dt.date = Field(description="周一日期")
    seed: int = Field(0, description="相同的 seed 生成相同的菜单")


@router.get("/menu-plans", response=list[PlanOut], summary="周菜单")
@paginate(LimitOffset)
def list_plans(request, filters: Query[PlanFilter]):
    qs = MenuPlan.objects.restrict(request.user).select_related("canteen")
    if filters.canteen:
        qs = qs.filter(canteen_id=filters.canteen)
    if filters.week_start:
        qs = qs.filter(week_start=filters.week_start)
    if filters.status:
        qs = qs.filter(status=filters.status)
    return qs.order_by("-week_start", "canteen_id")


@router.get(
    "/menu-plans/{int:plan_id}", response={200: PlanDetail, 404: Error}, summary="周菜单详情"
)
def get_plan(request, plan_id: int):
    """每个开餐日、每个餐次的菜品，以及不符合配餐规则（荤素主食汤水果数量、N 天内不重复）之处。"""
    return visible(request, MenuPlan, plan_id)


@router.post(
    "/menu-plans/generate", response={200: PlanDetail, **WRITE_ERRORS}, summary="自动生成周菜单"
)
def generate_plan(request, data: GenerateIn):
    """按食堂配餐规则与不重复天数生成（草稿）；菜品不足的类别在 shortages 中说明。"""
    canteen = visible(request, Canteen, data.canteen_id, "change")
    plan, shortages = menus.generate_plan(
        request.user, canteen, menus.week_monday(data.week_start), seed=data.seed
    )
    plan.shortages = shortages
    return plan
