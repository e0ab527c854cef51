"""Reading the library the same way in the CLI, the API and the pages: a standard by its
code in any written form, and a standard as one JSON-ready dict."""

from __future__ import annotations

from django.db.models import F, Q

from .codes import parse_code
from .models import Standard


def standard_by_code(text: str, queryset=None) -> Standard:
    """The standard with this code (any dash, spacing or width); an undated code means the
    latest edition. LookupError when the library (or `queryset`) has none."""
    try:
        code = parse_code(text)
    except ValueError as exc:
        raise LookupError(str(exc)) from None
    qs = queryset if queryset is not None else Standard.objects.all()
    if code.year:
        found = qs.filter(code_key=code.key).first()
    else:
        found = (
            qs.filter(code_prefix=code.prefix, code_number=code.number)
            .order_by(F("year").desc(nulls_last=True), "-pk")
            .first()
        )
    if found is None:
        raise LookupError(f"标准库中没有 {code.display}")
    return found


def matching(queryset, text: str):
    """Standards whose title contains `text`, or whose code is `text` in any written form
    (an undated code: every edition). Full-text search is `search.py`'s."""
    text = (text or "").strip()
    if not text:
        return queryset
    cond = Q(title__contains=text) | Q(code__icontains=text)
    try:
        code = parse_code(text)
    except ValueError:
        pass
    else:
        cond |= Q(code_key=code.key) | Q(code_prefix=code.prefix, code_number=code.number)
    return queryset.filter(cond)


def replaced_codes(standard: Standard) -> list[str]:
    """Every code named in the standard's "代替…", in the library or not."""
    codes = [parse_code(k).display for k in standard.replaces_keys.split()]
    for s in standard.replaces.all():
        if s.code not in codes:
            codes.append(s.code)
    return codes


def standard_as_dict(standard: Standard, user=None, today=None) -> dict:
    """The standard with status, clauses, terms and references. With `user`, links to other
    library entries (references, replaced by) only where that user may see them."""
    visible = None
    if user is not None:
        ids = {r.target_id for r in standard.references.all() if r.target_id}
        ids |= set(standard.replaced_by.values_list("pk", flat=True))
        visible = set(
            Standard.objects.restrict(user, "view").filter(pk__in=ids).values_list("pk", flat=True)
        )

    def shown(pk):
        return pk is not None and (visible is None or pk in visible)

    status = standard.status if today is None else _status_on(standard, today)
    return {
        "id": standard.pk,
        "code": standard.code,
        "title": standard.title,
        "english_title": standard.english_title,
        "status": status,
        "status_label": str(dict(Standard.Status.choices).get(status, status)),
        "level": standard.level,
        "level_label": standard.get_level_display(),
        "mandatory": standard.mandatory,
        "region": standard.region.code if standard.region_id else None,
        "issuer": standard.issuer,
        "ics": standard.ics,
        "ccs": standard.ccs,
        "issue_date": _iso(standard.issue_date),
        "effective_date": _iso(standard.effective_date),
        "withdrawn_date": _iso(standard.withdrawn_date),
        "agency": standard.agency.name,
        "clauses": [
            {"number": c.number, "title": c.title, "text": c.text, "kind": c.kind}
            for c in standard.clauses.order_by("position")
        ],
        "terms": [
            {"number": t.number, "term": t.term, "english": t.english, "definition": t.definition}
            for t in standard.terms.all()
        ],
        "references": [
            {
                "code": r.code,
                "dated": r.dated,
                "title": r.title,
                "in_library": shown(r.target_id),
            }
            for r in standard.references.all()
        ],
        "replaces": replaced_codes(standard),
        "replaced_by": [s.code for s in standard.replaced_by.order_by("-year") if shown(s.pk)],
    }


def _status_on(standard, today):
    from .models import derived_status

    return derived_status(standard, today)


def _iso(value):
    return value.isoformat() if value else None
