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
from collections import defaultdict
from collections.abc import Sequence

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Avg, Count, F, Q, Window
from django.db.models.functions import RowNumber
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
    elif "\x00" in comment:  # no database text column can hold it (PostgreSQL refuses it)
        errors["comment"] = _("意见建议含有无法保存的空字符，请删除后重新提交")
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


MAX_COMMENTS = 200  # the latest comments shown per canteen


class Results(Sequence):
    """Survey results per canteen in `canteens` (already in the user's scope), by agency and
    name: the number of responses, the mean of each question, the satisfaction rate and the
    latest comments. A slice (a page) costs one grouped query for the figures of all its
    canteens and one for their comments, however many canteens it holds."""

    def __init__(self, user, canteens, period: Period):
        self.user, self.period = user, period
        self.canteens = canteens.order_by("agency", "name")
        self._count = None

    def count(self) -> int:
        if self._count is None:
            self._count = self.canteens.count()
        return self._count

    def __len__(self) -> int:
        return self.count()

    def all(self):  # django-ninja's paginator counts through .all().count()
        return self

    def __iter__(self):
        return iter(self[:])

    def __getitem__(self, index):
        if isinstance(index, slice):
            return _figures(self.user, list(self.canteens[index]), self.period)
        found = self[index : index + 1]
        if not found:
            raise IndexError(index)
        return found[0]


def _figures(user, canteens: list[Canteen], period: Period) -> list[dict]:
    rows = waste.survey_rows(waste.Source([c.pk for c in canteens], user), period.start, period.end)
    stats = {
        s["canteen_id"]: s
        for s in rows.order_by()
        .values("canteen_id")
        .annotate(
            count=Count("pk"),
            satisfied=Count("pk", filter=Q(overall__gte=waste.SATISFIED_FROM)),
            **{f"{q}_mean": Avg(q) for q in QUESTIONS},
        )
    }
    comments = defaultdict(list)
    latest = (
        rows.filter(~Q(comment=""))
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=F("canteen_id"),
                order_by=(F("submitted_at").desc(), F("pk").desc()),
            )
        )
        .filter(rank__lte=MAX_COMMENTS)
        .order_by("canteen_id", "-submitted_at", "-pk")
        .values("canteen_id", "submitted_at", "overall", "comment")
    )
    for c in latest:
        comments[c.pop("canteen_id")].append(c)
    out = []
    for canteen in canteens:
        got = stats.get(canteen.pk, {})
        count = got.get("count", 0)
        out.append(
            {
                "canteen_id": canteen.pk,
                "canteen_name": canteen.name,
                "agency_id": canteen.agency_id,
                "period": period.label,
                "count": count,
                "means": {
                    q: None if got.get(f"{q}_mean") is None else round(got[f"{q}_mean"], 2)
                    for q in QUESTIONS
                },
                # As waste.satisfaction_rate: the share of overall scores of 4 or 5.
                "satisfaction_rate": round(got["satisfied"] * 100 / count, 2) if count else None,
                "comments": comments[canteen.pk],
            }
        )
    return out


def results(user, canteens, period: Period) -> list[dict]:
    """All of `Results(user, canteens, period)` at once (for an export)."""
    return list(Results(user, canteens, period))


QUESTION_LABELS = {
    "overall": gettext_lazy("总体满意度"),
    "taste": gettext_lazy("口味"),
    "variety": gettext_lazy("品种"),
    "hygiene": gettext_lazy("卫生"),
    "service": gettext_lazy("服务"),
}
