"""Pages of menus: dishes with their recipes, the week menu grid (generate, edit a meal,
publish) and the printable week menu. Every query starts from `restrict(request.user)`;
writes go through `menus`."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanjia.web.helpers import add_service_error, paginate, requires

from . import menus
from .forms_menus import DishForm, SlotForm, WeekForm
from .models import Canteen, Dish, DishCategory, Meal, MenuPlan


def _canteens(user, action="view"):
    return Canteen.objects.restrict(user, action).filter(is_active=True).order_by("name")


def _error(request, exc) -> None:
    text = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    messages.error(request, text or _("操作失败"))


# -- dishes ---------------------------------------------------------------------------------


@requires("canteens.view")
def dish_list(request):
    qs = Dish.objects.restrict(request.user).select_related("canteen")
    canteen, category = request.GET.get("canteen", ""), request.GET.get("category", "")
    if canteen.isdigit():
        qs = qs.filter(canteen_id=int(canteen))
    if category:
        qs = qs.filter(category=category)
    if q := request.GET.get("q"):
        qs = qs.filter(name__contains=q)
    return render(
        request,
        "canteens/menu_dishes.html",
        {
            "page": paginate(request, qs.prefetch_related("recipe__ingredient")),
            "canteens": _canteens(request.user),
            "categories": DishCategory.choices,
            "canteen": canteen,
            "category": category,
            "can_add": request.user.can("canteens.add"),
        },
    )


@requires("canteens.view")
def dish_edit(request, pk: int | None = None):
    user = request.user
    dish = get_object_or_404(Dish.objects.restrict(user, "change"), pk=pk) if pk else None
    initial = {"recipe": menus.recipe_text(dish)} if dish else {}
    form = DishForm(
        request.POST or None, instance=dish, canteens=_canteens(user, "add"), initial=initial
    )
    if request.method == "POST":
        if not user.can("canteens.change" if dish else "canteens.add"):
            raise PermissionDenied(_("没有权限修改菜品"))
        if form.is_valid():
            d = dict(form.cleaned_data)
            canteen, recipe = d.pop("canteen"), d.pop("recipe")
            try:
                with transaction.atomic():
                    saved = menus.save_dish(user, canteen, dish, **d)
                    lines = menus.parse_recipe(user, canteen.agency, recipe)
                    menus.set_recipe(user, saved, lines)
            except (ValidationError, PermissionDenied) as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("已保存菜品 %(d)s") % {"d": saved.name})
                return redirect(f"{reverse('menu_dishes')}?canteen={canteen.pk}")
    return render(request, "canteens/menu_dish_form.html", {"form": form, "dish": dish})


# -- week plans -----------------------------------------------------------------------------


def _week_from(request):
    """The canteen and Monday the page shows (?canteen=&week=), within the user's scope."""
    canteens = _canteens(request.user)
    form = WeekForm(request.GET or None, canteens=canteens)
    if form.is_bound and form.is_valid():
        return form, form.cleaned_data["canteen"], menus.week_monday(form.cleaned_data["week"])
    return form, canteens.first(), form.fields["week"].initial


def _week_url(canteen, week: dt.date) -> str:
    return f"{reverse('menu_week')}?canteen={canteen.pk}&week={week.isoformat()}"


@requires("canteens.view")
def menu_week(request):
    form, canteen, week = _week_from(request)
    plan = rows = None
    found = []
    if canteen is not None:
        plan = MenuPlan.objects.restrict(request.user).filter(canteen=canteen, week_start=week)
        plan = plan.first()
        if plan:
            rows, found = menus.grid(plan), menus.violations(plan)
    return render(
        request,
        "canteens/menu_week.html",
        {
            "form": form,
            "canteen": canteen,
            "week": week,
            "previous": week - dt.timedelta(days=7),
            "next": week + dt.timedelta(days=7),
            "plan": plan,
            "rows": rows,
            "violations": found,
            "rule": menus.rule_counts(canteen) if canteen else {},
            "categories": dict(DishCategory.choices),
            "can_change": request.user.can("canteens.change"),
        },
    )


