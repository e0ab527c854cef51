"""An agency's own settings of a misuse rule: who may set them (telemetry.change over the
agency), how they are checked and stored, that the engine applies them to the agency and
everything below it, and the page and API that edit them."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from guanjia.core.models import ObjectChange
from guanjia.core.scope import DataScope
from guanjia.telemetry import rule_defs as R
from guanjia.telemetry.models import RuleSetting
from guanjia.telemetry.rules import Engine
from guanjia.vehicles.models import MisuseCase

from ..conftest import PASSWORD, api_client, make_role, make_user
from .rules_fixtures import car, china, drive, order

pytestmark = pytest.mark.django_db

LOCAL = "大足区公务用车管理规定第十二条（城区限速每小时100公里）"
URL = "/api/v1/telemetry/rules/tm_speeding/overrides"


def login(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def manager(users):
    """A fleet manager of 大足 (A): every permission over A and the agencies below it."""
    return users["agency_and_below"]


def lower_limit(user, agency, limit=100):
    return R.set_override(
        user, R.SPEEDING, agency, enabled=True, params={"limit_kmh": limit}, source=LOCAL
    )


# -- the service ----------------------------------------------------------------------------


def test_a_manager_sets_an_override_for_the_own_tree_not_for_another(world, users, manager):
    row = lower_limit(manager, world["A1"])
    assert (row.agency, row.enabled, row.source) == (world["A1"], True, LOCAL)
    with pytest.raises(PermissionDenied):
        lower_limit(manager, world["B"])
    with pytest.raises(PermissionDenied):
        lower_limit(users["b_admin"], world["A"])  # B's manager, A's tree
    viewer = make_user(
        "viewer", world["A"], make_role("viewer", DataScope.AGENCY_AND_BELOW, ["telemetry.view"])
    )
    with pytest.raises(PermissionDenied):
        lower_limit(viewer, world["A"])
    with pytest.raises(PermissionDenied):
        R.clear_override(users["b_admin"], R.SPEEDING, world["A1"])
    assert list(RuleSetting.objects.filter(agency__isnull=False)) == [row]


def test_own_agency_scope_reaches_the_agency_only(world, users):
    user = users["agency"]
    lower_limit(user, world["A"])
    with pytest.raises(PermissionDenied):
        lower_limit(user, world["A1"])


def test_stored_params_are_the_default_under_the_given_ones(world, manager):
    R.update_setting(None, R.SPEEDING, params={"min_duration_s": 90})
    row = lower_limit(manager, world["A"], 100)
    assert row.params == {"limit_kmh": 100, "min_duration_s": 90, "quiet_gap_s": 300}
    again = R.set_override(
        manager, R.SPEEDING, world["A"], enabled=False, params={}, source=LOCAL + "（修订）"
    )
    assert again.pk == row.pk and again.enabled is False
    assert again.params["limit_kmh"] == 120  # a new setting starts from the default again
    assert RuleSetting.objects.filter(rule=R.SPEEDING, agency=world["A"]).count() == 1


@pytest.mark.parametrize(
    "params, source, field",
    [
        ({"limit_kmh": "快"}, LOCAL, "params"),
        ({"limit_kmh": -5}, LOCAL, "params"),
        ({"colour": "red"}, LOCAL, "params"),
        ({"limit_kmh": 100}, "   ", "source"),
    ],
)
def test_bad_input_is_refused_and_nothing_written(world, manager, params, source, field):
    changes = ObjectChange.objects.count()
    with pytest.raises(ValidationError) as exc:
        R.set_override(manager, R.SPEEDING, world["A"], enabled=True, params=params, source=source)
    assert field in exc.value.error_dict
    assert not RuleSetting.objects.filter(agency__isnull=False).exists()
    assert ObjectChange.objects.count() == changes


def test_unknown_rule_and_no_agency_are_refused(world, manager):
    with pytest.raises(ValidationError):
        R.set_override(manager, "nope", world["A"], enabled=True, params={}, source=LOCAL)
    with pytest.raises(ValidationError):
        R.set_override(manager, R.SPEEDING, None, enabled=True, params={}, source=LOCAL)


def test_every_write_is_audited_under_the_agency(world, manager):
    row = lower_limit(manager, world["A1"])
    lower_limit(manager, world["A1"], 90)
    assert R.clear_override(manager, R.SPEEDING, world["A1"]) is True
    assert R.clear_override(manager, R.SPEEDING, world["A1"]) is False
    logged = ObjectChange.objects.filter(object_id=str(row.pk), agency_id=world["A1"].pk)
    assert logged.count() == 3


# -- the engine -----------------------------------------------------------------------------


def speeding_of(vehicle) -> int:
    return MisuseCase.objects.filter(vehicle=vehicle, rule=R.SPEEDING).count()


def drive_at(engine, vehicles, hour, speed=110):
    positions = sorted(
        (
            p
            for v in vehicles
            for p in drive(v.terminal_key, china(2026, 3, 4, hour, 0), 10, speed=speed, interval=10)
        ),
        key=lambda p: (p.time, p.terminal),
    )
    engine.evaluate(positions)
    engine.finish()
    engine.flush()


def test_a_lower_limit_flags_the_agency_and_below_only(world, manager, regions):
    from guanjia.core import services

    below = services.create_agency(
        None, parent=world["A1"], name="大足区财政局车队", region=regions["500111"]
    )
    cars = {k: car(world[k]) for k in ("A", "A1", "B")} | {"below": car(below)}
    for v in cars.values():
        order(v, china(2026, 3, 4, 8, 0), china(2026, 3, 4, 18, 0))
    engine = Engine()
    drive_at(engine, cars.values(), 9)  # 110 km/h: under the default 120
    assert sum(speeding_of(v) for v in cars.values()) == 0

    lower_limit(manager, world["A1"], 100)
    engine.dir.refresh(force=True)  # what the engine's timer does every few minutes
    assert engine.dir.by_id[cars["A1"].pk].profile.speed_limit_kmh == 100
    drive_at(engine, cars.values(), 11)
    assert {k: speeding_of(v) for k, v in cars.items()} == {"A": 0, "A1": 1, "B": 0, "below": 1}

    R.clear_override(manager, R.SPEEDING, world["A1"])
    engine.dir.refresh(force=True)
    drive_at(engine, cars.values(), 13)
    assert speeding_of(cars["A1"]) == 1  # no new case once the default applies again


def test_a_switched_off_override_silences_the_rule_for_its_tree(world, manager):
    a1_car, a_car = car(world["A1"]), car(world["A"])
    R.set_override(manager, R.SPEEDING, world["A1"], enabled=False, params={}, source=LOCAL)
    for v in (a1_car, a_car):
        order(v, china(2026, 3, 4, 8, 0), china(2026, 3, 4, 18, 0))
    drive_at(Engine(), (a1_car, a_car), 9, speed=140)
    assert (speeding_of(a1_car), speeding_of(a_car)) == (0, 1)


# -- the pages ------------------------------------------------------------------------------


def test_rules_page_shows_the_overrides_in_view_scope(world, users, manager, superuser):
    lower_limit(manager, world["A1"])
    R.set_override(superuser, R.SPEEDING, world["B"], enabled=True, params={}, source="成都规定")
    page = login(manager).get("/telemetry/rules/").content.decode()
    assert world["A1"].name in page and LOCAL in page
    assert world["B"].name not in page and "成都规定" not in page
    assert "/telemetry/rules/tm_speeding/overrides/" in page
    wide = login(users["all"]).get("/telemetry/rules/").content.decode()
    assert world["A1"].name in wide and "成都规定" in wide
    viewer = make_user(
        "viewer", world["A"], make_role("viewer", DataScope.AGENCY_AND_BELOW, ["telemetry.view"])
    )
    seen = login(viewer).get("/telemetry/rules/").content.decode()
    assert LOCAL in seen and "/overrides/" not in seen
    assert login(viewer).get("/telemetry/rules/tm_speeding/overrides/").status_code == 403


@pytest.fixture
def superuser(world):
    from guanjia.core.models import User

    return User.objects.create_superuser("root", "root@example.cn", PASSWORD, agency=world["A"])


def test_override_page_sets_edits_and_removes(world, manager):
    c = login(manager)
    page = c.get("/telemetry/rules/tm_speeding/overrides/").content.decode()
    assert 'name="param_limit_kmh"' in page and 'value="120"' in page  # from the default
    assert world["A1"].name in page and world["B"].name not in page  # the agency select
    form = {"action": "save", "agency": world["A1"].pk, "enabled": "on", "source": LOCAL}
    form |= {"param_limit_kmh": "100", "param_min_duration_s": "60", "param_quiet_gap_s": "300"}
    assert c.post("/telemetry/rules/tm_speeding/overrides/", form).status_code == 302
    row = RuleSetting.objects.get(rule=R.SPEEDING, agency=world["A1"])
    assert row.params["limit_kmh"] == 100 and row.enabled

    edit = c.get(f"/telemetry/rules/tm_speeding/overrides/?agency={world['A1'].pk}")
    assert 'value="100"' in edit.content.decode()
    bad = c.post("/telemetry/rules/tm_speeding/overrides/", form | {"param_limit_kmh": "快"})
    assert bad.status_code == 200 and "无效" in bad.content.decode()
    missing = c.post("/telemetry/rules/tm_speeding/overrides/", form | {"source": ""})
    assert missing.status_code == 200
    row.refresh_from_db()
    assert (row.params["limit_kmh"], row.source) == (100, LOCAL)

    into_b = c.post("/telemetry/rules/tm_speeding/overrides/", form | {"agency": world["B"].pk})
    assert into_b.status_code == 200  # not a choice: refused on the form
    assert not RuleSetting.objects.filter(agency=world["B"]).exists()

    gone = c.post(
        "/telemetry/rules/tm_speeding/overrides/", {"action": "remove", "agency": world["A1"].pk}
    )
    assert gone.status_code == 302
    assert not RuleSetting.objects.filter(agency=world["A1"]).exists()
    assert c.get("/telemetry/rules/nope/overrides/").status_code == 404


def test_override_page_cannot_remove_another_trees_override(world, manager, superuser):
    R.set_override(superuser, R.SPEEDING, world["B"], enabled=True, params={}, source="成都规定")
    r = login(manager).post(
        "/telemetry/rules/tm_speeding/overrides/", {"action": "remove", "agency": world["B"].pk}
    )
    assert r.status_code == 404
    assert RuleSetting.objects.filter(agency=world["B"]).exists()


# -- the API --------------------------------------------------------------------------------


def put(client, agency, body):
    return client.put(f"{URL}/{agency.pk}", data=json.dumps(body), content_type="application/json")


def test_api_sets_lists_and_deletes(world, manager):
    client = api_client(manager)
    r = put(client, world["A1"], {"params": {"limit_kmh": 100}, "source": LOCAL})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["agency_id"] == world["A1"].pk and body["enabled"] is True
    assert body["params"] == {"limit_kmh": 100, "min_duration_s": 60, "quiet_gap_s": 300}
    items = client.get(URL).json()["items"]
    assert [(i["agency_name"], i["source"]) for i in items] == [(world["A1"].name, LOCAL)]
    for bad in ({"params": {"limit_kmh": "快"}, "source": LOCAL}, {"source": " "}, {}):
        assert put(client, world["A1"], bad).status_code in (400, 422)
    assert client.get("/api/v1/telemetry/rules/nope/overrides").status_code == 404
    assert client.delete(f"{URL}/{world['A1'].pk}").status_code == 204
    assert client.delete(f"{URL}/{world['A1'].pk}").status_code == 404
    assert client.get(URL).json()["items"] == []


def test_api_refuses_a_viewer_and_hides_other_trees(world, manager, users):
    viewer = make_user(
        "viewer", world["A"], make_role("viewer", DataScope.AGENCY_AND_BELOW, ["telemetry.view"])
    )
    r = put(api_client(viewer), world["A"], {"source": LOCAL})
    assert r.status_code == 403
    lower_limit(users["b_admin"], world["B"])
    assert api_client(manager).get(URL).json()["items"] == []
    assert [i["agency_id"] for i in api_client(users["b_admin"]).get(URL).json()["items"]] == [
        world["B"].pk
    ]
