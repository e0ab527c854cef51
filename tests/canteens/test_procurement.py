"""Procurement without HTTP: portions from the forecast, ingredient quantities from the
published menu's recipes, price inquiry (DB50/T 9001—2022 5.1), quotation comparison at
normalised unit prices, the award rules, receipt into stock and the price history."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from guanjia.canteens import procurement, stock
from guanjia.canteens.models import Canteen, Forecast, StockMovement

from .matrix_procurement import PRICES, WEEK, forecast, published_week, quote, supplier

DAY = WEEK + dt.timedelta(days=1)
TODAY = WEEK  # the day quotations are compared and awarded in these tests


def _f(p50, p90):
    return Forecast(p50=p50, p90=p90, p10=0)


def test_portions_add_the_margin_round_up_and_stop_at_p90():
    canteen = Canteen(safety_margin_pct=Decimal("5"))
    assert procurement.portions(canteen, _f(1000, 1200)) == 1050
    assert procurement.portions(canteen, _f(333, 400)) == 350  # 349.65 rounded up
    assert procurement.portions(canteen, _f(1000, 1020)) == 1020  # capped at P90
    canteen.safety_margin_pct = Decimal("0")
    assert procurement.portions(canteen, _f(1000, 1200)) == 1000


def test_quantities_from_forecast_and_recipes(canteens):
    canteen = canteens["A"]
    published_week(canteen, p50=1000, p90=1200)  # 1050 portions a day
    needs = procurement.ingredient_needs(canteen, WEEK, WEEK + dt.timedelta(days=7))
    got = {i.name: q for i, q in needs.quantities.items()}
    # A diner takes one portion of each category, split between its dishes: the three
    # 荤菜 get 350 portions each at 0.15 kg 猪肉; the two 素菜 525 each at 0.2 kg 青菜.
    days = 5
    assert got == {
        "猪肉": Decimal("157.5") * days,
        "青菜": Decimal("210") * days,
        "大米": Decimal("105") * days,
        "鸡蛋": Decimal("52.5") * days,
        "苹果": Decimal("1050") * days,
    }
    assert [m["portions"] for m in needs.meals] == [1050] * days


def test_request_from_forecast_refuses_menu_days_without_forecast(canteens):
    canteen = canteens["A"]
    published_week(canteen)
    Forecast.objects.filter(canteen=canteen, date=DAY).delete()
    with pytest.raises(ValidationError) as exc:
        procurement.request_from_forecast(None, canteen, WEEK, WEEK + dt.timedelta(days=7))
    assert "3月3日（周二）午餐" in exc.value.messages[0]
    request = procurement.request_from_forecast(None, canteen, WEEK, DAY)
    assert request.lines.count() == 5 and request.needed_on == WEEK


def _one_day_request(canteen, p50=1000):
    published_week(canteen, p50=p50, p90=p50 + 200)
    return procurement.request_from_forecast(None, canteen, WEEK, DAY)


def test_inquiry_refused_below_the_supplier_count_and_allowed_at_it(canteens):
    canteen = canteens["A"]
    request = _one_day_request(canteen)  # ≈ 7,560 元 at PRICES: above 5,000
    a, b, c = (supplier(canteen.agency, f"供应商{i}") for i in "甲乙丙")
    first = quote(request, a, PRICES)
    quote(request, b, PRICES | {"猪肉": "27"})
    with pytest.raises(ValidationError) as exc:
        procurement.award(None, request, first, today=TODAY)
    message = exc.value.messages[0]
    assert "DB50/T 9001—2022 5.1" in message and "不少于 3 家" in message, message
    assert "只有 2 家" in message
    request.refresh_from_db()
    assert request.status == "inquiring" and request.awarded is None
    quote(request, c, PRICES | {"猪肉": "28"})
    procurement.award(None, request, first, today=TODAY)
    request.refresh_from_db()
    assert request.status == "awarded" and request.awarded == first


def test_below_the_threshold_one_quotation_is_enough(canteens):
    canteen = canteens["A"]
    request = _one_day_request(canteen, p50=100)  # ≈ 756 元
    q = quote(request, supplier(canteen.agency, "小供应商"), PRICES)
    check = procurement.inquiry(request, q)
    assert not check.required and check.threshold == Decimal("5000")
    procurement.award(None, request, q, today=TODAY)
    assert request.status == "awarded"


def test_cheapest_flagged_at_normalised_unit_price_and_reason_required(canteens):
    canteen = canteens["A"]
    request = _one_day_request(canteen)
    a, b, c = (supplier(canteen.agency, f"供应商{i}") for i in "甲乙丙")
    dear = quote(request, a, PRICES | {"猪肉": "27"})
    # 乙 quotes in 5-unit packs: 5 kg of pork for 127.5 元 is 25.5 元/kg, the cheapest.
    cheap = quote(request, b, PRICES | {"猪肉": "25.5"}, pack=5)
    quote(request, c, PRICES | {"猪肉": "26"})
    rows = procurement.compare(request, TODAY)
    assert [r.quotation for r in rows if r.cheapest] == [cheap]
    pork = request.lines.get(ingredient__name="猪肉")
    assert rows[0].unit_prices[pork.pk] == Decimal("25.5")
    assert rows[0].total < rows[1].total < rows[2].total
    with pytest.raises(ValidationError) as exc:
        procurement.award(None, request, dear, today=TODAY)
    assert "须填写选择理由" in exc.value.messages[0] and "供应商乙" in exc.value.messages[0]
    procurement.award(None, request, dear, reason="乙方近期两次送货延误", today=TODAY)
    request.refresh_from_db()
    assert request.awarded == dear and request.award_reason == "乙方近期两次送货延误"


def test_expired_quotations_are_marked_and_cannot_be_awarded(canteens):
    canteen = canteens["A"]
    request = _one_day_request(canteen)
    a, b, c = (supplier(canteen.agency, f"供应商{i}") for i in "甲乙丙")
    stale = quote(
        request,
        a,
        PRICES | {"猪肉": "20"},
        received=dt.date(2026, 2, 20),
        valid=dt.date(2026, 3, 1),
    )
    fresh = quote(request, b, PRICES)
    quote(request, c, PRICES | {"猪肉": "30"})
    rows = {r.quotation: r for r in procurement.compare(request, TODAY)}
    assert rows[stale].expired and not rows[stale].cheapest
    assert rows[fresh].cheapest and not rows[fresh].expired
    with pytest.raises(ValidationError) as exc:
        procurement.award(None, request, stale, reason="最便宜", today=TODAY)
    assert "已于 2026-03-01 过期" in exc.value.messages[0]
    procurement.award(None, request, fresh, today=TODAY)  # the cheapest valid: no reason


def test_a_supplier_with_an_expired_licence_cannot_be_awarded(canteens):
    canteen = canteens["A"]
    request = _one_day_request(canteen, p50=100)
    lapsed = supplier(canteen.agency, "证照过期供应商", expiry=dt.date(2026, 1, 31))
    assert procurement.licence_state(lapsed, TODAY) == "expired"
    q = quote(request, lapsed, PRICES)
    with pytest.raises(ValidationError) as exc:
        procurement.award(None, request, q, today=TODAY)
    assert "食品经营许可证已于 2026-01-31 过期" in exc.value.messages[0]


def test_licence_states(canteens):
    agency = canteens["A"].agency
    assert procurement.licence_state(supplier(agency, "甲", dt.date(2026, 3, 20)), TODAY) == (
        "expiring"
    )
    assert procurement.licence_state(supplier(agency, "乙", dt.date(2026, 6, 1)), TODAY) == "valid"
    assert procurement.licence_state(supplier(agency, "丙", None), TODAY) == "missing"


def test_quotation_must_price_every_line_of_its_own_request(canteens):
    canteen = canteens["A"]
    request = _one_day_request(canteen)
    sup = supplier(canteen.agency, "甲")
    one = request.lines.first()
    with pytest.raises(ValidationError) as exc:
        procurement.add_quotation(
            None, request, sup, received_on=WEEK, valid_until=WEEK,
            prices={one.pk: (Decimal(1), Decimal(1))},
        )  # fmt: skip
    assert "缺少" in exc.value.messages[0]
    b_sup = supplier(canteens["B"].agency, "成都供应商")
    with pytest.raises(ValidationError):
        quote(request, b_sup, PRICES)


def test_receive_books_stock_at_awarded_unit_prices_and_price_history(canteens):
    canteen = canteens["A"]
    request = _one_day_request(canteen)
    sups = [supplier(canteen.agency, f"供应商{i}") for i in "甲乙丙"]
    chosen = quote(request, sups[0], PRICES)
    pork_line = request.lines.get(ingredient__name="猪肉")
    chosen.lines.filter(line=pork_line).update(pack_size=3, pack_price=76)  # 25.333… 元/kg
    quote(request, sups[1], PRICES | {"猪肉": "27"})
    quote(request, sups[2], PRICES | {"猪肉": "28"})
    with pytest.raises(ValidationError):
        procurement.receive(None, request, DAY)  # not awarded yet
    procurement.award(None, request, chosen, today=TODAY)
    rows = procurement.receive(None, request, DAY)
    assert request.status == "received"
    moves = {m.ingredient.name: m for m in rows}
    assert moves["猪肉"].unit_cost == Decimal("25.33")  # 76 元 per 3 kg pack, to the cent
    assert moves["猪肉"].quantity == Decimal("157.5") and moves["猪肉"].kind == "in"
    assert moves["苹果"].unit_cost == Decimal("1.50")
    assert StockMovement.objects.filter(request=request).count() == 5
    pork = moves["猪肉"].ingredient
    assert stock.on_hand(canteen, pork) == (Decimal("157.5"), Decimal("157.5") * Decimal("25.33"))
    history = procurement.price_history(pork, Canteen.objects.all())
    assert [(h["source"], h["unit_price"]) for h in history] == [
        ("选定报价", Decimal("25.33")),
        ("入库", Decimal("25.33")),
    ]
    assert {h["supplier"] for h in history} == {"供应商甲"}
    # The next request estimates pork at the last known price.
    Forecast.objects.filter(canteen=canteen).update(p50=100, p90=200)
    nxt = procurement.request_from_forecast(None, canteen, DAY, DAY + dt.timedelta(days=1))
    assert nxt.lines.get(ingredient=pork).estimated_price == Decimal("25.33")


def test_a_new_forecast_row_for_a_day_changes_the_request(canteens):
    canteen = canteens["A"]
    published_week(canteen)
    Forecast.objects.filter(canteen=canteen, date=WEEK).delete()
    forecast(canteen, WEEK, 2000, 2000)
    request = procurement.request_from_forecast(None, canteen, WEEK, DAY)
    assert request.lines.get(ingredient__name="苹果").quantity == Decimal("2000")


def test_a_supplier_without_a_licence_on_record_cannot_be_awarded(canteens):
    canteen = canteens["A"]
    request = _one_day_request(canteen, p50=100)
    no_date = supplier(canteen.agency, "无许可证供应商", expiry=None)
    no_number = procurement.save_supplier(
        None, agency=canteen.agency, name="无许可证编号供应商", licence_expiry=dt.date(2030, 1, 1)
    )
    for unlicensed in (no_date, no_number):
        assert procurement.licence_state(unlicensed, TODAY) == "missing"
        q = quote(request, unlicensed, PRICES)
        with pytest.raises(ValidationError) as exc:
            procurement.award(None, request, q, today=TODAY)
        assert f"{unlicensed.name} 未登记食品经营许可证" in exc.value.messages[0]
    request.refresh_from_db()
    assert request.awarded is None


def test_licence_states_read_the_warn_days_once_per_agency(
    canteens, world, django_assert_max_num_queries
):
    a, a1 = canteens["A"].agency, world["A1"]
    made = [supplier(a if i % 2 else a1, f"供应商{i}", dt.date(2026, 3, 10 + i)) for i in range(8)]
    with django_assert_max_num_queries(4):  # the rule of A and of A1
        states = procurement.licence_states(made, TODAY)
    assert states == {s.pk: procurement.licence_state(s, TODAY) for s in made}
    assert set(states.values()) == {"expiring"}
