"""Stock without HTTP: moving-average valuation, refusing to issue more than is on hand,
levels per ingredient, and the turnover-days indicator checked by hand."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from guanjia.canteens import menus, stock
from guanjia.canteens.models import StockMovement
from guanjia.core.indicator_registry import IndicatorScope, Period, get_indicator

D = dt.date


def _in(canteen, ingredient, qty, cost, day):
    return stock.record_movement(
        None, canteen, ingredient, kind="in", quantity=qty, unit_cost=cost, date=day
    )


def _out(canteen, ingredient, qty, day, kind="out"):
    return stock.record_movement(None, canteen, ingredient, kind=kind, quantity=qty, date=day)


def test_issues_leave_at_the_moving_average_cost(canteens):
    canteen = canteens["A"]
    rice = menus.ingredient_named(None, canteen.agency, "大米")
    _in(canteen, rice, "100", "10", D(2026, 3, 1))
    _in(canteen, rice, "100", "12", D(2026, 3, 2))
    issue = _out(canteen, rice, "50", D(2026, 3, 3))
    assert issue.unit_cost == Decimal("11.00")
    loss = _out(canteen, rice, "10", D(2026, 3, 4), kind="loss")
    assert loss.unit_cost == Decimal("11.00")
    assert stock.on_hand(canteen, rice) == (Decimal("140"), Decimal("1540"))
    assert stock.on_hand(canteen, rice, D(2026, 3, 1)) == (Decimal("100"), Decimal("1000"))
    [level] = stock.levels(StockMovement.objects.all())
    assert (level.quantity, level.value, level.average_cost) == (140, Decimal("1540"), 11)


def test_cannot_issue_more_than_is_on_hand_that_day(canteens):
    canteen = canteens["A"]
    oil = menus.ingredient_named(None, canteen.agency, "菜籽油", "L")
    _in(canteen, oil, "20", "15", D(2026, 3, 5))
    with pytest.raises(ValidationError) as exc:
        _out(canteen, oil, "5", D(2026, 3, 4))  # before it arrived
    assert "库存不足" in exc.value.messages[0]
    with pytest.raises(ValidationError):
        _out(canteen, oil, "21", D(2026, 3, 6))
    with pytest.raises(ValidationError):
        stock.record_movement(None, canteen, oil, kind="in", quantity="1", date=D(2026, 3, 6))
    b_oil = menus.ingredient_named(None, canteens["B"].agency, "菜籽油", "L")
    with pytest.raises(ValidationError):
        _in(canteen, b_oil, "1", "1", D(2026, 3, 6))


def test_levels_leave_out_what_is_used_up(canteens):
    canteen = canteens["A"]
    salt = menus.ingredient_named(None, canteen.agency, "盐")
    _in(canteen, salt, "5", "2", D(2026, 3, 1))
    _out(canteen, salt, "5", D(2026, 3, 2))
    assert stock.levels(StockMovement.objects.all()) == []
    assert len(stock.levels(StockMovement.objects.all(), D(2026, 3, 1))) == 1


def test_turnover_days_by_hand(canteens, users):
    canteen = canteens["A"]
    pork = menus.ingredient_named(None, canteen.agency, "猪肉")
    _in(canteen, pork, "100", "10", D(2026, 3, 1))  # 1,000 元 in store
    _out(canteen, pork, "31", D(2026, 3, 11))  # 310 元 issued
    _out(canteen, pork, "31", D(2026, 3, 21), kind="loss")  # 310 元 written off
    _in(canteen, pork, "10", "10", D(2026, 4, 1))  # after the period: not counted
    # End-of-day values in March: 1,000 for 1–10 (10 days), 690 for 11–20 (10 days),
    # 380 for 21–31 (11 days): average (10,000 + 6,900 + 4,180) / 31 = 680 元.
    # Issued 620 元 over 31 days = 20 元 a day. Turnover = 680 / 20 = 34 days.
    march = Period.parse("2026-03")
    turnover = get_indicator("canteen.stock_turnover_days")
    assert turnover.unit == "天" and turnover.higher_is_better is False
    a = canteen.agency
    assert turnover.compute(IndicatorScope(a), march) == 34.0
    assert turnover.compute(IndicatorScope(a, user=users["agency"]), march) == 34.0
    # Nothing issued in February; B's canteen is not A's; A's user cannot see B.
    assert turnover.compute(IndicatorScope(a), Period.parse("2026-02")) is None
    b = canteens["B"]
    b_pork = menus.ingredient_named(None, b.agency, "猪肉")
    _in(b, b_pork, "1000", "10", D(2026, 3, 1))
    _out(b, b_pork, "1", D(2026, 3, 2))
    assert turnover.compute(IndicatorScope(a), march) == 34.0
    assert turnover.compute(IndicatorScope(b.agency, user=users["agency"]), march) is None
    assert turnover.compute(IndicatorScope(b.agency), march) is not None


def test_a_back_dated_issue_may_not_overdraw_a_later_balance(canteens):
    canteen = canteens["A"]
    flour = menus.ingredient_named(None, canteen.agency, "面粉")
    _in(canteen, flour, "10", "4", D(2026, 3, 1))
    _out(canteen, flour, "10", D(2026, 3, 5))
    # On the 3rd there are 10 on hand, but all of them leave on the 5th.
    for kind in ("out", "loss"):
        with pytest.raises(ValidationError) as exc:
            _out(canteen, flour, "5", D(2026, 3, 3), kind=kind)
        assert "库存不足" in exc.value.messages[0] and "2026-03-05" in exc.value.messages[0]
    assert stock.on_hand(canteen, flour) == (Decimal("0"), Decimal("0"))
    # A later receipt makes room again for what the 5th leaves over.
    _in(canteen, flour, "3", "4", D(2026, 3, 6))
    with pytest.raises(ValidationError):
        _out(canteen, flour, "1", D(2026, 3, 3))  # the 5th would still go below zero
    _out(canteen, flour, "3", D(2026, 3, 7))
    assert stock.lowest_balance(canteen, flour, D(2026, 3, 1)) == (D(2026, 3, 5), Decimal("0"))


def test_recording_locks_the_ingredient_row(canteens):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if not connection.features.has_select_for_update:
        pytest.skip("the database has no row locks (SQLite serialises writers itself)")
    canteen = canteens["A"]
    egg = menus.ingredient_named(None, canteen.agency, "鸡蛋", "个")
    with CaptureQueriesContext(connection) as queries:
        _in(canteen, egg, "30", "1", D(2026, 3, 1))
    locks = [q["sql"] for q in queries if "FOR UPDATE" in q["sql"]]
    assert any("canteens_ingredient" in sql for sql in locks)
