from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class EvaluationConfig(AppConfig):
    name = "guanjia.evaluation"
    label = "evaluation"
    verbose_name = _("达标评价")

    def ready(self):
        from . import staleness

        staleness.connect()
        from .scorecard_data import load_after_migrate

        post_migrate.connect(load_after_migrate, sender=self, dispatch_uid="scorecard_templates")
