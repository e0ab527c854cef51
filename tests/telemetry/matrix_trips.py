"""The data-scope matrix's cases (tests/core/test_scope_matrix) for trips.

Agency B (成都) has a car with two trips, agency A one car with one trip. Whoever does not
see B's cars neither lists nor opens B's trips (404); whoever sees everything does."""

from datetime import UTC, datetime, timedelta
from functools import partial

from guanjia.core.models import Agency
from guanjia.telemetry.models import Trip

from ..core.scope_kinds import Detail, Listing, SeededCase, _b_agency
from .rules_fixtures import CHENGDU, DAZU, car

URL = "/api/v1/telemetry/trips"


def seed(ctx) -> None:
    if "b_trip" in ctx:
        return
    b_car = car(Agency.objects.get(pk=ctx["B"]), key="13866660001", plate="川A66601")
    a_car = car(Agency.objects.get(pk=ctx["A"]), key="13866660002", plate="渝A66602")
    t0 = datetime(2026, 3, 4, 1, 0, tzinfo=UTC)
    made = []
    for vehicle, origin, n in ((b_car, CHENGDU, 2), (a_car, DAZU, 1)):
        for i in range(n):
            made.append(
                Trip.objects.create(
                    vehicle=vehicle,
                    started_at=t0 + timedelta(hours=i),
                    ended_at=t0 + timedelta(hours=i, minutes=30),
                    start_lat=origin[0],
                    start_lon=origin[1],
                    end_lat=origin[0] + 0.1,
                    end_lon=origin[1],
                    distance_km=11.1,
                    max_speed_kmh=60,
                    points=61,
                )
            )
    ctx.update(b_trip=made[0].pk, a_trip=made[2].pk)


Seeded = partial(SeededCase, seed)

CASES = {
    ("GET", "/telemetry/trips"): Seeded(Listing(URL, _b_agency)),
    ("GET", "/telemetry/trips/{trip_id}"): Seeded(Detail(URL + "/{b_trip}")),
}
