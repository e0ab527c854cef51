from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CanteensConfig(AppConfig):
    name = "guanjia.canteens"
    label = "canteens"
    verbose_name = _("机关食堂")

    # Each part registers its canteen.* indicators in its own module.
    INDICATOR_MODULES = ("indicators", "indicators_waste", "indicators_procurement")

    def ready(self):
        import importlib
        import importlib.util

        for name in self.INDICATOR_MODULES:
            if importlib.util.find_spec(f"{self.name}.{name}"):
                importlib.import_module(f"{self.name}.{name}")
        post_migrate.connect(_load_reference_data, sender=self, dispatch_uid="canteens_reference")


def _load_reference_data(sender, **kwargs):
    import importlib.util

    if importlib.util.find_spec("guanjia.canteens.reference"):
        from .reference import load_reference_data

        load_reference_data()