@require_POST
@requires("canteens.add")
def menu_generate(request):
    try:
        pk = int(request.POST.get("canteen", ""))
    except ValueError:
        raise Http404(_("没有该食堂")) from None
    canteen = get_object_or_404(_canteens(request.user, "change"), pk=pk)
    try:
        week = menus.week_monday(dt.date.fromisoformat(request.POST.get("week", "")))
        seed = int(request.POST.get("seed") or 0)
    except ValueError:
        messages.error(request, _("日期或随机种子格式不正确"))
        return redirect("menu_week")
    try:
        _plan, shortages = menus.generate_plan(request.user, canteen, week, seed=seed)
    except (ValidationError, PermissionDenied) as exc:
        _error(request, exc)
    else:
        for text in shortages:
            messages.warning(request, text)
        if not shortages:
            messages.success(request, _("已生成周菜单（草稿）"))
    return redirect(_week_url(canteen, week))


@require_POST
@requires("canteens.change")
def menu_publish(request, pk: int):
    plan = get_object_or_404(MenuPlan.objects.restrict(request.user, "change"), pk=pk)
    try:
        if request.POST.get("action") == "unpublish":
            menus.unpublish(request.user, plan)
            messages.success(request, _("已撤回为草稿"))
        else:
            menus.publish(request.user, plan)
            messages.success(request, _("周菜单已发布"))
    except (ValidationError, PermissionDenied) as exc:
        _error(request, exc)
    return redirect(_week_url(plan.canteen, plan.week_start))


@requires("canteens.view")
def menu_slot(request, pk: int):
    """Edit the dishes of one meal of one day of a draft plan."""
    plan = get_object_or_404(MenuPlan.objects.restrict(request.user, "change"), pk=pk)
    try:
        day = dt.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        day = plan.week_start
    meal = request.GET.get("meal") if request.GET.get("meal") in Meal.values else Meal.LUNCH
    current = plan.items.filter(date=day, meal=meal).values_list("dish", flat=True)
    dishes = Dish.objects.filter(canteen=plan.canteen, is_active=True).order_by("category", "name")
    form = SlotForm(request.POST or None, dishes=dishes, initial={"dishes": list(current)})
    if request.method == "POST":
        if not request.user.can("canteens.change"):
            raise PermissionDenied(_("没有权限：canteens.change"))
        if form.is_valid():
            try:
                menus.set_slot(request.user, plan, day, meal, form.cleaned_data["dishes"])
            except (ValidationError, PermissionDenied) as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("已保存"))
                return redirect(_week_url(plan.canteen, plan.week_start))
    return render(
        request,
        "canteens/menu_slot.html",
        {
            "plan": plan,
            "form": form,
            "label": f"{menus.day_label(day)}{menus.meal_label(meal)}",
            "back": _week_url(plan.canteen, plan.week_start),
        },
    )


@requires("canteens.view")
def menu_print(request, pk: int):
    plan = get_object_or_404(
        MenuPlan.objects.restrict(request.user).select_related("canteen"), pk=pk
    )
    rows = [r for r in menus.grid(plan) if r["open"]]
    return render(
        request,
        "canteens/menu_print.html",
        {"plan": plan, "rows": rows, "end": plan.week_start + dt.timedelta(days=6)},
    )


urlpatterns = [
    path("dishes/", dish_list, name="menu_dishes"),
    path("dishes/new/", dish_edit, name="menu_dish_add"),
    path("dishes/<int:pk>/edit/", dish_edit, name="menu_dish_edit"),
    path("menus/", menu_week, name="menu_week"),
    path("menus/generate/", menu_generate, name="menu_generate"),
    path("menus/<int:pk>/publish/", menu_publish, name="menu_publish"),
    path("menus/<int:pk>/slot/", menu_slot, name="menu_slot"),
    path("menus/<int:pk>/print/", menu_print, name="menu_print"),
]
