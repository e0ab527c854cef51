"""The data-scope matrix's case (tests/core/test_scope_matrix) for track playback.

Agency B (成都) has a car with a terminal that reported three positions, written to the
write-ahead segments of a home of its own. Whoever does not see B's cars gets 404 for its
track; whoever sees everything gets its three positions.
"""

import tempfile
from pathlib import Path

from django.test import override_settings

from guanjia.core.models import Agency
from guanjia.telemetry import wal
from guanjia.telemetry.positions import Position
from guanjia.vehicles import services as vehicle_services
from guanjia.vehicles.models import Vehicle

from ..vehicles.conftest import vehicle_fields

URL = "/api/v1/telemetry/track?vehicle_id={b_track_car}&from=2026-03-02T08:00:00%2B08:00"
B_TERMINAL = "13811112222"
T0 = 1772410500  # 2026-03-02T08:15:00+08:00


def seed(ctx) -> None:
    if "b_track_home" in ctx:
        return
    car = Vehicle.objects.filter(terminal_key=B_TERMINAL).first()
    if car is None:
        b = Agency.objects.get(pk=ctx["B"])
        car = vehicle_services.create_vehicle(None, **vehicle_fields(b, terminal_number=B_TERMINAL))
    home = Path(tempfile.mkdtemp(prefix="matrix-track-"))
    writer = wal.WalWriter(wal.wal_root(home), "gw")
    writer.write(
        [Position(B_TERMINAL, T0 + 30 * i, 30.6, 104.0, 40.0, 0, 500, 0, 3) for i in range(3)]
    )
    writer.close()
    ctx.update(b_track_car=car.pk, b_track_home=home)


class TrackOfB:
    def _get(self, ctx, client):
        seed(ctx)
        with override_settings(HOME=ctx["b_track_home"]):
            return client.get(URL.format(**ctx))

    def scoped(self, ctx, client, user):
        r = self._get(ctx, client)
        assert r.status_code == 404, r.content

    norole = scoped

    def wide(self, ctx, client, user):
        r = self._get(ctx, client)
        assert r.status_code == 200, r.content
        assert [p["time"] for p in r.json()["positions"]] == [
            "2026-03-02T08:15:00+08:00",
            "2026-03-02T08:15:30+08:00",
            "2026-03-02T08:16:00+08:00",
        ]


CASES = {("GET", "/telemetry/track"): TrackOfB()}
