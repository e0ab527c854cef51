"""Pages of procurement and stock: the supplier register, purchase requests made from the
menu and the forecast, a request's quotation comparison with award and receipt (and its
Excel), an ingredient's price history, and the stock with its turnover days. Every query
starts from `restrict(request.user)`; writes go through `procurement` and `stock`."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanjia.core.models import Agency
from guanjia.web.helpers import add_service_error, paginate, requires

from . import procurement, stock
from .forms_procurement import (
    AwardForm,
    FromForecastForm,
    MovementForm,
    PeriodForm,
    QuotationForm,
    ReceiveForm,
    SupplierForm,
)
from .models import Canteen, Ingredient, PurchaseRequest, Quotation, StockMovement, Supplier
from .procurement_io import comparison_workbook, stock_workbook
from .reference import rule

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _canteens(user, action="view"):
    return Canteen.objects.restrict(user, action).filter(is_active=True).order_by("name")


def _error(request, exc) -> None:
    text = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    messages.error(request, text or _("操作失败"))


def _xlsx(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# -- suppliers ----------------------------------------------------------------------------


@requires("canteens.view")
def supplier_list(request):
    user = request.user
    agencies = Agency.objects.restrict(user).order_by("path")
    form = SupplierForm(request.POST or None, agencies=agencies, initial={"agency": user.agency_id})
    if request.method == "POST":
        if not user.can("canteens.add"):
            raise PermissionDenied(_("没有权限：canteens.add"))
        if form.is_valid():
            try:
                procurement.save_supplier(user, **form.cleaned_data)
            except (ValidationError, PermissionDenied) as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("已登记供应商"))
                return redirect("procurement_suppliers")
    suppliers = Supplier.objects.restrict(user).select_related("agency")
    today = timezone.localdate()
    page = paginate(request, suppliers)
    states = procurement.licence_states(page, today)
    for s in page:
        s.licence = states[s.pk]
    return render(
        request,
        "canteens/procurement_suppliers.html",
        {"page": page, "form": form, "can_add": user.can("canteens.add")},
    )


# -- purchase requests --------------------------------------------------------------------


@requires("canteens.view")
def purchase_list(request):
    user = request.user
    form = FromForecastForm(request.POST or None, canteens=_canteens(user, "add"))
    if request.method == "POST":
        if not user.can("canteens.add"):
            raise PermissionDenied(_("没有权限：canteens.add"))
        if form.is_valid():
            d = form.cleaned_data
            try:
                pr = procurement.request_from_forecast(
                    user, d["canteen"], d["start"], d["end"], needed_on=d["needed_on"]
                )
            except (ValidationError, PermissionDenied) as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("已生成采购申请"))
                return redirect("procurement_detail", pk=pr.pk)
    qs = PurchaseRequest.objects.restrict(user).select_related("canteen", "awarded__supplier")
    if status := request.GET.get("status"):
        qs = qs.filter(status=status)
    return render(
        request,
        "canteens/procurement_list.html",
        {
            "page": paginate(request, qs.order_by("-needed_on", "-pk")),
            "form": form,
            "status": status or "",
            "statuses": PurchaseRequest.Status.choices,
            "can_add": user.can("canteens.add"),
        },
    )


def _request(request, pk, action="view"):
    qs = PurchaseRequest.objects.restrict(request.user, action).select_related(
        "canteen__agency", "awarded__supplier"
    )
    return get_object_or_404(qs, pk=pk)


@requires("canteens.view")
def purchase_detail(request, pk: int):
    user = request.user
    pr = _request(request, pk)
    lines = pr.lines.select_related("ingredient")
    suppliers = Supplier.objects.restrict(user).filter(agency=pr.canteen.agency, is_active=True)
    quote_form = QuotationForm(request.POST or None, suppliers=suppliers, lines=lines)
    if request.method == "POST":
        if not user.can("canteens.change"):
            raise PermissionDenied(_("没有权限：canteens.change"))
        if quote_form.is_valid():
            d = quote_form.cleaned_data
            try:
                procurement.add_quotation(
                    user, pr, d["supplier"], received_on=d["received_on"],
                    valid_until=d["valid_until"], lead_time_days=d["lead_time_days"],
                    prices=quote_form.prices(),
                )  # fmt: skip
            except (ValidationError, PermissionDenied) as exc:
                add_service_error(quote_form, exc)
            else:
                messages.success(request, _("已登记报价"))
                return redirect("procurement_detail", pk=pr.pk)
    rows = procurement.compare(pr)
    return render(
        request,
        "canteens/procurement_detail.html",
        {
            "pr": pr,
            "lines": lines,
            "rows": rows,
            "unit_rows": [(line, [r.unit_prices.get(line.pk) for r in rows]) for line in lines],
            "inquiry": procurement.inquiry(pr, pr.awarded),
            "estimated": stock.cents(procurement.estimated_amount(pr)),
            "quote_form": quote_form,
            "receive_form": ReceiveForm(initial={"date": timezone.localdate()}),
            "open": pr.status in procurement.OPEN,
            "can_change": user.can("canteens.change"),
        },
    )


@require_POST
@requires("canteens.change")
def purchase_award(request, pk: int):
    pr = _request(request, pk, "change")
    form = AwardForm(request.POST)
    if form.is_valid():
        quotation = get_object_or_404(
            Quotation.objects.restrict(request.user).filter(request=pr),
            pk=form.cleaned_data["quotation"],
        )
        try:
            procurement.award(request.user, pr, quotation, form.cleaned_data["reason"])
            messages.success(request, _("已选定 %(s)s") % {"s": quotation.supplier.name})
        except (ValidationError, PermissionDenied) as exc:
            _error(request, exc)
    return redirect("procurement_detail", pk=pr.pk)


@require_POST
@requires("canteens.change")
def purchase_receive(request, pk: int):
    pr = _request(request, pk, "change")
    form = ReceiveForm(request.POST)
    if form.is_valid():
        try:
            rows = procurement.receive(request.user, pr, form.cleaned_data["date"])
            messages.success(request, _("已入库 %(n)d 项") % {"n": len(rows)})
        except (ValidationError, PermissionDenied) as exc:
            _error(request, exc)
    else:
        messages.error(request, _("请填写入库日期"))
    return redirect("procurement_detail", pk=pr.pk)


@require_POST
@requires("canteens.change")
def purchase_cancel(request, pk: int):
    pr = _request(request, pk, "change")
    try:
        procurement.cancel(request.user, pr)
        messages.success(request, _("已取消"))
    except (ValidationError, PermissionDenied) as exc:
        _error(request, exc)
    return redirect("procurement_detail", pk=pr.pk)


@requires("canteens.view")
def purchase_export(request, pk: int):
    pr = _request(request, pk)
    return _xlsx(comparison_workbook(pr), f"purchase-{pr.pk}-quotations.xlsx")


@requires("canteens.view")
def price_history(request, pk: int):
    ingredient = get_object_or_404(Ingredient.objects.restrict(request.user), pk=pk)
    history = procurement.price_history(ingredient, Canteen.objects.restrict(request.user))
    return render(
        request,
        "canteens/procurement_prices.html",
        {"ingredient": ingredient, "history": list(reversed(history))},
    )


# -- stock ----------------------------------------------------------------------------------


@requires("canteens.view")
def stock_levels(request):
    user = request.user
    movements = StockMovement.objects.restrict(user)
    canteen = request.GET.get("canteen", "")
    if canteen.isdigit():
        movements = movements.filter(canteen_id=int(canteen))
    form = MovementForm(
        request.POST or None,
        canteens=_canteens(user, "add"),
        ingredients=Ingredient.objects.restrict(user).order_by("name"),
    )
    if request.method == "POST":
        if not user.can("canteens.add"):
            raise PermissionDenied(_("没有权限：canteens.add"))
        if form.is_valid():
            d = dict(form.cleaned_data)
            try:
                stock.record_movement(user, d.pop("canteen"), d.pop("ingredient"), **d)
            except (ValidationError, PermissionDenied) as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("已登记"))
                return redirect("stock_levels")
    period = PeriodForm(request.GET if "start" in request.GET else None,
                        initial=PeriodForm.default())  # fmt: skip
    bounds = period.cleaned_data if period.is_bound and period.is_valid() else PeriodForm.default()
    levels = stock.levels(movements)
    if request.GET.get("format") == "xlsx":
        return _xlsx(stock_workbook(levels), "stock.xlsx")
    turnover = stock.turnover_days(movements, bounds["start"], bounds["end"])
    recent = movements.select_related("canteen", "ingredient").order_by("-date", "-pk")
    return render(
        request,
        "canteens/stock_levels.html",
        {
            "levels": levels,
            "total": sum((lv.value for lv in levels), stock.ZERO),
            "canteens": _canteens(user),
            "canteen": canteen,
            "period": period,
            "start": bounds["start"],
            "end": bounds["end"],
            "turnover": None if turnover is None else round(turnover, 1),
            "turnover_rule": rule("stock.max_turnover_days"),
            "page": paginate(request, recent),
            "form": form,
            "can_add": user.can("canteens.add"),
        },
    )


urlpatterns = [
    path("suppliers/", supplier_list, name="procurement_suppliers"),
    path("purchases/", purchase_list, name="procurement_list"),
    path("purchases/<int:pk>/", purchase_detail, name="procurement_detail"),
    path("purchases/<int:pk>/award/", purchase_award, name="procurement_award"),
    path("purchases/<int:pk>/receive/", purchase_receive, name="procurement_receive"),
    path("purchases/<int:pk>/cancel/", purchase_cancel, name="procurement_cancel"),
    path("purchases/<int:pk>/quotations.xlsx", purchase_export, name="procurement_export"),
    path("prices/<int:pk>/", price_history, name="procurement_prices"),
    path("stock/", stock_levels, name="stock_levels"),
]
