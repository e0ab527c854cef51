"""The evaluation templates of data/evaluation_templates.json, loaded into the database.

A template is identified by its name. `load(overwrite=False)` adds a missing template with
all its items and leaves an existing one (and every edit made to it) alone;
`overwrite=True` restores the data: template fields and items as written, and items that
are no longer in the data removed unless an evaluation already scored them.

A template names its region by GB/T 2260 code. Regions are loaded after `migrate` on a fresh
install, so a template whose region is not there yet is skipped; `install_missing()` adds
it later (the evaluation services call it before choosing a template), but never for a
region that already has a template of its own, so a bureau that replaced the data
template with its own does not get the data one back.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from guanjia.core import audit

DATA = Path(__file__).resolve().parent / "data" / "evaluation_templates.json"
ITEM_FIELDS = ("section", "title", "weight", "method", "indicator", "zero_at", "full_at",
               "guidance")  # fmt: skip


def data() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))


def template_rows() -> list[dict]:
    """Each template of the data with its items resolved from its item set."""
    raw = data()
    rows = []
    for t in raw["templates"]:
        items = [dict(i, order=n) for n, i in enumerate(raw["item_sets"][t["item_set"]], 1)]
        rows.append(dict(t, items=items))
    return rows


def _item_defaults(row: dict) -> dict:
    values = {f: row.get(f) for f in ITEM_FIELDS}
    values["indicator"] = values["indicator"] or ""
    values["guidance"] = values["guidance"] or ""
    for f in ("weight", "zero_at", "full_at"):
        if values[f] is not None:
            values[f] = Decimal(str(values[f]))
    values["order"] = row["order"]
    return values


def _template_defaults(row: dict, region) -> dict:
    return {
        "region": region,
        "source": row["source"],
        "pass_score": Decimal(row["pass_score"]),
        "good_score": Decimal(row["good_score"]),
    }


def _upsert(row: dict, region, overwrite: bool) -> tuple[int, int]:
    from .models import EvaluationItem, EvaluationScore, EvaluationTemplate

    template = EvaluationTemplate.objects.filter(name=row["name"]).first()
    if template is not None and not overwrite:
        return 0, 0
    created = template is None
    if created:
        template = EvaluationTemplate.objects.create(
            name=row["name"], **_template_defaults(row, region)
        )
    else:
        for field, value in _template_defaults(row, region).items():
            setattr(template, field, value)
        template.save()
    codes = []
    items = 0
    for item in row["items"]:
        codes.append(item["code"])
        _obj, new = EvaluationItem.objects.update_or_create(
            template=template, code=item["code"], defaults=_item_defaults(item)
        )
        items += new
    stale = template.items.exclude(code__in=codes)
    used = EvaluationScore.objects.filter(item__in=stale).values("item_id")
    stale.exclude(pk__in=used).delete()
    return int(created), items


@transaction.atomic
def load(overwrite: bool = False) -> dict[str, int]:
    """Upsert the templates of the data; {"evaluation_templates": n, "evaluation_items": n}
    added. Runs inside core.audit.installing() when called by canteens.reference."""
    from guanjia.core.models import Region

    added = {"evaluation_templates": 0, "evaluation_items": 0}
    regions = {r.code: r for r in Region.objects.filter(code__in=_region_codes())}
    for row in template_rows():
        code = row.get("region")
        if code and code not in regions:
            continue  # installed once the regions are (install_missing)
        t, i = _upsert(row, regions.get(code), overwrite)
        added["evaluation_templates"] += t
        added["evaluation_items"] += i
    return added


def _region_codes() -> list[str]:
    return [t["region"] for t in data()["templates"] if t.get("region")]


def install_missing() -> int:
    """Add the data templates whose region exists now and has no template yet; how many."""
    from guanjia.core.models import Region

    from .models import EvaluationTemplate

    codes = set(_region_codes())
    have = set(
        EvaluationTemplate.objects.filter(region__code__in=codes).values_list(
            "region__code", flat=True
        )
    )
    wanted = codes - have
    if not wanted or not Region.objects.filter(code__in=wanted).exists():
        return 0
    with audit.installing(), transaction.atomic():
        regions = {r.code: r for r in Region.objects.filter(code__in=wanted)}
        added = 0
        for row in template_rows():
            if row.get("region") in regions:
                added += _upsert(row, regions[row["region"]], overwrite=False)[0]
    return added
