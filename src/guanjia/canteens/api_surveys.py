"""Diner satisfaction results under /api/v1/canteens/ (the answering form itself is a public
page, not an API). Only canteens the caller may see are counted."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from guanjia.core.api import LimitOffset
from guanjia.core.indicator_registry import Period

from . import surveys, waste
from .models import Canteen

router = Router(tags=["机关食堂"])


class ResultQuery(Schema):
    canteen: int | None = None
    period: str | None = Field(None, description="2026、2026Q3 或 2026-03；默认本年")


def _scope(request, q: ResultQuery):
    canteens = Canteen.objects.restrict(request.user)
    if q.canteen:
        canteens = canteens.filter(pk=get_object_or_404(canteens, pk=q.canteen).pk)
    try:
        period = Period.parse(q.period or str(waste.today().year))
    except ValueError as exc:
        raise ValidationError({"period": str(exc)}) from None
    return canteens, period


class CommentOut(Schema):
    submitted_at: dt.datetime
    overall: int
    comment: str


class ResultOut(Schema):
    canteen_id: int
    canteen_name: str
    agency_id: int
    period: str
    count: int
    means: dict[str, float | None]
    satisfaction_rate: float | None
    comments: list[CommentOut]


@router.get("/survey-results", response=list[ResultOut], summary="满意度问卷结果")
@paginate(LimitOffset)
def survey_results(request, q: Query[ResultQuery]):
    """每个食堂在统计期内的问卷份数、各题平均分（1–5 分）、满意度（总体 4 分及以上的占比，
    DB50/T 9001—2022 9.2）与意见建议。"""
    canteens, period = _scope(request, q)
    return surveys.Results(request.user, canteens, period)  # figured for the page only


class ResponseOut(Schema):
    id: int
    canteen_id: int
    agency_id: int = Field(alias="canteen.agency_id")
    submitted_at: dt.datetime
    overall: int
    taste: int | None
    variety: int | None
    hygiene: int | None
    service: int | None
    comment: str


@router.get("/survey-responses", response=list[ResponseOut], summary="问卷答卷（匿名）")
@paginate(LimitOffset)
def survey_responses(request, q: Query[ResultQuery]):
    canteens, period = _scope(request, q)
    rows = waste.survey_rows(waste.Source(canteens, request.user), period.start, period.end)
    return rows.select_related("canteen").order_by("-submitted_at", "pk")
