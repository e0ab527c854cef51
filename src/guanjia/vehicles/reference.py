"""Reference data of the vehicles domain kept as JSON beside the code, with sources.

`data/configuration_standards.json` holds the configuration ceilings (配备标准) and
`data/thresholds.json` the numbers the rules compare against. Both are loaded after every
`migrate` (post_migrate), upserting by key: a fresh install has them, and a value a bureau
has edited in the database is kept (only missing keys are added) unless `overwrite=True`.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction

from guanjia.core import audit

DATA = Path(__file__).resolve().parent / "data"


def _rows(name: str) -> list[dict]:
    path = DATA / name
    if not path.exists():
        return []
    return json.loads(path.read_text(encoding="utf-8"))["items"]


@transaction.atomic
def load_reference_data(overwrite: bool = False, audited: bool = False) -> dict[str, int]:
    """Upsert the JSON reference data. After `migrate` it is part of installing the
    platform, like a data migration, and leaves no audit records (`audited=False`); an
    administrator's explicit reload (`overwrite=True, audited=True`) is recorded."""
    from guanjia.core.models import Region

    from .models import ConfigurationStandard, Threshold

    added = {"configuration_standards": 0, "thresholds": 0}
    with audit.installing(audited):
        for row in _rows("configuration_standards.json"):
            row = dict(row)
            region = row.pop("region", None)
            if region:
                row["region"] = Region.objects.get(code=region)
            key = row.pop("key")
            if overwrite:
                ConfigurationStandard.objects.update_or_create(key=key, defaults=row)
            else:
                _obj, created = ConfigurationStandard.objects.get_or_create(key=key, defaults=row)
                added["configuration_standards"] += created
        for row in _rows("thresholds.json"):
            row = dict(row)
            key = row.pop("key")
            if overwrite:
                Threshold.objects.update_or_create(key=key, agency=None, defaults=row)
            else:
                _obj, created = Threshold.objects.get_or_create(key=key, agency=None, defaults=row)
                added["thresholds"] += created
    return added
