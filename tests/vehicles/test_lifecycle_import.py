"""Import of a station's statement: all or nothing, rows numbered as in the sheet."""

import io
from decimal import Decimal

from openpyxl import Workbook

from guanjia.vehicles import lifecycle
from guanjia.vehicles.lifecycle_io import import_refuellings
from guanjia.vehicles.models import Refuelling

from .lifecycle_fixtures import car

HEADER = "加油时间,卡号,车牌号,加油量(升),金额(元),里程(公里),加油站"


def _csv(*lines) -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode("utf-8-sig")


def _setup(world):
    c = car(world["A"], plate="渝A20001", odometer_km=Decimal("100"))
    card = lifecycle.issue_fuel_card(None, agency=world["A"], number="8800000000000001", vehicle=c)
    return c, card


def test_good_statement_imports_every_row(world, users):
    c, card = _setup(world)
    content = _csv(
        "2026-03-01 08:30,8800000000000001,渝A20001,40.5,315.90,12000,中石油大足站",
        "2026/3/9 17:05,8800000000000001,,38,296.40,12480,中石油大足站",
        "2026-03-12,,渝A20001,20,156,,",
    )
    result = import_refuellings(users["agency"], "statement.csv", content)
    assert result["errors"] == [] and result["imported"] == 3, result
    rows = list(Refuelling.objects.order_by("at"))
    assert [r.vehicle for r in rows] == [c, c, c]
    assert rows[1].plate == "渝A20001" and rows[1].card == card  # plate from the bound card
    assert rows[0].litres == Decimal("40.5") and rows[0].station == "中石油大足站"
    c.refresh_from_db()
    assert c.odometer_km == Decimal("12480")


def test_bad_rows_refuse_the_whole_statement_with_row_numbers(world, users):
    _setup(world)
    b_card = lifecycle.issue_fuel_card(None, agency=world["B"], number="8800000000000B02")
    content = _csv(
        "2026-03-01 08:30,8800000000000001,渝A20001,40,312,12000,站",
        "昨天,8800000000000001,渝A20001,40,312,12000,站",
        "2026-03-03,8800000000000001,渝A20001,-5,312,,站",
        "2026-03-04,,,40,312,,站",
        f"2026-03-05,{b_card.number},川A11111,40,312,,站",
        "2026-03-06,9999,渝A20001,40,,,站",
    )
    result = import_refuellings(users["agency"], "statement.csv", content)
    assert result["imported"] == 0 and result["failed"] is True
    got = {(e["row"], e["column"]) for e in result["errors"]}
    assert got == {
        (3, "加油时间"),
        (4, "加油量(升)"),
        (5, "卡号"),
        (6, "卡号"),  # B's card is outside the user's scope
        (7, "金额(元)"),
        (7, "卡号"),
    }
    assert not Refuelling.objects.exists()


def test_missing_columns_and_wrong_file_type(world, users):
    result = import_refuellings(users["agency"], "s.csv", "车牌号,金额\n渝A1,1\n".encode())
    assert {e["column"] for e in result["errors"]} == {"加油时间", "加油量(升)"}
    result = import_refuellings(users["agency"], "s.pdf", b"%PDF")
    assert result["errors"][0]["row"] == 1 and result["imported"] == 0


def test_xlsx_statement_keeps_the_time_of_day(world, users):
    import datetime as dt

    c, _card = _setup(world)
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER.split(","))
    ws.append([dt.datetime(2026, 3, 1, 18, 45), "8800000000000001", "渝A20001", 41, 320, 500, ""])
    buf = io.BytesIO()
    wb.save(buf)
    result = import_refuellings(users["agency"], "s.xlsx", buf.getvalue())
    assert result["imported"] == 1, result
    r = Refuelling.objects.get()
    from django.utils import timezone

    assert timezone.localtime(r.at).strftime("%H:%M") == "18:45" and r.vehicle == c


def test_a_plate_of_another_agency_is_not_linked_and_its_odometer_stays(world, users):
    """F1: a statement row naming B's plate with A's card does not touch B's car."""
    _c, _card = _setup(world)
    theirs = car(world["B"], plate="川A55555", odometer_km=Decimal("1000"))
    content = _csv("2026-03-01 08:30,8800000000000001,川A55555,40,312,999999,站")
    result = import_refuellings(users["agency"], "statement.csv", content)
    assert result["imported"] == 1, result
    r = Refuelling.objects.get()
    assert (r.plate, r.vehicle_id, r.agency) == ("川A55555", None, world["A"])
    theirs.refresh_from_db()
    assert theirs.odometer_km == Decimal("1000")
