"""Pages of the canteens domain, mounted by guanjia/urls.py at /canteens/.

Each part keeps its pages in `views_<part>.py` with its own `urlpatterns`; this module
joins whichever parts exist (the canteen list and a canteen's own page come last).
"""

import importlib
import importlib.util

PARTS = (
    "views_forecast",
    "views_menus",
    "views_procurement",
    "views_waste",
    "views_safety",
    "views_surveys",
    "views_evaluation",
    "views_canteens",
)

urlpatterns = []
for _part in PARTS:
    if importlib.util.find_spec(f"{__package__}.{_part}"):
        urlpatterns += importlib.import_module(f"{__package__}.{_part}").urlpatterns
