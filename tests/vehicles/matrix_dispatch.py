"""The data-scope matrix's cases (tests/core/test_scope_matrix) for online dispatch.

Agency B keeps a car (川A66001), a driver (成都师傅) and requests in every state: requested,
approved, assigned, on the road, completed. Agency A keeps an approved request of its own.
Whoever does not see B neither lists nor opens B's requests, nor approves, rejects, assigns,
starts, ends, rates or cancels them, nor files a request for B, nor sends B's car to A's
request (403/404, nothing written); whoever sees everything does all of it (writes in a
rolled-back savepoint) — except rating, which only the requester may do: for them the rating
is refused as "only the requester", which shows the request was found.
"""

from datetime import date
from functools import partial

from django.db import transaction

from guanjia.core.models import Agency, User
from guanjia.vehicles import dispatch
from guanjia.vehicles.models import Driver, TripRequest, Vehicle

from ..core.conftest import call, snapshot
from ..core.scope_kinds import Detail, Listing, SeededCase, Write, _b_agency
from .dispatch_helpers import soon, trip

V1 = "/api/v1/vehicles/trips"
MARK = "B单位矩阵测试用车"


def seed(ctx) -> dict:
    if not TripRequest.objects.filter(purpose__startswith=MARK).exists():
        b = Agency.objects.get(pk=ctx["B"])
        b_user = User.objects.get(pk=ctx["b_user"])
        car, car2 = (
            Vehicle.objects.create(
                plate=plate,
                vin=f"LSVMATRIX0000000{n}",
                category="QT",
                energy_type="gasoline",
                purchase_price=150000,
                purchase_date=date(2022, 1, 1),
                agency=b,
                odometer_km=1000,
            )
            for n, plate in ((1, "川A66001"), (2, "川A66002"))
        )
        driver = Driver.objects.create(
            agency=b,
            name="成都师傅",
            licence_number="510100199001010011",
            licence_expiry=date(2035, 1, 1),
        )
        made = {}
        for i, state in enumerate(("requested", "approved", "assigned", "running", "done")):
            t = trip(b_user, soon(24 * (i + 2)), purpose=f"{MARK}{state}", agency=b)
            if state != "requested":
                dispatch.approve(None, t)
            if state in ("assigned", "running", "done"):
                dispatch.assign(None, t, car2 if state == "running" else car, driver)
            if state in ("running", "done"):
                dispatch.start(None, t)
            if state == "done":
                dispatch.end(None, t, 1020)  # car now at 1020 km
            made[state] = t
        a_user = User.objects.get(pk=ctx["colleague"])
        dispatch.approve(None, trip(a_user, soon(30), purpose=f"{MARK}A", agency=a_user.agency))
    by_purpose = dict(
        TripRequest.objects.filter(purpose__startswith=MARK).values_list("purpose", "pk")
    )
    return {
        **{f"b_{k}": by_purpose[f"{MARK}{k}"] for k in ("requested", "approved", "assigned")},
        "b_running": by_purpose[f"{MARK}running"],
        "b_done": by_purpose[f"{MARK}done"],
        "a_approved": by_purpose[f"{MARK}A"],
        "b_car": Vehicle.objects.get(plate="川A66001").pk,
        "b_driver": Driver.objects.get(name="成都师傅").pk,
    }


Seeded = partial(SeededCase, seed)


class RateB:
    """Only the requester rates: others who see B's request are told so (403, "申请人");
    who does not see it gets 404. Nothing is written either way."""

    url = V1 + "/{b_done}/rate"

    def _try(self, ctx, client):
        ctx.update(seed(ctx))
        before = snapshot()
        r = call(client, "POST", self.url.format(**ctx), {"rating": 5, "comment": "越权评价"})
        assert snapshot() == before
        return r

    def scoped(self, ctx, client, user):
        r = self._try(ctx, client)
        assert r.status_code == 404, r.content

    norole = scoped

    def wide(self, ctx, client, user):
        r = self._try(ctx, client)
        assert r.status_code == 403 and "申请人" in r.json()["detail"], r.content
        with transaction.atomic():  # and the requester can
            b_user = User.objects.get(pk=ctx["b_user"])
            done = TripRequest.objects.get(pk=ctx["b_done"])
            dispatch.rate(b_user, done, 5)
            transaction.set_rollback(True)


FUTURE = {"start_at": "2030-05-06T09:00:00+08:00", "end_at": "2030-05-06T11:00:00+08:00"}
NEW_TRIP = {"purpose": "越权申请", "origin": "甲", "destination": "乙", "agency_id": "{B}"}

CASES = {
    ("GET", "/vehicles/trips"): Seeded(Listing(V1, _b_agency)),
    ("POST", "/vehicles/trips"): Seeded(Write(("POST", V1, NEW_TRIP | FUTURE))),
    ("GET", "/vehicles/trips/{trip_id}"): Seeded(Detail(V1 + "/{b_requested}")),
    ("POST", "/vehicles/trips/{trip_id}/approve"): Seeded(
        Write(("POST", V1 + "/{b_requested}/approve", None))
    ),
    ("POST", "/vehicles/trips/{trip_id}/reject"): Seeded(
        Write(("POST", V1 + "/{b_requested}/reject", {"reason": "越权驳回"}))
    ),
    ("POST", "/vehicles/trips/{trip_id}/assign"): Seeded(
        Write(
            (
                "POST",
                V1 + "/{b_approved}/assign",
                {"vehicle_id": "{b_car}", "driver_id": "{b_driver}"},
            ),
            (
                "POST",
                V1 + "/{a_approved}/assign",
                {"vehicle_id": "{b_car}", "driver_id": "{b_driver}"},
            ),
        )
    ),
    ("POST", "/vehicles/trips/{trip_id}/start"): Seeded(
        Write(("POST", V1 + "/{b_assigned}/start", {"odometer_km": 1020}))
    ),
    ("POST", "/vehicles/trips/{trip_id}/end"): Seeded(
        Write(("POST", V1 + "/{b_running}/end", {"odometer_km": 1055.5}))
    ),
    ("POST", "/vehicles/trips/{trip_id}/rate"): RateB(),
    ("POST", "/vehicles/trips/{trip_id}/cancel"): Seeded(
        Write(("POST", V1 + "/{b_assigned}/cancel", {"reason": "越权取消"}))
    ),
    ("GET", "/vehicles/trips/{trip_id}/suggestions"): Seeded(
        Detail(V1 + "/{b_approved}/suggestions")
    ),
}
