"""Background tasks of the core (Django's tasks API through the django-tasks backport)."""

from django.utils import timezone
from django_tasks import task

from .models import Heartbeat


@task()
def heartbeat() -> str:
    """Run by the worker on a schedule; /healthz reads the time it last ran."""
    now = timezone.now()
    Heartbeat.objects.update_or_create(name="worker", defaults={"seen_at": now})
    return now.isoformat()
