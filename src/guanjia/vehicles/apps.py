from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class VehiclesConfig(AppConfig):
    name = "guanjia.vehicles"
    label = "vehicles"
    verbose_name = _("公务用车")

    def ready(self):
        import importlib
        import importlib.util

        # Indicator modules register vehicles.* and dispatch.* keys on import.
        for name in ("indicators", "indicators_dispatch", "indicators_lifecycle"):
            if importlib.util.find_spec(f"{self.name}.{name}"):
                importlib.import_module(f"{self.name}.{name}")
        post_migrate.connect(_load_reference_data, sender=self, dispatch_uid="vehicles_reference")


def _load_reference_data(sender, **kwargs):
    from .reference import load_reference_data

    load_reference_data()
