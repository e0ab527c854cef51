"""`guanjia vehicles dispatch --json`: the orders of an agency and below, and its indicators."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from guanjia.vehicles import dispatch

from .dispatch_helpers import at, new_driver, new_vehicle, people_fixture, trip  # noqa: F401


def run(*args) -> dict:
    out = StringIO()
    call_command("vehicles", "dispatch", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_lists_orders_below_the_agency_with_indicators(people, world):
    car, driver = new_vehicle(world["A"], "渝A90001"), new_driver(world["A"], "王师傅")
    done = dispatch.approve(None, trip(people["staff"], at(2, 9)))
    dispatch.assign(None, done, car, driver)
    dispatch.start(None, done, 10, at=at(2, 9))
    dispatch.end(None, done, 35, at=at(2, 11))
    waiting = trip(people["staff"], at(20, 9))
    trip(people["b_fleet"], at(2, 9), agency=world["B"])

    result = run("--agency", world["A"].name, "--period", "2026-03")
    assert result["count"] == 2
    assert [i["number"] for i in result["items"]] == [waiting.number, done.number]
    first = result["items"][1]
    assert (first["plate"], first["driver"], first["distance_km"]) == ("渝A90001", "王师傅", 25.0)
    assert first["agency"] == world["A1"].name and first["start_at"].startswith("2026-03-02T09:00")
    assert result["indicators"]["vehicles.utilization_rate"] == round(100 / 22, 2)
    assert result["indicators"]["dispatch.pooling_rate"] == 0.0
    assert run("--agency", world["A"].name, "--status", "requested")["count"] == 1
    assert run("--from", "2026-03-03")["count"] == 1
    assert run()["count"] == 3


def test_bad_options_are_refused_in_chinese(world):
    with pytest.raises(CommandError, match="未知状态"):
        run("--status", "flying")
    with pytest.raises(CommandError, match="需要 --agency"):
        run("--period", "2026-03")
    with pytest.raises(CommandError, match="无法识别的日期"):
        run("--from", "3月2日")
