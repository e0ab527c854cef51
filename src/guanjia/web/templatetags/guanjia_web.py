"""Template filters of the web UI."""

from __future__ import annotations

import json

from django import template

register = template.Library()

EMPTY = (None, "", [], {})


def _shown(value) -> str:
    if value in EMPTY:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


@register.filter
def change_diff(change) -> list[dict]:
    """The keys of an ObjectChange whose values differ between before and after, each with
    its field's label: a creation lists every field, a deletion every old value."""
    before, after = change.before or {}, change.after or {}
    model = change.content_type.model_class()
    labels = {}
    if model is not None:
        for f in model._meta.get_fields():
            if hasattr(f, "verbose_name"):
                labels[f.name] = labels[getattr(f, "attname", f.name)] = f.verbose_name
    keys = [k for k in dict.fromkeys([*before, *after]) if before.get(k) != after.get(k)]
    if change.before is None or change.after is None:  # creation or deletion: set fields only
        keys = [k for k in keys if before.get(k) not in EMPTY or after.get(k) not in EMPTY]
    return [
        {
            "key": k,
            "label": labels.get(k, k),
            "before": _shown(before.get(k)),
            "after": _shown(after.get(k)),
        }
        for k in keys
    ]


@register.filter
def verbose_name(model) -> str:
    return model._meta.verbose_name if model is not None else ""
