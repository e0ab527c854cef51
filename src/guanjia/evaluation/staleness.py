"""Stored verdicts go stale when the data under them change.

A write to any audited record of a domain an indicator reads (canteens, vehicles,
telemetry) marks the stored results of its agency and of every agency above it stale
(their subtree's numbers changed); a change to a standard's requirements or their links
marks every result stale. The next run (`guanjia evaluate`, the task `guanjia up` enqueues,
or a page's recompute button) recomputes them. One UPDATE per write; bulk loads that bypass
signals (the demo world) are followed by a full evaluation anyway.
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save

DOMAINS = ("canteens", "vehicles", "telemetry")
STANDARDS_MODELS = ("Requirement", "Standard", "StandardAdoption")


def _mark(sender, instance, raw=False, **kwargs) -> None:
    if raw:
        return
    from guanjia.core.models import Agency, ChangeLogged

    from .models import RequirementResult

    label = sender._meta.app_label
    if label == "standards" and sender.__name__ in STANDARDS_MODELS:
        RequirementResult.objects.filter(stale=False).update(stale=True)
        return
    if label not in DOMAINS or not isinstance(instance, ChangeLogged):
        return
    agency_id = instance.audit_agency_id()
    if agency_id is None:
        return
    path = Agency.objects.filter(pk=agency_id).values_list("path", flat=True).first()
    if not path:
        return
    step = Agency.steplen
    above = [path[:n] for n in range(step, len(path) + 1, step)]
    RequirementResult.objects.filter(agency__path__in=above, stale=False).update(stale=True)


def connect() -> None:
    post_save.connect(_mark, dispatch_uid="evaluation-stale-save")
    post_delete.connect(_mark, dispatch_uid="evaluation-stale-delete")
