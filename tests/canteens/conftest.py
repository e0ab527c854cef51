"""Fixtures of the canteen tests: a canteen at agency A (大足) and one at agency B (成都),
made through the services; the shared browser fixtures."""

import pytest

from guanjia.canteens import services


def make_canteen(agency, code: str, name: str | None = None, **fields):
    return services.save_canteen(
        None, agency=agency, code=code, name=name or f"{agency.name}食堂", **fields
    )


@pytest.fixture
def canteens(world):
    """{"A": 大足 centre canteen (lunch, ~3,000 staff), "B": 成都 bureau canteen}."""
    return {
        "A": make_canteen(
            world["A"], "dz-centre", "大足区机关中心食堂", staff_served=3000, capacity=1200
        ),
        "B": make_canteen(
            world["B"], "cd-bureau", "成都市机关食堂", staff_served=800, capacity=400
        ),
    }


# The browser fixtures (Debian chromium through Playwright) shared with tests/web.
from ..web.test_browser import browser, page  # noqa: E402, F401
