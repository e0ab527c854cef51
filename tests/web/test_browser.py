"""The web UI in a real headless Chromium (Debian's, never a downloaded one), driven by
Playwright against pytest-django's live server."""

import os
from pathlib import Path

import pytest

from ..conftest import PASSWORD

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs a loop

CHROMIUM = os.environ.get("GUANJIA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.browser


def browser_required() -> bool:
    """In CI and under scripts/test a missing browser is a failure, not a quiet skip."""
    return os.environ.get("CI") == "true" or os.environ.get("GUANJIA_REQUIRE_BROWSER") == "1"


def no_browser(reason: str):
    (pytest.fail if browser_required() else pytest.skip)(reason)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        no_browser(f"Debian's chromium is not installed ({CHROMIUM})")
    try:
        from playwright import sync_api
    except ImportError:
        no_browser("playwright is not installed")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def log_in(page, base_url, username):
    page.goto(f"{base_url}/")
    assert "/login/" in page.url  # anonymous: sent to the login page
    assert page.locator("h1").inner_text().replace(" ", "") == "登录"
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator(".login-box button[type=submit]").click()
    page.wait_for_url(f"{base_url}/")


def test_login_expand_tree_and_open_child(transactional_db, live_server, page, users, world):
    from playwright.sync_api import expect

    base = live_server.url
    log_in(page, base, "user_agency_and_below")
    expect(page.locator(".who")).to_contain_text(world["A"].name)

    page.get_by_role("link", name="单位树").click()
    page.wait_for_url(f"{base}/org/agencies/")
    root = page.locator(f'li.node[data-agency="{world["A"].pk}"]')
    expect(root).to_be_visible()
    child = page.locator(f'li.node[data-agency="{world["A1"].pk}"]')
    expect(child).to_have_count(0)  # children are fetched only when the node is expanded
    assert world["B"].name not in page.content()

    with page.expect_response(lambda r: "/children/" in r.url):
        root.locator("summary .twisty").first.click()
    expect(child).to_be_visible()
    expect(child).to_contain_text(world["A1"].name)

    child.get_by_role("link", name=world["A1"].name).click()
    page.wait_for_url(f"{base}/org/agencies/{world['A1'].pk}/")
    expect(page.locator("h1")).to_have_text(world["A1"].name)
    expect(page.locator(".crumbs")).to_contain_text(world["A"].name)


def test_tree_search_with_htmx(transactional_db, live_server, page, users, world):
    from playwright.sync_api import expect

    base = live_server.url
    log_in(page, base, "user_all")
    page.goto(f"{base}/org/agencies/")
    with page.expect_response(lambda r: "q=" in r.url):
        page.fill("input[name=q]", "锦江")
    results = page.locator("#agency-results")
    expect(results).to_contain_text(world["B1"].name)
    expect(results).not_to_contain_text(world["A"].name)


def test_home_chart_renders(transactional_db, live_server, page, users, world):
    from playwright.sync_api import expect

    log_in(page, live_server.url, "user_all")
    chart = page.locator("#chart-provinces")
    expect(chart.locator("svg, canvas").first).to_be_attached()
    expect(chart.locator("svg")).to_contain_text("四川省")
    assert chart.bounding_box()["height"] > 100
    expect(page.locator("table").last).to_contain_text("重庆市")
