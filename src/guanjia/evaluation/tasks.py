"""Background tasks of the evaluation (Django's tasks API through the django-tasks backport)."""

from django.utils import timezone
from django_tasks import task


@task()
def evaluate_recent() -> dict:
    """Enqueued by `guanjia up` every 6 hours: every bureau's verdicts for the current and the
    last complete month, then whatever a data change marked stale."""
    from guanjia.core.indicator_registry import Period
    from guanjia.core.models import Agency

    from . import services

    today = timezone.localdate()
    current = Period.parse(f"{today:%Y-%m}")
    periods = (current.previous(), current)
    bureaus = Agency.objects.filter(kind__in=[Agency.Kind.BUREAU, Agency.Kind.CENTRE])
    done = 0
    for agency in bureaus:
        for period in periods:
            services.evaluate_and_store(agency, period)
            done += 1
    return {"evaluated": done, "stale": services.recompute_stale()}
