"""The configuration audit flags exactly the over-standard cars, each reason with its
threshold, value and source; approvals move a car to its approved tier; quotas."""

import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from guanjia.core.indicator_registry import IndicatorScope, Period, get_indicator
from guanjia.vehicles import audit, services
from guanjia.vehicles.models import ConfigurationStandard, Vehicle
from guanjia.vehicles.reference import load_reference_data

SHEETS = Path(__file__).resolve().parents[1] / "fixtures" / "vehicles"
RULES = "《党政机关公务用车管理办法》"


@pytest.fixture
def register(world):
    load_reference_data()
    call_command(
        "vehicles", "import", str(SHEETS / "register_good.xlsx"), "--json", stdout=io.StringIO()
    )
    approve = {
        "reason": "工作需要",
        "approved_by": "重庆市机关事务管理局",
        "approved_on": date(2023, 1, 5),
    }
    services.approve_exception(
        None,
        Vehicle.objects.get(plate="渝A10006"),
        tier="need",
        document_number="渝机管〔2023〕1号",
        **approve,
    )
    services.approve_exception(
        None,
        Vehicle.objects.get(plate="渝A10013"),
        tier="special",
        document_number="渝机管〔2023〕2号",
        **approve,
    )
    return world


def run_audit(*args) -> dict:
    out = io.StringIO()
    call_command("vehicles", "audit", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_standards_are_loaded_as_data_with_sources(db):
    load_reference_data()
    rows = {s.key: s for s in ConfigurationStandard.objects.all()}
    jytx = rows["jytx-basic"]
    assert (jytx.max_price, jytx.max_displacement_l) == (120000, Decimal("1.6"))
    assert rows["yjbz-basic"].max_price == 180000
    assert rows["qt-basic"].max_displacement_l == Decimal("1.8")
    assert rows["zfzq-need"].max_price == 180000 and rows["zfzq-special-bus"].max_price == 250000
    assert rows["qt-special-large-bus"].max_price == 450000
    assert rows["nev-sedan"].new_energy_only and rows["nev-sedan"].max_price == 180000
    assert rows["tzzy-by-department"].max_price is None
    assert all(RULES in s.source and s.source_url.startswith("http") for s in rows.values())


def test_audit_flags_exactly_the_over_standard_cars(register):
    result = run_audit("--agency", register["A"].name)
    found = {car["plate"]: car["reasons"] for car in result["over_standard"]}
    assert set(found) == {"渝A10002", "渝A10003", "渝AD10005", "渝A10007", "渝A10009", "渝A10010"}
    assert all(r["source"] and r["message"] for reasons in found.values() for r in reasons)

    (price,) = found["渝A10002"]
    assert price == price | {
        "rule": "jytx-basic",
        "field": "purchase_price",
        "limit": 120000,
        "value": 158000,
        "message": "购置价格15.8万元超过机要通信用车（基本标准）标准12万元",
    }
    assert RULES in price["source"]
    (litres,) = found["渝A10003"]
    assert (litres["field"], litres["limit"], litres["value"]) == ("displacement_l", 1.6, 1.8)
    (nev,) = found["渝AD10005"]
    assert (nev["rule"], nev["limit"], nev["value"]) == ("nev-sedan", 180000, 189000)
    assert [r["rule"] for r in found["渝A10007"]] == ["needs_approval"]  # bus without approval
    assert [r["rule"] for r in found["渝A10009"]] == ["domestic"]  # imported
    assert [r["rule"] for r in found["渝A10010"]] == ["off_road"]
    # not flagged: at the limit (渝A10011), NEV sedan at 16.8万 in 机要 (渝AD10004), PHEV at
    # 17.5万 (渝AF10015), 特种 without ceiling (渝A10008), approved (渝A10006, 渝A10013),
    # disposed (渝A10014), B's car (川A10012).
    assert result["checked"] == 13  # A and A1 without the disposed car


def test_an_approval_is_cited_and_its_tier_still_has_limits(register):
    car = Vehicle.objects.get(plate="渝A10006")
    services.update_vehicle(None, car, purchase_price=190000)
    result = run_audit("--agency", register["A"].name)
    (reason,) = next(c for c in result["over_standard"] if c["plate"] == "渝A10006")["reasons"]
    assert (reason["rule"], reason["limit"], reason["value"]) == ("zfzq-need", 180000, 190000)
    assert reason["approval"]["document_number"] == "渝机管〔2023〕1号"
    assert "渝机管〔2023〕1号" in reason["message"]


def test_without_the_approval_the_same_car_is_over(register):
    Vehicle.objects.get(plate="渝A10006").approvals.all().delete()
    result = run_audit()
    reasons = next(c for c in result["over_standard"] if c["plate"] == "渝A10006")["reasons"]
    assert {(r["rule"], r["field"]) for r in reasons} == {
        ("zfzq-basic", "purchase_price"),
        ("zfzq-basic", "displacement_l"),
    }


def test_edited_standard_changes_the_verdict(register):
    standard = ConfigurationStandard.objects.get(key="jytx-basic")
    services.update_standard(None, standard, max_price=160000)
    plates = {c["plate"] for c in run_audit()["over_standard"]}
    assert "渝A10002" not in plates and "渝A10003" in plates


def test_over_quota_counts_cars_in_service_sealed_and_in_repair(register):
    a = register["A"]
    services.set_quota(None, a, "QT", 2, "大足编办〔2024〕3号")
    services.set_quota(None, a, "JYTX", 3)
    result = run_audit("--agency", a.name)
    # A's QT: 渝AD10005, 渝A10009 (sealed), 渝A10011, 渝AF10015 = 4 (渝A10014 disposed)
    # A's JYTX: 4 cars > 3; YJBZ and TZZY without a quota row count as quota 0.
    rows = {
        (q["category"], q["quota"], q["actual"])
        for q in result["over_quota"]
        if q["agency_id"] == a.pk
    }
    assert rows == {("QT", 2, 4), ("JYTX", 3, 4), ("YJBZ", 0, 2), ("TZZY", 0, 1)}
    assert register["A1"].name in result["no_quota"]


def test_indicators(register):
    period = Period.parse(str(date.today().year))
    scope = IndicatorScope(register["A"])
    assert get_indicator("vehicles.over_standard_count").compute(scope, period) == 6
    # in service in A's tree: 11 cars (sealed, in repair and disposed left out), 3 NEV
    assert get_indicator("vehicles.nev_share").compute(scope, period) == round(300 / 11, 2)
    assert get_indicator("vehicles.over_quota_count").compute(scope, period) is None
    services.set_quota(None, register["A"], "QT", 2)
    assert get_indicator("vehicles.over_quota_count").compute(scope, period) == 4
    # through a user's scope: a user of B sees none of A's cars
    from ..conftest import make_role, make_user

    b_user = make_user("b_viewer", register["B"], make_role("b_view"))
    b_scope = IndicatorScope(register["A"], user=b_user)
    assert get_indicator("vehicles.over_standard_count").compute(b_scope, period) is None


def test_audit_in_scope_of_a_user(register, users):
    result = audit.audit_for(users["agency"])
    plates = {c["plate"] for c in result["over_standard"]}
    assert "渝A10010" not in plates  # A1's car, outside "own agency"
    assert "渝A10002" in plates
