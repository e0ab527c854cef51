"""Which standards an agency applies on a day — what its requirements are evaluated against.

A standard applies to an agency when it is in force that day (`with_status`) and either
* it binds by level and region: national and industry standards everywhere; a local
  standard (DB) where its region is the agency's region or one above it (DB50 in every
  Chongqing district, DB5101 only in Chengdu); or
* it is the internal standard of the agency or of an agency above it; or
* the agency, or one above it, has adopted it (StandardAdoption: 川渝 mutual recognition,
  group standards).
"""

from __future__ import annotations

from datetime import date

from django.db.models import Q

from guanjia.core.models import Agency

from .models import Standard, StandardAdoption


def _ancestors(agency: Agency):
    """The agency and every agency above it (their paths are prefixes of its path)."""
    step = Agency.steplen
    prefixes = [agency.path[:n] for n in range(step, len(agency.path) + 1, step)]
    return Agency.objects.filter(path__in=prefixes)


def applicable_standards(agency: Agency, on: date, standards=None):
    """The standards `agency` applies on `on` (a queryset; `standards` narrows it, e.g. to
    what a user may see)."""
    qs = Standard.objects.all() if standards is None else standards
    above = _ancestors(agency)
    path, step = agency.region.path, agency.region.steplen
    region_paths = [path[:n] for n in range(step, len(path) + 1, step)]  # the region and above
    binds = Q(level__in=[Standard.Level.NATIONAL, Standard.Level.INDUSTRY]) | Q(
        level=Standard.Level.LOCAL, region__path__in=region_paths
    )
    internal = Q(level=Standard.Level.INTERNAL, agency__in=above)
    adopted = Q(
        pk__in=StandardAdoption.objects.filter(agency__in=above, adopted_on__lte=on).values(
            "standard"
        )
    )
    return qs.with_status(on).filter(binds | internal | adopted, status="in_force")
