"""Reference data of the canteens domain kept as JSON beside the code, with sources.

`data/rules.json` holds the numbers the canteen rules compare against; parts add their own
loaders (`reference_<part>.py` exposing `load(overwrite)`), e.g. the evaluation templates.
Loaded after every `migrate` (post_migrate), upserting by key: a fresh install has them and
a value a bureau has edited is kept unless `overwrite=True`. Installing leaves no audit
records (core.audit.installing); an administrator's explicit reload is recorded.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from guanjia.core import audit

DATA = Path(__file__).resolve().parent / "data"
PART_LOADERS = ("reference_evaluation",)


def rows(name: str) -> list[dict]:
    path = DATA / name
    if not path.exists():
        return []
    return json.loads(path.read_text(encoding="utf-8"))["items"]


@transaction.atomic
def load_reference_data(overwrite: bool = False, audited: bool = False) -> dict[str, int]:
    from .models import CanteenRule

    added = {"rules": 0}
    with audit.installing(audited):
        for row in rows("rules.json"):
            row = dict(row)
            key = row.pop("key")
            if overwrite:
                CanteenRule.objects.update_or_create(key=key, agency=None, defaults=row)
            else:
                _obj, created = CanteenRule.objects.get_or_create(
                    key=key, agency=None, defaults=row
                )
                added["rules"] += created
        for part in PART_LOADERS:
            if importlib.util.find_spec(f"{__package__}.{part}"):
                added.update(importlib.import_module(f"{__package__}.{part}").load(overwrite))
    return added


def rule(key: str, agency=None):
    """The rule row that applies to `agency`: its own override, else the default."""
    from .models import CanteenRule

    return CanteenRule.applying(key, agency)


def rule_value(key: str, agency=None) -> Decimal:
    return rule(key, agency).value
