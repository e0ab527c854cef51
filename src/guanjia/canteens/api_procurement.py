"""Suppliers, purchase requests with price inquiry, quotations, award, receipt and stock
under /api/v1/canteens/.

Reads start from `restrict(request.user)`; writes go through `procurement` and `stock`
(the services), which check the permission and re-check the written object's scope.
Objects a write refers to (a canteen, a supplier, a quotation, an agency) are looked up
within the caller's scope first, so a caller who cannot see them gets 404.
"""

import datetime as dt
from decimal import Decimal

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from guanjia.core.api import WRITE_ERRORS, LimitOffset, visible, write_agency
from guanjia.core.models import Agency
from guanjia.core.schemas import Error
from guanjia.core.scope import subtree_q

from . import procurement, stock
from .models import (
    Canteen,
    Ingredient,
    PurchaseRequest,
    Quotation,
    StockMovement,
    Supplier,
)

router = Router(tags=["机关食堂"])


def _agency(request, pk: int) -> Agency:
    return get_object_or_404(Agency.objects.restrict(request.user), pk=pk)


# -- suppliers ----------------------------------------------------------------------------


class SupplierOut(Schema):
    id: int
    agency_id: int
    name: str
    uscc: str
    contact: str
    phone: str
    categories: str
    licence_no: str
    licence_expiry: dt.date | None
    licence_state: str
    is_active: bool

    @staticmethod
    def resolve_licence_state(obj, context) -> str:
        # One WarnDays per request: a page of suppliers reads each agency's rule once.
        request = context["request"]
        if not hasattr(request, "licence_warn_days"):
            request.licence_warn_days = procurement.WarnDays()
        return procurement.licence_state(obj, warn_days=request.licence_warn_days)


class SupplierIn(Schema):
    agency_id: int | None = None
    name: str
    uscc: str = ""
    contact: str = ""
    phone: str = ""
    categories: str = ""
    licence_no: str = ""
    licence_expiry: dt.date | None = None


@router.get("/suppliers", response=list[SupplierOut], summary="供应商名录")
@paginate(LimitOffset)
def list_suppliers(request, agency: int | None = None, active: bool | None = None):
    """licence_state：expired（许可证已过期）/ expiring（即将到期）/ missing / valid。"""
    qs = Supplier.objects.restrict(request.user).select_related("agency")
    if agency is not None:
        qs = qs.filter(subtree_q("agency", _agency(request, agency)))
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs


@router.post("/suppliers", response={201: SupplierOut, **WRITE_ERRORS}, summary="登记供应商")
def create_supplier(request, data: SupplierIn):
    fields = data.dict(exclude={"agency_id"})
    sup = procurement.save_supplier(
        request.user, agency=write_agency(request, data.agency_id), **fields
    )
    return Status(201, sup)


# -- purchase requests --------------------------------------------------------------------


class LineOut(Schema):
    id: int
    ingredient_id: int
    ingredient: str = Field(alias="ingredient.name")
    unit: str = Field(alias="ingredient.unit")
    quantity: Decimal
    estimated_price: Decimal


class RequestOut(Schema):
    id: int
    canteen_id: int
    agency_id: int = Field(alias="canteen.agency_id")
    needed_on: dt.date
    status: str
    note: str
    awarded_id: int | None
    award_reason: str


class QuotationRow(Schema):
    id: int
    supplier_id: int
    supplier: str
    received_on: dt.date
    valid_until: dt.date
    total: Decimal
    expired: bool
    cheapest: bool
    licence_state: str
    unit_prices: dict[int, Decimal]


class InquiryOut(Schema):
    amount: Decimal
    threshold: Decimal
    min_suppliers: int
    suppliers: int
    required: bool
    satisfied: bool
    source: str


