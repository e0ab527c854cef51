"""Each role's home page in a real headless Chromium: the charts are drawn (SVG), the map
over the offline outline of both provinces; the 大屏 too."""

import pytest

from ..web.test_browser import browser, log_in, page  # noqa: F401 (fixtures)
from .dashboard_fixtures import role_user

pytestmark = pytest.mark.browser

CHARTS = {
    "leader": ("chart-compliance-map", "chart-ranking", "chart-compliance-trend"),
    "fleet": ("chart-live", "chart-cases"),
    "canteen": ("chart-forecast", "chart-waste"),
    "standards": ("chart-coverage", "chart-drafts"),
}


def expect_drawn(tab, chart_id):
    from playwright.sync_api import expect

    chart = tab.locator(f"#{chart_id}")
    expect(chart.locator("svg").first).to_be_attached()
    assert chart.bounding_box()["height"] > 100, chart_id


@pytest.mark.parametrize("kind", list(CHARTS))
def test_role_home_draws_its_charts(transactional_db, live_server, page, world, kind):  # noqa: F811
    from playwright.sync_api import expect

    user = role_user(kind, world["A"])
    log_in(page, live_server.url, user.username)
    for chart_id in CHARTS[kind]:
        expect_drawn(page, chart_id)
    if kind == "leader":  # the districts of both provinces are outlined (38 + 21 areas)
        expect(page.locator("#chart-compliance-map svg path")).not_to_have_count(0)
        assert page.locator("#chart-compliance-map svg path").count() >= 59


def test_screen_draws_dark(transactional_db, live_server, page, world):  # noqa: F811
    user = role_user("leader", world["A"])
    log_in(page, live_server.url, user.username)
    page.goto(f"{live_server.url}/evaluation/screen/")
    for chart_id in ("chart-compliance-map", "chart-ranking", "chart-live", "chart-waste"):
        expect_drawn(page, chart_id)
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(7, 22, 43)"
