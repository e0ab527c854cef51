"""REST API of the canteens domain under /api/v1/canteens/.

Each part keeps its routes in its own module `api_<part>.py` exposing `router`; this module
mounts whichever parts exist.
"""

import importlib
import importlib.util

from ninja import Router

router = Router()

PARTS = (
    "api_canteens",
    "api_menus",
    "api_procurement",
    "api_waste",
    "api_safety",
    "api_surveys",
    "api_evaluation",
)

for _part in PARTS:
    if importlib.util.find_spec(f"{__package__}.{_part}"):
        router.add_router("", importlib.import_module(f"{__package__}.{_part}").router)
