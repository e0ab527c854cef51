"""Stored requirements and their indicator links under /api/v1/standards/.

Every object is looked up through `restrict(request.user, action)` (outside the caller's
scope: 404); the services re-check the scope inside the transaction.
"""

from __future__ import annotations

from datetime import datetime

from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from guanjia.core.schemas import Error

from . import linking
from .models import Requirement, Standard

router = Router(tags=["标准库"])
WRITE_ERRORS = {403: Error, 404: Error, 422: Error}


class StoredRequirementOut(Schema):
    id: int
    clause: str
    subject: str
    op: str
    value: float
    unit: str
    strength: str
    indicator_key: str
    confirmed_by: str | None
    confirmed_at: datetime | None

    @staticmethod
    def resolve_clause(obj) -> str:
        return obj.clause.number

    @staticmethod
    def resolve_confirmed_by(obj) -> str | None:
        return obj.confirmed_by.username if obj.confirmed_by else None


class RefreshOut(Schema):
    created: int
    kept: int
    removed: int
    requirements: list[StoredRequirementOut]


class LinkIn(Schema):
    indicator_key: str


def _rows(standard: Standard):
    return (
        Requirement.objects.filter(clause__standard=standard)
        .select_related("clause", "confirmed_by")
        .order_by("clause__position", "pk")
    )


@router.post(
    "/{int:standard_id}/requirements/refresh",
    response={200: RefreshOut, **WRITE_ERRORS},
    summary="重新提取并保存量化要求",
)
def refresh_requirements(request, standard_id: int):
    """未确认的要求按正文重新提取；已确认指标的要求（章条号与对象不变）保留其指标。"""
    standard = get_object_or_404(Standard.objects.restrict(request.user, "change"), pk=standard_id)
    counts = linking.refresh_requirements(request.user, standard)
    return {**counts, "requirements": list(_rows(standard))}


@router.post(
    "/requirements/{int:requirement_id}/link",
    response={200: StoredRequirementOut, **WRITE_ERRORS},
    summary="确认量化要求对应的指标",
)
def link_requirement(request, requirement_id: int, data: LinkIn):
    requirement = get_object_or_404(
        Requirement.objects.restrict(request.user, "change"), pk=requirement_id
    )
    linking.confirm_link(request.user, requirement, data.indicator_key)
    return Requirement.objects.select_related("clause", "confirmed_by").get(pk=requirement.pk)
