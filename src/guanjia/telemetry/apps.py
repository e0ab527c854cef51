import importlib
import importlib.util

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TelemetryConfig(AppConfig):
    name = "guanjia.telemetry"
    label = "telemetry"
    verbose_name = _("实时监控")

    def ready(self):
        # Indicator modules register telemetry.* and vehicles.misuse_* keys on import.
        for name in ("indicators",):
            if importlib.util.find_spec(f"{self.name}.{name}"):
                importlib.import_module(f"{self.name}.{name}")
        # The misuse rules register with the case registry and load their defaults after migrate.
        if importlib.util.find_spec(f"{self.name}.rule_defs"):
            importlib.import_module(f"{self.name}.rule_defs").connect_signals(self)
