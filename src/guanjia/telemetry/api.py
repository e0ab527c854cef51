"""REST API of the telemetry under /api/v1/telemetry/.

Each part (live state, tracks, rules, trips) keeps its routes in its own module
`api_<part>.py` exposing `router`; this module mounts whichever parts exist.
"""

import importlib
import importlib.util

from ninja import Router

router = Router()

PARTS = ("api_live", "api_track", "api_rules", "api_trips")

for _part in PARTS:
    if importlib.util.find_spec(f"{__package__}.{_part}"):
        router.add_router("", importlib.import_module(f"{__package__}.{_part}").router)
