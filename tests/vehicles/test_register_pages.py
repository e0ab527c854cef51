"""The register's pages through the test client: list, filters, export, upload (all or
nothing), vehicle page with its audit and history, drivers, quotas and standards, audit;
403 without vehicles.view, and nothing of agency B for a user of A."""

import io
from datetime import date
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from guanjia.vehicles import services
from guanjia.vehicles.models import Vehicle
from guanjia.vehicles.reference import load_reference_data

from ..conftest import make_role, make_user
from ..fixtures.vehicles.make_sheets import BAD_ERRORS, CARS

SHEETS = Path(__file__).resolve().parents[1] / "fixtures" / "vehicles"


def login(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def register(world):
    load_reference_data()
    call_command(
        "vehicles", "import", str(SHEETS / "register_good.csv"), "--json", stdout=io.StringIO()
    )
    services.approve_exception(
        None,
        Vehicle.objects.get(plate="渝A10013"),
        tier="special",
        reason="山区应急",
        approved_by="重庆市机关事务管理局",
        document_number="渝机管〔2023〕2号",
        approved_on=date(2023, 1, 5),
    )
    services.set_quota(None, world["A"], "JYTX", 3, "大足编办〔2024〕3号")
    services.create_driver(
        None, agency=world["A"], name="王师傅", licence_number="D1", licence_expiry=date(2020, 1, 1)
    )
    services.create_driver(
        None,
        agency=world["B"],
        name="成都司机",
        licence_number="D2",
        licence_expiry=date(2030, 1, 1),
    )
    return world


PAGES = ["vehicle_list", "driver_list", "quota_list", "vehicle_audit", "vehicle_upload"]


@pytest.mark.parametrize("name", PAGES)
def test_pages_render_for_a_user_with_vehicles_view(register, users, name):
    r = login(users["agency_and_below"]).get(reverse(name))
    assert r.status_code == 200, r.content[:500]
    assert "公务用车" in r.content.decode()  # the navigation


@pytest.mark.parametrize("name", PAGES)
def test_pages_refuse_a_user_without_the_permission(register, world, name):
    user = make_user("org_only", world["A"], make_role("org_only", permissions=["org.view"]))
    assert login(user).get(reverse(name)).status_code == 403
    assert Client().get(reverse(name)).status_code == 302  # anonymous: to the login page


def test_list_filters_and_hides_b(register, users):
    c = login(users["agency_and_below"])
    body = c.get(reverse("vehicle_list")).content.decode()
    assert "渝A10001" in body and "渝A10006" in body and "川A10012" not in body
    body = c.get(reverse("vehicle_list") + "?energy=new_energy").content.decode()
    assert "渝AD10004" in body and "渝A10001" not in body
    body = c.get(reverse("vehicle_list") + "?q=ａ10001").content.decode()
    assert "渝A10001" in body and "渝A10002" not in body
    body = c.get(reverse("vehicle_list") + "?terminal=00000000013800230002").content.decode()
    assert "渝A10002" in body and "渝A10001" not in body
    body = c.get(reverse("vehicle_list") + "?agency=" + str(register["A1"].pk)).content.decode()
    assert "渝A10006" in body and "渝A10001" not in body


def test_export_follows_the_filter(register, users):
    c = login(users["agency_and_below"])
    r = c.get(reverse("vehicle_export") + "?category=JYTX")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    plates = {row[0] for row in ws.iter_rows(min_row=2, values_only=True)}
    assert plates == {"渝A10001", "渝A10002", "渝A10003", "渝AD10004"}


def test_vehicle_page_shows_audit_approval_and_history(register, users):
    c = login(users["agency_and_below"])
    car = Vehicle.objects.get(plate="渝A10002")
    body = c.get(reverse("vehicle_detail", args=[car.pk])).content.decode()
    assert "购置价格15.8万元超过机要通信用车（基本标准）标准12万元" in body
    assert "《党政机关公务用车管理办法》" in body
    for section in ("history-trips", "history-maintenance", "history-refuellings"):
        assert section in body
    approved = Vehicle.objects.get(plate="渝A10013")
    body = c.get(reverse("vehicle_detail", args=[approved.pk])).content.decode()
    assert "渝机管〔2023〕2号" in body and "符合配备标准" in body
    b_car = Vehicle.objects.get(plate="川A10012")
    assert c.get(reverse("vehicle_detail", args=[b_car.pk])).status_code == 404


def test_upload_refuses_a_bad_sheet_whole(register, users):
    Vehicle.objects.all().delete()
    c = login(users["all"])
    with open(SHEETS / "register_bad.xlsx", "rb") as f:
        r = c.post(reverse("vehicle_upload"), {"file": f})
    assert r.status_code == 422
    body = r.content.decode()
    assert "未导入任何数据" in body
    for row, column in BAD_ERRORS:
        assert f'<td class="num">{row}</td><td class="nowrap">{column}</td>' in body
    assert not Vehicle.objects.exists()
    with open(SHEETS / "register_good.xlsx", "rb") as f:
        r = c.post(reverse("vehicle_upload"), {"file": f}, follow=True)
    assert r.status_code == 200 and f"新增{len(CARS)}辆" in r.content.decode()
    assert Vehicle.objects.count() == len(CARS)


def test_upload_into_b_is_refused_for_a_scoped_user(register, users):
    c = login(users["agency_and_below"])
    with open(SHEETS / "register_good.csv", "rb") as f:
        r = c.post(reverse("vehicle_upload"), {"file": f})
    body = r.content.decode()
    assert r.status_code == 422 and "车辆川A10012已登记在其他单位，无权修改" in body
    Vehicle.objects.filter(plate="川A10012").delete()
    with open(SHEETS / "register_good.csv", "rb") as f:
        r = c.post(reverse("vehicle_upload"), {"file": f})
    assert r.status_code == 422 and "无权在单位“成都市机关事务管理局”登记车辆" in r.content.decode()
    assert not Vehicle.objects.filter(plate="川A10012").exists()


def test_drivers_quotas_and_audit_pages(register, users):
    c = login(users["agency_and_below"])
    body = c.get(reverse("driver_list")).content.decode()
    assert "王师傅" in body and "已过期" in body and "成都司机" not in body
    body = c.get(reverse("quota_list")).content.decode()
    assert "大足编办〔2024〕3号" in body and "超编" in body
    assert "中办发〔2017〕71号" in body and "新能源" in body and "不限" in body
    assert "渝A10002" in body  # the audit of the user's agency
    body = c.get(reverse("vehicle_audit")).content.decode()
    assert "渝A10010" in body and "川A10012" not in body
    assert c.get(reverse("vehicle_audit") + f"?agency={register['B'].pk}").status_code == 404
