"""The register's services: normalisation, validation, data scope and audit."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from guanjia.core.context import acting_as
from guanjia.core.models import ObjectChange
from guanjia.vehicles import services
from guanjia.vehicles.models import Driver, ExceptionApproval, Quota, Vehicle

from .conftest import make_vin, vehicle_fields


def test_create_vehicle_normalises_plate_vin_and_terminal(world, users):
    vin = make_vin()
    with acting_as(users["agency"], source="api"):
        car = services.create_vehicle(
            users["agency"],
            **vehicle_fields(
                world["A"], plate="渝ａ·１２３４５", vin=vin.lower(), terminal_number="013800231001"
            ),
        )
    car.refresh_from_db()
    assert (car.plate, car.vin) == ("渝A12345", vin)
    assert (car.terminal_number, car.terminal_key) == ("013800231001", "13800231001")
    assert ObjectChange.objects.filter(object_repr="渝A12345", user=users["agency"]).exists()


def test_same_terminal_in_2019_form_is_refused_for_a_second_car(world, make_vehicle):
    first = make_vehicle(world["A"], terminal_number="013800231001")
    with pytest.raises(ValidationError, match=first.plate):
        make_vehicle(world["A"], terminal_number="00000000013800231001")
    assert Vehicle.objects.count() == 1


def test_a_terminal_clash_with_a_car_outside_scope_does_not_name_it(world, users, make_vehicle):
    """F3: A's user learns the terminal is taken, not which of B's cars holds it."""
    theirs = make_vehicle(world["B"], terminal_number="013800239001")
    with pytest.raises(ValidationError) as err:
        make_vehicle(world["A"], users["agency"], terminal_number="013800239001")
    assert "已被其他单位登记" in str(err.value) and theirs.plate not in str(err.value)


def test_invalid_fields_are_refused_together_and_nothing_written(world):
    with pytest.raises(ValidationError) as err:
        services.create_vehicle(
            None, **vehicle_fields(world["A"], plate="川A1234", vin="1M8GDM9A1KP042788")
        )
    assert set(err.value.message_dict) == {"plate", "vin"}
    assert not Vehicle.objects.exists()


def test_nev_plate_needs_a_new_energy_car(world, make_vehicle):
    with pytest.raises(ValidationError, match="新能源"):
        make_vehicle(world["A"], plate="川AD12345", energy_type="gasoline")
    car = make_vehicle(world["A"], plate="川AD12345", energy_type="bev", displacement_l=None)
    assert car.is_new_energy


def test_duplicate_plate_is_refused(world, make_vehicle):
    make_vehicle(world["A"], plate="川A88888")
    with pytest.raises(ValidationError):
        make_vehicle(world["A"], plate="川a88888")


def test_scoped_user_cannot_create_or_move_a_car_into_b(world, users, make_vehicle):
    user = users["agency"]
    with pytest.raises(PermissionDenied):
        services.create_vehicle(user, **vehicle_fields(world["B"]))
    assert not Vehicle.objects.exists()
    car = make_vehicle(world["A"], actor=user)
    with pytest.raises(PermissionDenied):
        services.update_vehicle(user, car, agency=world["B"])
    car.refresh_from_db()
    assert car.agency == world["A"]


def test_user_without_role_cannot_write(world, users):
    with pytest.raises(PermissionDenied):
        services.create_vehicle(users["norole"], **vehicle_fields(world["A"]))


def test_update_vehicle_status_is_audited(world, users, make_vehicle):
    car = make_vehicle(world["A"])
    with acting_as(users["agency"], source="api"):
        services.update_vehicle(users["agency"], car, status=Vehicle.Status.SEALED)
    change = ObjectChange.objects.filter(user=users["agency"]).latest("pk")
    assert change.after["status"] == "sealed" and change.before["status"] == "in_service"


def test_disposed_only_through_the_disposal_action(world, users, make_vehicle):
    """F9: an edit cannot set 已处置 (no record, card kept) nor undo a real disposal."""
    from guanjia.vehicles import lifecycle

    user = users["agency"]
    car = make_vehicle(world["A"], purchase_date=date(2010, 1, 1), odometer_km=Decimal("300000"))
    with pytest.raises(ValidationError, match="车辆处置"):
        services.update_vehicle(user, car, status=Vehicle.Status.DISPOSED)
    car.refresh_from_db()
    assert car.status == Vehicle.Status.IN_SERVICE
    lifecycle.dispose_vehicle(
        user, car, disposed_on=date(2026, 3, 1), method="auction", reason="到期"
    )
    car.refresh_from_db()
    with pytest.raises(ValidationError, match="已办理处置"):
        services.update_vehicle(user, car, status=Vehicle.Status.IN_SERVICE)
    services.update_vehicle(user, car, notes="已拍卖")  # other fields still editable
    car.refresh_from_db()
    assert (car.status, car.notes) == (Vehicle.Status.DISPOSED, "已拍卖")


def test_garage_must_belong_to_the_agency_or_above(world, make_vehicle):
    garage = services.create_garage(None, agency=world["B"], name="成都车库", lat=30.6, lon=104.0)
    with pytest.raises(ValidationError, match="定点停放"):
        make_vehicle(world["A"], garage=garage)
    own = services.create_garage(None, agency=world["A"], name="大足车库", lat=29.7, lon=105.7)
    assert make_vehicle(world["A1"], garage=own).garage == own


def test_drivers_quota_and_approval(world, users, make_vehicle):
    user = users["agency"]
    driver = services.create_driver(
        user,
        agency=world["A"],
        name="张三",
        licence_number="５００１１１１９９０ab",
        licence_expiry=date(2030, 1, 1),
    )
    assert Driver.objects.get(pk=driver.pk).licence_number == "5001111990AB"
    with pytest.raises(PermissionDenied):
        services.create_driver(
            user,
            agency=world["B"],
            name="李四",
            licence_number="X1",
            licence_expiry=date(2030, 1, 1),
        )
    q = services.set_quota(user, world["A"], "QT", 3, "大足编办〔2024〕1号")
    assert services.set_quota(user, world["A"], "QT", 4).pk == q.pk
    assert Quota.objects.get(pk=q.pk).quota == 4
    with pytest.raises(PermissionDenied):
        services.set_quota(user, world["B"], "QT", 9)
    car = make_vehicle(world["A"], purchase_price=Decimal("230000"))
    approval = services.approve_exception(
        user,
        car,
        tier="special",
        reason="山区应急",
        approved_by="重庆市机关事务管理局",
        document_number="渝机管〔2024〕8号",
        approved_on=date(2024, 5, 1),
    )
    assert ExceptionApproval.objects.get(pk=approval.pk).vehicle == car
    b_car = make_vehicle(world["B"])
    with pytest.raises(PermissionDenied):
        services.approve_exception(
            user,
            b_car,
            tier="need",
            reason="越权",
            approved_by="x",
            document_number="x",
            approved_on=date(2024, 5, 1),
        )
    assert ExceptionApproval.objects.count() == 1


def test_find_agency_by_name_credit_code_or_id(world):
    assert services.find_agency(world["A"].name) == world["A"]
    assert services.find_agency(str(world["B"].pk)) == world["B"]
    with pytest.raises(LookupError):
        services.find_agency("不存在的单位")
