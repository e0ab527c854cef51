"""Pages of the vehicles domain, mounted by guanjia/urls.py at /vehicles/.

Each part keeps its pages in `views_<part>.py` with its own `urlpatterns`; this module
joins whichever parts exist (register first: its catch-all vehicle page comes last).
"""

import importlib
import importlib.util

PARTS = ("views_dispatch", "views_lifecycle", "views_cases", "views_register")

urlpatterns = []
for _part in PARTS:
    if importlib.util.find_spec(f"{__package__}.{_part}"):
        urlpatterns += importlib.import_module(f"{__package__}.{_part}").urlpatterns
