"""Background tasks of the canteens (Django's tasks API through the django-tasks backport)."""

from django.core.management import call_command
from django_tasks import task


@task()
def refresh_forecasts() -> str:
    """Every canteen's forecast for the next 14 days (enqueued daily by `guanjia up`)."""
    call_command("canteen", "forecast", "--json", verbosity=0)
    return "ok"
