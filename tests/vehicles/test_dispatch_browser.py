"""Online dispatch end to end in a real headless Chromium (Debian's), with two people: a
staff member of 大足区财政局 requests a car; the fleet manager of 大足区机关事务管理中心
approves it, assigns a car and a driver on the board (htmx panel), starts and ends the trip;
the staff member sees it completed and rates it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from guanjia.vehicles.models import TripRequest, Vehicle

from ..web.test_browser import log_in
from .dispatch_helpers import new_driver, new_vehicle, people_fixture, soon  # noqa: F401

pytestmark = pytest.mark.browser


def log_out(page, base):
    page.locator("form[action='/logout/'] button").click()
    page.wait_for_url(f"{base}/login/")


def test_request_approve_assign_start_complete(transactional_db, live_server, page, people, world):
    from playwright.sync_api import expect

    base = live_server.url
    car = new_vehicle(world["A"], "渝A88001", odometer_km=5200)
    new_driver(world["A"], "王师傅")
    start = timezone.localtime(soon(2))

    # -- the staff member files a request ------------------------------------------------
    log_in(page, base, "staff")
    page.get_by_role("link", name="用车申请").click()
    page.wait_for_url(f"{base}/vehicles/trips/")
    page.get_by_role("link", name="申请用车").click()
    page.fill("#id_purpose", "赴区政府汇报财政预算")
    page.fill("#id_passengers", "2")
    page.fill("#id_origin", "大足区财政局")
    page.fill("#id_destination", "大足区人民政府")
    page.fill("#id_start_at", start.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_end_at", (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    page.locator("#trip-form button[type=submit]").click()
    page.wait_for_url(f"{base}/vehicles/trips/*/")
    expect(page.locator("#trip-status")).to_have_text("待审批")
    number = TripRequest.objects.get().number
    expect(page.locator("h1")).to_contain_text(number)
    log_out(page, base)

    # -- the fleet manager approves and assigns on the board ------------------------------
    log_in(page, base, "fleet")
    page.get_by_role("link", name="派车调度").click()
    page.wait_for_url(f"{base}/vehicles/dispatch/")
    row = page.locator(f"#pending tr[data-trip='{number}']")
    row.get_by_role("button", name="通过").click()
    page.wait_for_url(f"{base}/vehicles/dispatch/")
    expect(page.locator(".messages")).to_contain_text("已审批通过")
    waiting = page.locator(f"#waiting tr[data-trip='{number}']")
    with page.expect_response(lambda r: "/assign/" in r.url):
        waiting.get_by_role("link", name="派车").click()
    panel = page.locator("#assign-panel")
    expect(panel).to_contain_text("渝A88001")
    expect(panel.locator("#driver-select")).to_contain_text("王师傅")
    panel.get_by_role("button", name="确认派车").click()
    page.wait_for_url(f"{base}/vehicles/dispatch/")
    expect(page.locator(".messages")).to_contain_text("已派车：渝A88001，驾驶员 王师傅")

    running = page.locator(f"#running tr[data-trip='{number}']")
    expect(running).to_contain_text("已派车")
    running.get_by_role("button", name="出车").click()
    page.wait_for_url(f"{base}/vehicles/dispatch/")
    running = page.locator(f"#running tr[data-trip='{number}']")
    expect(running).to_contain_text("出车中")
    running.locator("input[name=odometer_km]").fill("5236.5")
    running.get_by_role("button", name="收车").click()
    page.wait_for_url(f"{base}/vehicles/dispatch/")
    expect(page.locator(".messages")).to_contain_text("已收车")
    expect(page.locator(f"#running tr[data-trip='{number}']")).to_have_count(0)
    log_out(page, base)

    # -- the staff member sees the trip completed and rates it ----------------------------
    log_in(page, base, "staff")
    page.goto(f"{base}/vehicles/trips/")
    page.get_by_role("link", name=number).click()
    expect(page.locator("#trip-status")).to_have_text("已完成")
    expect(page.locator("#trip-distance")).to_contain_text("36.5 公里")
    page.locator("#rate-form select").select_option("5")
    page.locator("#rate-form input[name=comment]").fill("准时安全")
    page.locator("#rate-form button").click()
    expect(page.locator("#trip-rating")).to_contain_text("5 / 5 准时安全")

    trip = TripRequest.objects.get()
    assert trip.status == TripRequest.Status.COMPLETED and trip.rating == 5
    assert trip.approver.username == "fleet" and trip.requester.username == "staff"
    assert Vehicle.objects.get(pk=car.pk).odometer_km == trip.end_odometer_km
