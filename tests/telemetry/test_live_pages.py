"""The live map, track playback, rules and trips pages and their API, through Django's
test client: who sees which vehicles, clustering, rule editing by scope."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from django.test import Client, override_settings

from guanjia.telemetry import rule_defs as R
from guanjia.telemetry.models import RuleSetting, Trip
from guanjia.telemetry.positions import Position

from ..conftest import api_client
from .rules_fixtures import CHENGDU, DAZU, car, publish_live

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def fleet(world, tmp_path):
    """A's two cars (one moving, one parked an hour ago: offline) and B's car, all in the
    live snapshot of a home of the test's own."""
    a_moving = car(world["A"], plate="渝A10001")
    a_old = car(world["A1"], plate="渝A10002")
    b_car = car(world["B"], plate="川A10003")
    now = int(time.time())
    publish_live(
        tmp_path,
        [
            Position(a_moving.terminal_key, now - 5, *DAZU, 42.5, 90, 300, 0, 3),
            Position(a_old.terminal_key, now - 3600, DAZU[0] + 0.2, DAZU[1], 0.0, 0, 300, 0, 2),
            Position(b_car.terminal_key, now - 5, *CHENGDU, 30.0, 0, 500, 0, 3),
        ],
    )
    with override_settings(HOME=tmp_path):
        yield {"a_moving": a_moving, "a_old": a_old, "b_car": b_car}


def test_live_api_shows_the_scope_with_states(users, fleet):
    body = api_client(users["agency_and_below"]).get("/api/v1/telemetry/live").json()
    by_plate = {i["plate"]: i for i in body["items"]}
    assert set(by_plate) == {"渝A10001", "渝A10002"}
    assert by_plate["渝A10001"]["state"] == "moving" and by_plate["渝A10001"]["acc"] is True
    assert by_plate["渝A10002"]["state"] == "offline"
    assert body["datum"] == "WGS-84" and body["clustered"] is False
    own = api_client(users["agency"]).get("/api/v1/telemetry/live").json()
    assert {i["plate"] for i in own["items"]} == {"渝A10001"}  # A1's car is below A
    recent = api_client(users["all"]).get("/api/v1/telemetry/live?since_s=600").json()
    assert {i["plate"] for i in recent["items"]} == {"渝A10001", "川A10003"}


def test_live_api_clusters_above_the_threshold_and_narrows_to_a_box(users, fleet):
    client = api_client(users["all"])
    body = client.get("/api/v1/telemetry/live?cluster_above=2&cell=1").json()
    assert body["clustered"] is True and body["items"] == [] and body["count"] == 3
    cells = sorted((c["count"], c["moving"]) for c in body["cells"])
    assert cells == [(1, 1), (2, 1)]  # 大足 (one moving, one offline), 成都
    box = f"{DAZU[1] - 0.5},{DAZU[0] - 0.5},{DAZU[1] + 0.5},{DAZU[0] + 0.5}"
    zoomed = client.get(f"/api/v1/telemetry/live?cluster_above=2&bbox={box}").json()
    assert zoomed["clustered"] is False
    assert {i["plate"] for i in zoomed["items"]} == {"渝A10001", "渝A10002"}


def test_live_map_page_renders_with_agencies_in_scope(users, world, fleet):
    r = login(users["agency_and_below"]).get("/telemetry/live/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "实时监控" in html and 'id="live-map"' in html
    assert "telemetry/geo/510000.geojson" in html and "echarts.min.js" in html
    assert world["A1"].name in html and world["B"].name not in html


def test_track_playback_page_only_for_visible_cars(users, fleet):
    c = login(users["agency"])
    r = c.get(f"/telemetry/track/?vehicle={fleet['a_moving'].pk}&from=2026-03-04T08:00")
    assert r.status_code == 200
    html = r.content.decode()
    assert "渝A10001" in html and 'data-from="2026-03-04T08:00"' in html
    assert "/api/v1/telemetry/track" in html
    assert c.get(f"/telemetry/track/?vehicle={fleet['b_car'].pk}").status_code == 404
    assert "川A10003" not in c.get("/telemetry/track/").content.decode()


def test_rules_page_lists_rules_and_edits_only_at_scope_all(users):
    page = login(users["agency"]).get("/telemetry/rules/").content.decode()
    for rule in R.RULES.values():
        assert str(rule.label) in page
    assert "道路交通安全法实施条例" in page and 'name="source"' not in page
    r = login(users["agency"]).post(
        "/telemetry/rules/", {"rule": R.SPEEDING, "source": "x", "param_limit_kmh": "90"}
    )
    assert r.status_code == 403
    assert RuleSetting.objects.get(rule=R.SPEEDING, agency=None).params["limit_kmh"] == 120

    admin = login(users["all"])
    assert 'name="source"' in admin.get("/telemetry/rules/").content.decode()
    current = RuleSetting.objects.get(rule=R.SPEEDING, agency=None)
    form = {"rule": R.SPEEDING, "enabled": "on", "source": current.source + "（修订）"}
    form |= {f"param_{k}": str(v) for k, v in current.params.items()}
    form["param_limit_kmh"] = "100"
    r = admin.post("/telemetry/rules/", form)
    assert r.status_code == 302
    current.refresh_from_db()
    assert current.params["limit_kmh"] == 100 and current.source.endswith("（修订）")
    bad = admin.post("/telemetry/rules/", form | {"param_limit_kmh": "快"}, follow=True)
    assert "无效" in bad.content.decode()
    current.refresh_from_db()
    assert current.params["limit_kmh"] == 100


def test_rules_api_validates_parameters(users):
    client = api_client(users["all"])
    r = client.patch(
        "/api/v1/telemetry/rules/tm_off_hours",
        data=json.dumps({"params": {"night_start": "21:30"}}),
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["params"]["night_start"] == "21:30"
    for bad in ({"night_start": "25:00"}, {"colour": "red"}):
        r = client.patch(
            "/api/v1/telemetry/rules/tm_off_hours",
            data=json.dumps({"params": bad}),
            content_type="application/json",
        )
        assert r.status_code in (400, 422), r.content
    assert (
        client.patch(
            "/api/v1/telemetry/rules/nope", data="{}", content_type="application/json"
        ).status_code
        == 404
    )


def test_trips_page_shows_own_trips_only(users, world):
    a_car, b_car = car(world["A"], plate="渝A20001"), car(world["B"], plate="川A20002")
    for v in (a_car, b_car):
        Trip.objects.create(
            vehicle=v,
            started_at=datetime(2026, 3, 4, 1, 0, tzinfo=UTC),
            ended_at=datetime(2026, 3, 4, 2, 0, tzinfo=UTC),
            start_lat=30,
            start_lon=104,
            end_lat=30.1,
            end_lon=104,
            distance_km=11.1,
            points=10,
        )
    html = login(users["agency"]).get("/telemetry/trips/?date=2026-03-04").content.decode()
    assert "渝A20001" in html and "川A20002" not in html
    body = api_client(users["agency"]).get("/api/v1/telemetry/trips?date=2026-03-04").json()
    assert [i["plate"] for i in body["items"]] == ["渝A20001"]


@pytest.mark.parametrize("url", ["/telemetry/live/", "/telemetry/track/", "/telemetry/rules/"])
def test_pages_need_telemetry_view(world, url):
    from ..conftest import make_role, make_user

    clerk = make_user("clerk", world["A"], make_role("clerk", permissions=["vehicles.view"]))
    assert login(clerk).get(url).status_code == 403
