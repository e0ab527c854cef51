"""One filter for the register, shared by the pages, the API, the export and the CLI (the
architecture names django-filter for this; it is not installed yet, and this plain function
keeps the same single place).

`agency` includes the agencies below it unless include_below is False; `category`, `status`,
`energy` take codes or Chinese labels; `q` matches a plate (any spelling: full-width, lower
case) or a VIN; `terminal` matches the terminal key (leading zeros ignored).
"""

from __future__ import annotations

from django.db.models import Q

from guanjia.core.scope import subtree_q

from .models import NEW_ENERGY, Category, EnergyType, Vehicle
from .validators import _halfwidth


def _code(value: str | None, choices) -> str | None:
    if not value:
        return None
    for code, label in choices.choices:
        if value in (code, str(label)):
            return code
    return value.upper() if value.upper() in choices.values else value


def filter_vehicles(
    qs,
    *,
    agency=None,
    include_below: bool = True,
    category: str | None = None,
    status: str | None = None,
    energy: str | None = None,
    q: str | None = None,
    terminal: str | None = None,
):
    if agency is not None:
        if include_below:
            qs = qs.filter(subtree_q("agency", agency))
        else:
            qs = qs.filter(agency=agency)
    if category:
        qs = qs.filter(category=_code(category, Category))
    if status:
        qs = qs.filter(status=_code(status, Vehicle.Status))
    if energy:
        if energy == "new_energy":
            qs = qs.filter(energy_type__in=NEW_ENERGY)
        else:
            qs = qs.filter(energy_type=_code(energy, EnergyType))
    if q:
        text = _halfwidth(q).upper()
        if text:
            qs = qs.filter(Q(plate__contains=text) | Q(vin__startswith=text))
    if terminal:
        key = _halfwidth(terminal).lstrip("0")
        qs = qs.filter(terminal_key=key) if key else qs
    return qs
