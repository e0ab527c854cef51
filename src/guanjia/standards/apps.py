from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StandardsConfig(AppConfig):
    name = "guanjia.standards"
    label = "standards"
    verbose_name = _("标准库")

    def ready(self):
        from . import indicators  # noqa: F401  (registers standards.* indicators)
