"""REST API of the vehicles domain under /api/v1/vehicles/.

Each part (register, dispatch, lifecycle, cases) keeps its routes in its own module
`api_<part>.py` exposing `router`; this module mounts whichever parts exist.
"""

import importlib
import importlib.util

from ninja import Router

router = Router()

PARTS = ("api_register", "api_dispatch", "api_lifecycle", "api_cases")

for _part in PARTS:
    if importlib.util.find_spec(f"{__package__}.{_part}"):
        router.add_router("", importlib.import_module(f"{__package__}.{_part}").router)
