"""In a real browser: a cook records the day's diners on the canteen's page, the meal's
weighings and a clean-plate observation on the entry page, and the canteen's dashboard
shows the indicators move from no data to the day's numbers, its charts drawn without
errors."""

import pytest

from guanjia.canteens import waste

from ..web.test_browser import log_in

pytestmark = pytest.mark.browser


def row_value(page, label):
    return page.locator("section.panel table tr", has_text=label).first.locator("td").nth(1)


def test_record_a_day_and_see_the_indicators_change(
    transactional_db, live_server, page, users, canteens
):
    from playwright.sync_api import expect

    a = canteens["A"]
    base = live_server.url
    log_in(page, base, "user_agency")
    dashboard = f"{base}/canteens/{a.pk}/waste/?period={waste.today().year}&by=week"
    page.goto(dashboard)
    expect(row_value(page, "人均餐厨垃圾量")).to_have_text("—")

    page.goto(f"{base}/canteens/{a.pk}/")
    form = page.locator("#diners-form")
    expect(form.locator("#id_date")).to_have_value(waste.today().isoformat())  # today, as ISO
    form.locator("#id_diners").fill("1000")
    form.get_by_role("button", name="保存").click()
    expect(page.locator(".messages")).to_contain_text("就餐人数 1000")
    expect(page.locator("#recent-diners")).to_contain_text("1000")

    page.goto(f"{base}/canteens/waste/today/")
    page.select_option("#id_canteen", str(a.pk))
    page.fill("#id_plate_edible", "50")
    page.fill("#id_unserved_edible", "20")
    page.fill("#id_unserved_item", "红烧肉")
    page.get_by_role("button", name="保存称重").click()
    expect(page.locator(".messages")).to_contain_text("已记录 2 条称重")
    page.select_option("#id_plate-canteen", str(a.pk))
    page.fill("#id_plate-trays_observed", "200")
    page.fill("#id_plate-clean_trays", "160")
    page.get_by_role("button", name="保存观察").click()
    expect(page.locator(".messages")).to_contain_text("已记录光盘观察")

    page.goto(dashboard)
    # (50 + 20) kg × 1000 ÷ 1000 diners = 70 g; 160 ÷ 200 = 80 %; 20 kg discarded that day
    expect(row_value(page, "人均餐厨垃圾量")).to_have_text("70.0")
    expect(row_value(page, "光盘率")).to_have_text("80.0")
    expect(row_value(page, "倾销量日均值")).to_have_text("20.0")
    expect(page.locator("#chart-trend svg")).to_have_count(1)
    expect(page.locator("#chart-items svg")).to_contain_text("红烧肉")
