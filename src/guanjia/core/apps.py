from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "guanjia.core"
    label = "core"
    verbose_name = _("组织与系统")

    def ready(self):
        from . import audit, indicators  # noqa: F401  (indicators register on import)

        audit.connect()
        from . import calendar

        calendar.connect()
