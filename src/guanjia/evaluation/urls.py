"""Pages of the evaluation, mounted by guanjia/urls.py at /evaluation/.

Each part keeps its pages in `views*.py` with its own `urlpatterns`; this module joins
whichever parts exist.
"""

import importlib
import importlib.util

PARTS = ("views", "views_dashboards", "views_scorecards")

urlpatterns = []
for _part in PARTS:
    if importlib.util.find_spec(f"{__package__}.{_part}"):
        urlpatterns += importlib.import_module(f"{__package__}.{_part}").urlpatterns
