"""The data-scope matrix's case (tests/core/test_scope_matrix) for the live map's API.

A car of agency B (成都) and a car of agency A (大足) have each reported; the gateway's
live snapshot (a file in a home of its own) holds both. Whoever does not see B's cars gets
only A's car, and 404 when asking for B's agency; whoever sees everything gets both; a user
without a role gets nothing."""

import tempfile
import time

from django.test import override_settings

from guanjia.core.models import Agency
from guanjia.telemetry.positions import Position

from .rules_fixtures import CHENGDU, DAZU, car, publish_live

URL = "/api/v1/telemetry/live"


def seed(ctx) -> None:
    if "live_home" in ctx:
        return
    b_car = car(Agency.objects.get(pk=ctx["B"]), key="13877770001", plate="川A77001")
    a_car = car(Agency.objects.get(pk=ctx["A"]), key="13877770002", plate="渝A77002")
    now = int(time.time())
    home = tempfile.mkdtemp(prefix="matrix-live-")
    publish_live(
        home,
        [
            Position(b_car.terminal_key, now, *CHENGDU, 30.0, 0, 500, 0, 3),
            Position(a_car.terminal_key, now, *DAZU, 0.0, 0, 300, 0, 2),
        ],
    )
    ctx.update(live_home=home, live_b_car=b_car.pk, live_a_car=a_car.pk)


class LiveOfB:
    def _get(self, ctx, client, url):
        seed(ctx)
        with override_settings(HOME=ctx["live_home"]):
            return client.get(url.format(**ctx))

    def _ids(self, r):
        assert r.status_code == 200, r.content
        return {i["vehicle_id"] for i in r.json()["items"]}

    def scoped(self, ctx, client, user):
        ids = self._ids(self._get(ctx, client, URL))
        assert ctx["live_b_car"] not in ids and ctx["live_a_car"] in ids
        assert self._get(ctx, client, URL + "?agency={B}").status_code == 404
        # clustered, B's car is not counted either
        body = self._get(ctx, client, URL + "?cluster_above=1").json()
        assert body["clustered"] is False and body["count"] == 1

    def wide(self, ctx, client, user):
        ids = self._ids(self._get(ctx, client, URL))
        assert {ctx["live_b_car"], ctx["live_a_car"]} <= ids
        assert self._ids(self._get(ctx, client, URL + "?agency={B}")) == {ctx["live_b_car"]}

    def norole(self, ctx, client, user):
        assert self._ids(self._get(ctx, client, URL)) == set()


CASES = {("GET", "/telemetry/live"): LiveOfB()}
