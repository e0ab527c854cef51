"""`guanjia telemetry track` and GET /api/v1/telemetry/track: the contract a caller uses."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from guanjia.core.scope import DataScope
from guanjia.telemetry import wal
from guanjia.vehicles import services as vehicle_services

from ..conftest import api_client, make_role, make_user
from ..vehicles.conftest import vehicle_fields
from .test_wal import T0, pos

KEYS = {"time", "lat", "lon", "speed_kmh", "direction", "altitude_m", "alarm", "status",
        "mileage_km"}  # fmt: skip


@pytest.fixture
def home(tmp_path, settings):
    settings.HOME = tmp_path
    writer = wal.WalWriter(wal.wal_root(tmp_path), "gw")
    writer.write([pos("13800138000", T0 + 60), pos("13800138000", T0, mileage_km=None)])
    writer.write([pos("13800138000", T0 + 120), pos("13900000000", T0)])
    writer.close()
    return tmp_path


def run(*args):
    out = StringIO()
    call_command("telemetry", "track", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_track_json_contract(home):
    result = run("--terminal", "013800138000")
    assert list(result) == ["positions"]
    rows = result["positions"]
    assert all(set(r) == KEYS for r in rows)
    assert [r["time"] for r in rows] == [
        "2026-03-02T08:15:00+08:00",
        "2026-03-02T08:16:00+08:00",
        "2026-03-02T08:17:00+08:00",
    ]
    assert rows[0] == {
        "time": "2026-03-02T08:15:00+08:00", "lat": 30.657, "lon": 104.066, "speed_kmh": 42.5,
        "direction": 90, "altitude_m": 500, "alarm": 0, "status": 3, "mileage_km": None,
    }  # fmt: skip
    assert rows[1]["mileage_km"] == 1234.5


def test_any_zero_padding_and_inclusive_window(home):
    for terminal in ("13800138000", "013800138000", "00000000013800138000"):
        rows = run("--terminal", terminal, "--from", "2026-03-02T08:16:00+08:00",
                   "--to", "2026-03-02T00:17:00Z")  # fmt: skip
        assert [r["time"][11:19] for r in rows["positions"]] == ["08:16:00", "08:17:00"]
    # A time without an offset is China time.
    rows = run("--terminal", "13800138000", "--to", "2026-03-02T08:15:00")["positions"]
    assert [r["time"][11:19] for r in rows] == ["08:15:00"]
    assert run("--terminal", "123")["positions"] == []


def test_bad_input_is_a_clear_error(home):
    with pytest.raises(CommandError, match="ISO 8601"):
        run("--terminal", "13800138000", "--from", "yesterday")
    with pytest.raises(CommandError, match="数字"):
        run("--terminal", "川A12345")


def test_api_track_window_and_permission(home, world, users):
    car = vehicle_services.create_vehicle(
        None, **vehicle_fields(world["A"], terminal_number="013800138000")
    )
    bare = vehicle_services.create_vehicle(None, **vehicle_fields(world["A"]))
    client = api_client(users["agency"])
    url = f"/api/v1/telemetry/track?vehicle_id={car.pk}"
    body = client.get(url + "&from=2026-03-02T08:16:00&to=2026-03-02T08:16:00").json()
    assert body["count"] == 1 and body["plate"] == car.plate and body["terminal"] == "13800138000"
    assert [r["time"] for r in body["positions"]] == ["2026-03-02T08:16:00+08:00"]
    assert set(body["positions"][0]) == KEYS
    limited = client.get(url + "&limit=2").json()
    assert limited["count"] == 2 and limited["truncated"] is True
    assert client.get(f"/api/v1/telemetry/track?vehicle_id={bare.pk}").status_code == 400
    # Seeing the car in the register is not enough: telemetry.view is needed as well.
    register_only = make_user(
        "register_only", world["A"], make_role("register", DataScope.AGENCY, ["vehicles.view"])
    )
    assert api_client(register_only).get(url).status_code == 404
