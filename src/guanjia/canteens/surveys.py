"""Diner satisfaction surveys: the anonymous form's submission and the results per period.

Anonymity: a response keeps the canteen, the scores, the comment and the time — no user, no
address, no session key. Abuse is held back without identifying anyone: one response per
browser session per canteen every `SESSION_GAP` (a timestamp in the session, which is never
written to the response), and at most `hourly_cap(canteen)` responses per canteen per hour
(a counter in the cache).
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Avg, Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanjia.core.indicator_registry import Period

from . import services, waste
from .models import Canteen, SurveyResponse

QUESTIONS = ("overall", "taste", "variety", "hygiene", "service")
SESSION_GAP = dt.timedelta(minutes=30)
MAX_COMMENT = 500


class TooFrequent(Exception):
    """The form was sent again too soon (by this browser or for this canteen)."""


def canteen_for_token(token) -> Canteen:
    """The active canteen whose survey link this is; LookupError otherwise."""
    try:
        token = uuid.UUID(str(token))
    except ValueError:
        raise LookupError(_("问卷链接无效")) from None
    canteen = Canteen.objects.filter(survey_token=token, is_active=True).first()
    if canteen is None:
        raise LookupError(_("问卷链接无效"))
    return canteen


def hourly_cap(canteen: Canteen) -> int:
    """More responses in an hour than a canteen has diners is a script, not diners."""
    return max(200, canteen.staff_served, canteen.capacity)


def check_scores(data: dict) -> dict:
    """The cleaned answer, or ValidationError: overall 1–5 required, the others 1–5 or
    blank, a comment of at most 500 characters."""
    errors, clean = {}, {}
    for q in QUESTIONS:
        raw = data.get(q)
        if raw in (None, ""):
            if q == "overall":
                errors[q] = _("请为总体满意度打分")
            clean[q] = None
            continue
        try:
            value = int(str(raw).strip())
        except ValueError:
            value = 0
        if not 1 <= value <= 5:
            errors[q] = _("评分应为1至5分")
        clean[q] = value
    comment = str(data.get("comment") or "").strip()
    if len(comment) > MAX_COMMENT:
        errors["comment"] = _("意见建议不能超过500字")
    clean["comment"] = comment
    if errors:
        raise ValidationError(errors)
    return clean


def _session_key(canteen: Canteen) -> str:
    return f"canteen-survey-{canteen.survey_token}"


def submit(canteen: Canteen, data: dict, session=None, now=None) -> SurveyResponse:
    """Save one anonymous response (as the system: there is no user). `session` is the
    browser's session (a dict-like) used only for the re-send gap."""
    now = now or timezone.now()
    clean = check_scores(data)
    if session is not None:
        last = session.get(_session_key(canteen))
        if last and now - dt.datetime.fromisoformat(last) < SESSION_GAP:
            raise TooFrequent(_("您刚刚已提交过问卷，感谢参与"))
    hour_key = f"canteen-survey-{canteen.pk}-{now:%Y%m%d%H}"
    cache.add(hour_key, 0, timeout=3600)
    if cache.incr(hour_key) > hourly_cap(canteen):
        raise TooFrequent(_("提交过于频繁，请稍后再试"))
    response = services.save(None, SurveyResponse(canteen=canteen, **clean))
    if session is not None:
        session[_session_key(canteen)] = now.isoformat()
    return response


def results(user, canteens, period: Period) -> list[dict]:
    """Per canteen in `canteens` (already in the user's scope): the number of responses, the
    mean of each question, the satisfaction rate (waste.satisfaction_rate) and comments."""
    out = []
    for canteen in canteens.order_by("agency", "name"):
        src = waste.Source(canteens.filter(pk=canteen.pk), user)
        rows = waste.survey_rows(src, period.start, period.end)
        stats = rows.aggregate(count=Count("pk"), **{f"{q}_mean": Avg(q) for q in QUESTIONS})
        comments = list(
            rows.filter(~Q(comment=""))
            .order_by("-submitted_at")
            .values("submitted_at", "overall", "comment")[:200]
        )
        out.append(
            {
                "canteen_id": canteen.pk,
                "canteen_name": canteen.name,
                "agency_id": canteen.agency_id,
                "period": period.label,
                "count": stats["count"],
                "means": {
                    q: None if stats[f"{q}_mean"] is None else round(stats[f"{q}_mean"], 2)
                    for q in QUESTIONS
                },
                "satisfaction_rate": waste.satisfaction_rate(src, period.start, period.end),
                "comments": comments,
            }
        )
    return out


QUESTION_LABELS = {
    "overall": gettext_lazy("总体满意度"),
    "taste": gettext_lazy("口味"),
    "variety": gettext_lazy("品种"),
    "hygiene": gettext_lazy("卫生"),
    "service": gettext_lazy("服务"),
}
