"""The live map in a real headless Chromium (Debian's): positions delivered through the
pipeline between two polls move the vehicle's marker; another agency's car never shows."""

from __future__ import annotations

import time

import pytest

from guanjia.telemetry import live, pipeline
from guanjia.telemetry.positions import Position
from guanjia.vehicles.models import Vehicle

from ..web.test_browser import browser, log_in, page  # noqa: F401
from .rules_fixtures import CHENGDU, DAZU, car

pytestmark = pytest.mark.browser


@pytest.fixture
def live_sink():
    """The in-process live state as the pipeline's "live" sink, serving the map (as in a
    gateway process, here the same process as the live server)."""

    def lookup(key):
        v = Vehicle.objects.filter(terminal_key=key).values_list("pk", "agency_id").first()
        return tuple(v) if v else None

    old = live.STATE.lookup, live.STATE.serving
    live.STATE.lookup = lookup
    live.STATE.serving = True  # this process answers the map from its own state
    pipeline.register("live", live.STATE)
    yield live.STATE
    pipeline.unregister("live")
    live.STATE.lookup, live.STATE.serving = old
    live.STATE.latest.clear()
    live.STATE.meta.clear()


MARKER_JS = """(plate) => {
  const m = window.liveMap;
  if (!m || !m.polls) return null;
  const series = m.chart.getOption().series || [];
  const data = (series[0] && series[0].data) || [];
  const hit = data.find((d) => d.name === plate);
  if (!hit) return null;
  const px = m.chart.convertToPixel({geoIndex: 0}, [hit.value[0], hit.value[1]]);
  return {lat: hit.value[1], lon: hit.value[0], x: px[0], y: px[1], polls: m.polls,
          plates: data.map((d) => d.name)};
}"""


def test_a_vehicle_marker_moves_between_polls(
    transactional_db,
    live_server,
    page,  # noqa: F811
    users,
    world,
    live_sink,
):
    a_car = car(world["A"], plate="渝A30001")
    b_car = car(world["B"], plate="川A30002")
    now = int(time.time())
    pipeline.deliver(
        [
            Position(a_car.terminal_key, now - 10, *DAZU, 40.0, 90, 300, 0, 3),
            Position(b_car.terminal_key, now - 10, *CHENGDU, 35.0, 0, 500, 0, 3),
        ]
    )
    log_in(page, live_server.url, "user_agency_and_below")
    page.goto(f"{live_server.url}/telemetry/live/?poll_ms=700")
    # the first draw waits for the outline (1.2 MB of GeoJSON) on a busy shared machine
    try:
        page.wait_for_function(f"({MARKER_JS})('渝A30001') !== null", timeout=45_000)
    except Exception:
        raise AssertionError(
            page.locator("#live-status").inner_text()
            + str(page.evaluate("window.liveMap && window.liveMap.last"))
        ) from None
    first = page.evaluate(MARKER_JS, "渝A30001")
    assert first["lat"] == pytest.approx(DAZU[0]) and first["plates"] == ["渝A30001"]
    assert page.locator("#live-table").inner_text().count("川A30002") == 0

    # The car drives 0.3° north-east; the gateway's batch reaches the live state.
    pipeline.deliver(
        [Position(a_car.terminal_key, now - 2, DAZU[0] + 0.3, DAZU[1] + 0.3, 55.0, 45, 300, 0, 3)]
    )
    moved = (
        f"(() => {{ const m = ({MARKER_JS})('渝A30001'); return m && m.lat > {DAZU[0] + 0.2}; }})()"
    )
    page.wait_for_function(moved, timeout=20_000)
    second = page.evaluate(MARKER_JS, "渝A30001")
    assert second["polls"] > first["polls"]
    assert second["x"] > first["x"] + 5 and second["y"] < first["y"] - 5  # east and north
    row = page.locator("#live-table tbody tr", has_text="渝A30001")
    assert f"{DAZU[0] + 0.3:.5f}" in row.inner_text() and "55.0" in row.inner_text()
    assert "川A30002" not in page.locator("#live-table").inner_text()


def test_track_playback_draws_and_plays_a_track(
    transactional_db,
    live_server,
    page,  # noqa: F811
    users,
    world,
    tmp_path,
):
    from django.test import override_settings

    from guanjia.telemetry import wal

    from .rules_fixtures import china, drive

    a_car = car(world["A"], plate="渝A30003")
    positions = drive(a_car.terminal_key, china(2026, 3, 4, 9, 0), 10, speed=50)
    writer = wal.WalWriter(wal.wal_root(tmp_path), "gw")
    writer.write(positions)
    writer.close()
    with override_settings(HOME=tmp_path):
        log_in(page, live_server.url, "user_agency")
        page.goto(
            f"{live_server.url}/telemetry/track/?vehicle={a_car.pk}"
            "&from=2026-03-04T08:00&to=2026-03-04T10:00"
        )
        page.wait_for_function(
            "window.trackPlayback && window.trackPlayback.positions.length", timeout=45_000
        )
        assert page.evaluate("window.trackPlayback.positions.length") == len(positions)
        assert "21 个定位点" in page.locator("#track-status").inner_text()
        page.locator("#track-play").click()
        page.wait_for_function("window.trackPlayback.index >= 3")
        assert "2026-03-04 09:0" in page.locator("#track-now").inner_text()