class RequestDetail(RequestOut):
    lines: list[LineOut]
    estimated_amount: Decimal
    inquiry: InquiryOut
    quotations: list[QuotationRow]

    @staticmethod
    def resolve_lines(obj):
        return obj.lines.select_related("ingredient")

    @staticmethod
    def resolve_estimated_amount(obj) -> Decimal:
        return stock.cents(procurement.estimated_amount(obj))

    @staticmethod
    def resolve_inquiry(obj) -> dict:
        i = procurement.inquiry(obj, obj.awarded)
        return {**i.__dict__, "amount": stock.cents(i.amount), "required": i.required,
                "satisfied": i.satisfied}  # fmt: skip

    @staticmethod
    def resolve_quotations(obj) -> list[dict]:
        return [
            {"id": r.quotation.pk, "supplier_id": r.supplier.pk, "supplier": r.supplier.name,
             "received_on": r.quotation.received_on, "valid_until": r.quotation.valid_until,
             "total": stock.cents(r.total), "expired": r.expired, "cheapest": r.cheapest,
             "licence_state": r.licence,
             "unit_prices": {k: v.quantize(Decimal("0.0001")) for k, v in r.unit_prices.items()}}
            for r in procurement.compare(obj)
        ]  # fmt: skip


class RequestFilter(Schema):
    canteen: int | None = None
    status: str | None = None


class FromForecastIn(Schema):
    canteen_id: int
    start: dt.date
    end: dt.date = Field(description="不含该日")
    needed_on: dt.date | None = None
    note: str = ""


class QuoteLineIn(Schema):
    line_id: int
    pack_size: Decimal = Field(Decimal("1"), gt=0, description="每包装数量（食材计量单位）")
    pack_price: Decimal = Field(ge=0, description="每包装价格（元）")


class QuotationIn(Schema):
    supplier_id: int
    received_on: dt.date
    valid_until: dt.date
    lead_time_days: int = 1
    lines: list[QuoteLineIn]


class AwardIn(Schema):
    quotation_id: int
    reason: str = Field("", description="未选最低价有效报价时必填")


class ReceiveIn(Schema):
    date: dt.date | None = None


def _requests(request):
    return PurchaseRequest.objects.restrict(request.user).select_related(
        "canteen", "awarded", "canteen__agency"
    )


@router.get("/purchase-requests", response=list[RequestOut], summary="采购申请")
@paginate(LimitOffset)
def list_requests(request, filters: Query[RequestFilter]):
    qs = _requests(request)
    if filters.canteen:
        qs = qs.filter(canteen_id=filters.canteen)
    if filters.status:
        qs = qs.filter(status=filters.status)
    return qs.order_by("-needed_on", "-pk")


@router.get(
    "/purchase-requests/{int:request_id}",
    response={200: RequestDetail, 404: Error},
    summary="采购申请详情与报价比较",
)
def get_request(request, request_id: int):
    """报价按归一化单价（每包装价格 ÷ 每包装数量）比较；合计最低的有效报价 cheapest 为真，
    过期报价 expired 为真；inquiry 说明是否须询价（DB50/T 9001—2022 5.1）及是否已满足。"""
    return visible(request, PurchaseRequest, request_id)


@router.post(
    "/purchase-requests/from-forecast",
    response={201: RequestDetail, **WRITE_ERRORS},
    summary="按菜单与就餐预测生成采购申请",
)
def create_from_forecast(request, data: FromForecastIn):
    """份数 = P50 ×（1 + 安全系数），不超过 P90；
    食材用量 = 配方每份用量 × 份数（同类多道菜平分）。"""
    canteen = visible(request, Canteen, data.canteen_id)
    pr = procurement.request_from_forecast(
        request.user, canteen, data.start, data.end, needed_on=data.needed_on, note=data.note
    )
    return Status(201, _requests(request).get(pk=pr.pk))


@router.post(
    "/purchase-requests/{int:request_id}/quotations",
    response={201: RequestDetail, **WRITE_ERRORS},
    summary="登记报价",
)
def add_quotation(request, request_id: int, data: QuotationIn):
    pr = visible(request, PurchaseRequest, request_id, "change")
    supplier = visible(request, Supplier, data.supplier_id)
    procurement.add_quotation(
        request.user, pr, supplier, received_on=data.received_on, valid_until=data.valid_until,
        lead_time_days=data.lead_time_days,
        prices={ln.line_id: (ln.pack_size, ln.pack_price) for ln in data.lines},
    )  # fmt: skip
    return Status(201, _requests(request).get(pk=pr.pk))


