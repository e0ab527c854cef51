"""Waste under /api/v1/canteens/: weighings (one meal's streams at once, or a file import),
clean-plate observations, a canteen's indicators with the year-on-year change, and its
dashboard series.

Reads start from `restrict(request.user)`; writes go through `waste` (the services). A
canteen a write names is looked up among the canteens the caller may see first, so one the
caller cannot see is 404.
"""

import datetime as dt
from decimal import Decimal

from django.shortcuts import get_object_or_404
from ninja import Field, File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from guanjia.core.api import WRITE_ERRORS, LimitOffset
from guanjia.core.indicator_registry import Period
from guanjia.core.schemas import Error

from . import waste
from .models import Canteen, Meal, PlateObservation, WasteRecord, WasteStream
from .waste_io import import_weighings

router = Router(tags=["机关食堂"])
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def _canteen(request, pk: int) -> Canteen:
    return get_object_or_404(Canteen.objects.restrict(request.user), pk=pk)


def _period(text: str | None) -> Period:
    """The named period; the current year when none is named."""
    from django.core.exceptions import ValidationError

    text = text or str(waste.today().year)
    try:
        return Period.parse(text)
    except ValueError as exc:
        raise ValidationError({"period": str(exc)}) from None


# -- weighings ------------------------------------------------------------------------------


class WasteOut(Schema):
    id: int
    canteen_id: int
    agency_id: int = Field(alias="canteen.agency_id")
    date: dt.date
    meal: str
    stream: str
    edible: bool
    weight_kg: Decimal
    item: str


class WasteFilter(Schema):
    canteen: int | None = None
    start: dt.date | None = None
    end: dt.date | None = Field(None, description="不含该日")
    stream: WasteStream | None = None
    meal: Meal | None = None
    edible: bool | None = None


class StreamIn(Schema):
    stream: WasteStream
    weight_kg: Decimal
    edible: bool = True
    item: str = ""


class WeighingsIn(Schema):
    canteen_id: int
    date: dt.date
    meal: Meal = Meal.LUNCH
    entries: list[StreamIn] = Field(description="同一餐次的各类别称重；重量为 0 的项不记录")


@router.get("/waste-records", response=list[WasteOut], summary="称重记录")
@paginate(LimitOffset)
def list_waste(request, filters: Query[WasteFilter]):
    qs = WasteRecord.objects.restrict(request.user).select_related("canteen")
    canteen = _canteen(request, filters.canteen) if filters.canteen else None
    fields = filters.dict(exclude={"canteen"})
    return waste.filter_records(qs, canteen=canteen, **fields).order_by("-date", "meal", "pk")


@router.post("/waste-records", response={201: list[WasteOut], **WRITE_ERRORS},
             summary="登记一个餐次的称重（可多个类别）")  # fmt: skip
def create_waste(request, data: WeighingsIn):
    rows = waste.record_weighings(
        request.user, _canteen(request, data.canteen_id), date=data.date, meal=data.meal,
        entries=[e.dict() for e in data.entries],
    )  # fmt: skip
    return Status(201, WasteRecord.objects.filter(pk__in=[r.pk for r in rows]).order_by("pk"))


class ImportOut(Schema):
    imported: int
    errors: list[dict]


@router.post(
    "/waste-records/import",
    response={200: ImportOut, 422: ImportOut, 400: Error, 403: Error},
    summary="导入称重记录（Excel/CSV）",
)
def import_waste(request, file: File[UploadedFile]):
    """表头：食堂、日期、餐次、类别、可食、重量(千克)、品名。全部或全不：任一行有误（食堂不存在
    或不在权限范围内、重量为负、日期晚于今天、餐次或类别未知…）则不导入，返回每处错误的行号
    （表头为第 1 行）与列名（422）。"""
    if file.size and file.size > MAX_UPLOAD_BYTES:
        error = {"row": 1, "column": "", "message": "文件超过 20 MB"}
        return Status(422, {"imported": 0, "errors": [error]})
    result = import_weighings(request.user, file.name or "upload.csv", file.read())
    return Status(422 if result["errors"] else 200, result)


