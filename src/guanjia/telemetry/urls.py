"""Pages of telemetry, mounted by guanjia/urls.py at /telemetry/.

Each part keeps its pages in `views_<part>.py` with its own `urlpatterns`; this module
joins whichever parts exist.
"""

import importlib
import importlib.util

PARTS = ("views_live", "views_rules", "views_rule_overrides", "views_trips")

urlpatterns = []
for _part in PARTS:
    if importlib.util.find_spec(f"{__package__}.{_part}"):
        urlpatterns += importlib.import_module(f"{__package__}.{_part}").urlpatterns