@router.post(
    "/purchase-requests/{int:request_id}/award",
    response={200: RequestDetail, **WRITE_ERRORS},
    summary="选定供应商",
)
def award(request, request_id: int, data: AwardIn):
    """超过询价金额的须有不少于规定家数的报价；过期报价不能选定；未选最低价须填写理由。"""
    pr = visible(request, PurchaseRequest, request_id, "change")
    quotation = get_object_or_404(
        Quotation.objects.restrict(request.user).filter(request=pr), pk=data.quotation_id
    )
    procurement.award(request.user, pr, quotation, data.reason)
    return _requests(request).get(pk=pr.pk)


@router.post(
    "/purchase-requests/{int:request_id}/receive",
    response={200: RequestDetail, **WRITE_ERRORS},
    summary="采购入库",
)
def receive(request, request_id: int, data: ReceiveIn):
    """按选定报价的单价逐项入库。"""
    pr = visible(request, PurchaseRequest, request_id, "change")
    procurement.receive(request.user, pr, data.date)
    return _requests(request).get(pk=pr.pk)


# -- stock ----------------------------------------------------------------------------------


class LevelOut(Schema):
    canteen_id: int
    agency_id: int
    ingredient_id: int
    ingredient: str
    unit: str
    quantity: Decimal
    value: Decimal
    average_cost: Decimal | None


class MovementIn(Schema):
    canteen_id: int
    ingredient_id: int
    kind: StockMovement.Kind
    quantity: Decimal = Field(gt=0)
    date: dt.date
    unit_cost: Decimal | None = Field(None, description="入库必填；出库、报损按移动加权平均成本")
    note: str = ""


class MovementOut(Schema):
    id: int
    canteen_id: int
    agency_id: int = Field(alias="canteen.agency_id")
    ingredient_id: int
    kind: str
    quantity: Decimal
    unit_cost: Decimal
    date: dt.date
    note: str


class StockFilter(Schema):
    canteen: int | None = None
    on: dt.date | None = Field(None, description="结存日期（含），默认全部")


@router.get("/stock", response=list[LevelOut], summary="库存结存")
@paginate(LimitOffset)
def list_stock(request, filters: Query[StockFilter]):
    """每个食堂每种食材的结存数量与金额（移动加权平均成本）。"""
    qs = StockMovement.objects.restrict(request.user)
    if filters.canteen:
        qs = qs.filter(canteen_id=filters.canteen)
    return [
        {"canteen_id": lv.canteen.pk, "agency_id": lv.canteen.agency_id,
         "ingredient_id": lv.ingredient.pk, "ingredient": lv.ingredient.name,
         "unit": lv.ingredient.unit, "quantity": lv.quantity, "value": lv.value,
         "average_cost": lv.average_cost}
        for lv in stock.levels(qs, filters.on)
    ]  # fmt: skip


@router.post("/stock/movements", response={201: MovementOut, **WRITE_ERRORS}, summary="出入库登记")
def create_movement(request, data: MovementIn):
    """出库、报损不得超过当日结存。"""
    canteen = visible(request, Canteen, data.canteen_id)
    ingredient = visible(request, Ingredient, data.ingredient_id)
    row = stock.record_movement(
        request.user, canteen, ingredient, kind=data.kind, quantity=data.quantity,
        date=data.date, unit_cost=data.unit_cost, note=data.note,
    )  # fmt: skip
    return Status(201, StockMovement.objects.select_related("canteen").get(pk=row.pk))


class PriceOut(Schema):
    date: dt.date
    source: str
    canteen: str
    supplier: str
    unit_price: Decimal


@router.get(
    "/prices/{int:ingredient_id}",
    response={200: list[PriceOut], 404: Error},
    summary="食材价格历史",
)
def price_history(request, ingredient_id: int):
    """选定报价与采购入库的单价，按日期先后。"""
    ingredient = visible(request, Ingredient, ingredient_id)
    return procurement.price_history(ingredient, Canteen.objects.restrict(request.user))