# -- clean-plate observations ---------------------------------------------------------------


class PlateOut(Schema):
    id: int
    canteen_id: int
    agency_id: int = Field(alias="canteen.agency_id")
    date: dt.date
    meal: str
    trays_observed: int
    clean_trays: int
    observer: str


class PlateIn(Schema):
    canteen_id: int
    date: dt.date
    meal: Meal = Meal.LUNCH
    trays_observed: int
    clean_trays: int
    observer: str = ""


@router.get("/plate-observations", response=list[PlateOut], summary="光盘观察")
@paginate(LimitOffset)
def list_plates(request, canteen: int | None = None, start: dt.date | None = None,
                end: dt.date | None = None):  # fmt: skip
    qs = PlateObservation.objects.restrict(request.user).select_related("canteen")
    if canteen:
        qs = qs.filter(canteen=_canteen(request, canteen))
    if start:
        qs = qs.filter(date__gte=start)
    if end:
        qs = qs.filter(date__lt=end)
    return qs.order_by("-date", "meal", "pk")


@router.post("/plate-observations", response={201: PlateOut, **WRITE_ERRORS},
             summary="登记光盘观察")  # fmt: skip
def create_plate(request, data: PlateIn):
    row = waste.record_plate_observation(
        request.user, _canteen(request, data.canteen_id), **data.dict(exclude={"canteen_id"})
    )
    return Status(201, PlateObservation.objects.select_related("canteen").get(pk=row.pk))


# -- indicators and dashboard ---------------------------------------------------------------


class IndicatorRowOut(Schema):
    key: str
    label: str
    unit: str
    higher_is_better: bool | None
    basis: str = Field(description="canteen：按本食堂；agency：按食堂所属单位")
    period: str
    value: float | None
    last_year_period: str
    last_year: float | None
    change_pct: float | None
    improved: bool | None


class IndicatorTableOut(Schema):
    canteen_id: int
    agency_id: int
    rows: list[IndicatorRowOut]


@router.get("/canteens/{canteen_id}/waste-indicators", response=IndicatorTableOut,
            summary="食堂指标及同比")  # fmt: skip
def waste_indicators(request, canteen_id: int, period: str | None = None):
    """光盘率、人均餐厨垃圾量、倾销量日均值、满意度等 canteen.* 指标：本期值、上年同期值与同比
    变化（%）。period 为 2026、2026Q3 或 2026-03。"""
    canteen = _canteen(request, canteen_id)
    rows = waste.indicator_table(request.user, canteen, _period(period))
    return {"canteen_id": canteen.pk, "agency_id": canteen.agency_id, "rows": rows}


class DashboardOut(Schema):
    canteen_id: int
    agency_id: int
    period: str
    by: str
    target_g: float
    trend: list[dict]
    streams: list[dict]
    top_items: list[dict]
    forecast: list[dict]


class DashboardQuery(Schema):
    period: str | None = Field(None, description="2026、2026Q3 或 2026-03；默认本年")
    by: str = Field("week", pattern="^(week|month)$")


@router.get("/canteens/{canteen_id}/waste-dashboard", response=DashboardOut,
            summary="餐厨垃圾看板数据")  # fmt: skip
def waste_dashboard(request, canteen_id: int, q: Query[DashboardQuery]):
    """人均餐厨垃圾量按周或月的趋势（目标值 target_g）、各类别（可食/不可食）重量、品名排行、
    预测与实际就餐人数。"""
    canteen = _canteen(request, canteen_id)
    data = waste.dashboard(request.user, canteen, _period(q.period), q.by, indicators=False)
    return data | {
        "canteen_id": canteen.pk, "agency_id": canteen.agency_id,
        "period": data["period"].label,
    }  # fmt: skip
