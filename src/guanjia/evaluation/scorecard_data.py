"""The scorecard templates of data/scorecard_templates.json, loaded into the database.

A template is identified by its key. `load()` adds a missing template with its items and
leaves an existing one (and every edit made to it) alone; it also attaches the region a
data template names once that region exists (regions are loaded after `migrate`, so on a
fresh install the template comes first). A template with `from_canteens` takes its items
and lines from the canteens' evaluation data (indicator items become linear ones, the
excellent line the canteens' derived one), so the two never drift apart.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from . import scoring

DATA = Path(__file__).resolve().parent / "data" / "scorecard_templates.json"
ITEM_FIELDS = ("section", "title", "weight", "rule", "indicator", "op", "threshold", "zero_at",
               "full_at", "guidance")  # fmt: skip


def _from_canteens(row: dict) -> dict:
    from guanjia.canteens.reference_evaluation import template_rows

    source = next(t for t in template_rows() if t["name"] == row["from_canteens"])
    items = [
        dict(
            i,
            rule="linear" if i["method"] == "indicator" else "reviewer",
            indicator=i.get("indicator") or "",
        )
        for i in source["items"]
    ]
    return dict(
        row,
        source=source["source"],
        pass_line=source["pass_score"],
        good_line=source["good_score"],
        excellent_line=str(scoring.midpoint_excellent(source["good_score"])),
        items=items,
    )


def template_rows() -> list[dict]:
    """Every template of the data with its items, `order` numbered from 1."""
    rows = []
    for row in json.loads(DATA.read_text(encoding="utf-8"))["templates"]:
        if row.get("from_canteens"):
            row = _from_canteens(row)
        row["items"] = [dict(i, order=n) for n, i in enumerate(row["items"], 1)]
        rows.append(row)
    return rows


def _item_values(row: dict) -> dict:
    values = {f: row.get(f) for f in ITEM_FIELDS}
    for f in ("indicator", "op", "guidance"):
        values[f] = values[f] or ""
    for f in ("weight", "threshold", "zero_at", "full_at"):
        if values[f] is not None:
            values[f] = Decimal(str(values[f]))
    values["order"] = row["order"]
    return values


@transaction.atomic
def load() -> dict[str, int]:
    """Add the missing data templates and attach regions that now exist; counts added."""
    from guanjia.core.models import Region

    from .models import ScorecardItem, ScorecardTemplate

    added = {"scorecard_templates": 0, "scorecard_items": 0}
    rows = template_rows()
    regions = {r.code: r for r in Region.objects.filter(code__in=[t["region"] for t in rows
                                                                 if t.get("region")])}  # fmt: skip
    for row in rows:
        region = regions.get(row.get("region") or "")
        template = ScorecardTemplate.objects.filter(key=row["key"]).first()
        if template is not None:
            if template.region_id is None and region is not None:
                template.region = region
                template.save(update_fields=["region"])
            continue
        template = ScorecardTemplate.objects.create(
            key=row["key"], name=row["name"], region=region, source=row["source"],
            pass_line=Decimal(row["pass_line"]), good_line=Decimal(row["good_line"]),
            excellent_line=Decimal(row["excellent_line"]),
        )  # fmt: skip
        ScorecardItem.objects.bulk_create(
            ScorecardItem(template=template, code=i["code"], **_item_values(i))
            for i in row["items"]
        )
        added["scorecard_templates"] += 1
        added["scorecard_items"] += len(row["items"])
    return added


def load_after_migrate(sender, **kwargs) -> None:
    """post_migrate: install the templates as the system, without audit records."""
    from guanjia.core import audit

    with audit.installing():
        load()
