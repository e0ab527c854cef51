from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationConfig(AppConfig):
    name = "guanjia.evaluation"
    label = "evaluation"
    verbose_name = _("达标评价")

    def ready(self):
        from . import staleness

        staleness.connect()
