"""Pages of joint drafting (联合起草): the drafts list; a draft with its versions, its comment
periods and, per clause, the comments with their disposition; the comment form for the
agencies of the period's group, the disposition form for the drafters and the 意见汇总处理表
downloads. Every query starts from `restrict(request.user)`; writes go through `drafting`.
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanjia.web.helpers import requires

from . import drafting
from .models import PRE_PUBLICATION, Comment, CommentPeriod, DraftVersion, Standard

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _drafts(user, action="view"):
    return Standard.objects.restrict(user, action).filter(stage__in=PRE_PUBLICATION)


def _periods(user, action="view"):
    return CommentPeriod.objects.restrict(user, action).distinct()


def _error(request, exc) -> None:
    text = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    messages.error(request, text or _("操作失败"))


@requires("standards.view")
def draft_list(request):
    drafts = list(_drafts(request.user).select_related("agency").order_by("-updated_at", "pk"))
    periods = {}
    for p in _periods(request.user).filter(standard__in=drafts).select_related("group"):
        periods.setdefault(p.standard_id, p)  # the latest (ordering -opens)
    for d in drafts:
        d.period = periods.get(d.pk)
    return render(request, "standards/draft_list.html", {"drafts": drafts, "today": date.today()})


@requires("standards.view")
def draft_detail(request, pk: int):
    user = request.user
    draft = get_object_or_404(_drafts(user).select_related("agency"), pk=pk)
    versions = list(DraftVersion.objects.restrict(user).filter(standard=draft).distinct())
    periods = list(_periods(user).filter(standard=draft).select_related("group", "version"))
    period = periods[0] if periods else None
    is_drafter = user.can("standards.change") and _drafts(user, "change").filter(pk=pk).exists()
    today = date.today()
    clauses, can_comment = [], False
    if period is not None:
        comments = list(
            Comment.objects.restrict(user).filter(period=period).select_related("agency")
        )
        by_clause: dict[str, list[Comment]] = {}
        for c in comments:
            by_clause.setdefault(c.clause_number, []).append(c)
        clauses = [
            {"number": "", "title": _("草案总体"), "text": "", "comments": by_clause.get("", [])}
        ] + [
            {"number": n, "title": t, "text": x, "comments": by_clause.get(n, [])}
            for n, t, x in period.version.clauses
        ]
        members = set(period.group.members.values_list("pk", flat=True))
        members |= {period.group.agency_id, draft.agency_id}
        can_comment = (
            user.agency_id in members and period.is_open(today) and user.can("standards.view")
        )
    elif versions:
        clauses = [
            {"number": n, "title": t, "text": x, "comments": []} for n, t, x in versions[-1].clauses
        ]
    return render(
        request,
        "standards/draft_detail.html",
        {
            "draft": draft,
            "versions": versions,
            "periods": periods,
            "period": period,
            "period_open": period is not None and period.is_open(today),
            "clauses": clauses,
            "can_comment": can_comment,
            "is_drafter": is_drafter,
            "dispositions": [c for c in Comment.Disposition.choices if c[0] != "pending"],
        },
    )


@require_POST
@requires("standards.view")
def draft_comment(request, period_id: int):
    period = get_object_or_404(_periods(request.user).select_related("version"), pk=period_id)
    try:
        drafting.add_comment(
            request.user,
            period,
            request.POST.get("clause_number", ""),
            request.POST.get("text", ""),
        )
        messages.success(request, _("意见已提交"))
    except (ValidationError, PermissionDenied) as exc:
        _error(request, exc)
    return redirect("draft_detail", pk=period.standard_id)


@require_POST
@requires("standards.change")
def draft_dispose(request, comment_id: int):
    comment = get_object_or_404(
        Comment.objects.restrict(request.user, "change").select_related("period"), pk=comment_id
    )
    try:
        drafting.dispose(
            request.user,
            comment,
            request.POST.get("disposition", ""),
            request.POST.get("reason", ""),
        )
        messages.success(request, _("处理意见已保存"))
    except (ValidationError, PermissionDenied) as exc:
        _error(request, exc)
    return redirect("draft_detail", pk=comment.period.standard_id)


@requires("standards.change")
def draft_export(request, period_id: int, fmt: str):
    if fmt not in ("xlsx", "docx"):
        raise Http404(fmt)
    period = get_object_or_404(_periods(request.user, "change"), pk=period_id)
    if fmt == "docx":
        content, content_type = drafting.export_comments_docx(period), DOCX
    else:
        content, content_type = drafting.export_comments_xlsx(period), XLSX
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="comments-{period.pk}.{fmt}"'
    return response
