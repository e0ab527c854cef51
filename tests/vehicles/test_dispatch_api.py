"""Online dispatch through the API, as a program would drive it: two users (a staff member
of A1 and the fleet manager of A) take a request from filing to rating."""

import json
from datetime import timedelta

from ..conftest import api_client
from .dispatch_helpers import at, new_driver, new_vehicle, people_fixture, soon, trip  # noqa: F401

V1 = "/api/v1/vehicles/trips"


def post(client, url, body=None):
    if body is None:
        return client.post(url)
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_request_to_rating_through_the_api(people, world):
    car = new_vehicle(world["A"], "渝A50001", odometer_km=800)
    driver = new_driver(world["A"], "王师傅")
    staff, fleet = api_client(people["staff"]), api_client(people["fleet"])
    start = soon()
    r = post(
        staff,
        V1,
        {
            "purpose": "赴区政府汇报",
            "passengers": 2,
            "origin": "大足区财政局",
            "destination": "大足区人民政府",
            "destination_lat": 29.708,
            "destination_lon": 105.7105,
            "start_at": start.isoformat(),
            "end_at": (start + timedelta(hours=2)).isoformat(),
        },
    )
    assert r.status_code == 201, r.content
    body = r.json()
    pk = body["id"]
    assert body["number"].startswith("PC") and body["status"] == "requested"
    assert body["status_label"] == "待审批" and body["agency_id"] == world["A1"].pk
    assert body["requester_name"] == "staff" and body["destination_lat"] == 29.708

    r = post(staff, f"{V1}/{pk}/approve")
    assert r.status_code == 403 and "没有权限" in r.json()["detail"]
    r = post(fleet, f"{V1}/{pk}/assign", {"vehicle_id": car.pk, "driver_id": driver.pk})
    assert r.status_code == 422 and "只有审批通过的申请才能派车" in str(r.json()["detail"])
    r = post(fleet, f"{V1}/{pk}/approve")
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert r.json()["approver_name"] == "fleet"

    r = fleet.get(f"{V1}/{pk}/suggestions")
    assert r.status_code == 200, r.content
    s = r.json()
    assert [v["plate"] for v in s["vehicles"]] == ["渝A50001"]
    assert [d["name"] for d in s["drivers"]] == ["王师傅"] and s["pools"] == []
    assert staff.get(f"{V1}/{pk}/suggestions").status_code == 403  # staff do not dispatch

    r = post(fleet, f"{V1}/{pk}/assign", {"vehicle_id": car.pk, "driver_id": driver.pk})
    assert r.status_code == 200, r.content
    assert (r.json()["plate"], r.json()["driver_name"]) == ("渝A50001", "王师傅")
    r = post(fleet, f"{V1}/{pk}/start", {})
    assert r.status_code == 200 and r.json()["start_odometer_km"] == 800.0
    r = post(fleet, f"{V1}/{pk}/end", {"odometer_km": 790})
    assert r.status_code == 422 and "小于出车里程" in str(r.json()["detail"])
    r = post(fleet, f"{V1}/{pk}/end", {"odometer_km": 836.4})
    assert r.status_code == 200 and r.json()["status"] == "completed"
    assert r.json()["distance_km"] == 36.4
    car.refresh_from_db()
    assert float(car.odometer_km) == 836.4

    r = post(fleet, f"{V1}/{pk}/rate", {"rating": 5})
    assert r.status_code == 403
    r = post(staff, f"{V1}/{pk}/rate", {"rating": 5, "comment": "准时"})
    assert r.status_code == 200 and r.json()["rating"] == 5


def test_bad_input_is_422_in_chinese(people):
    staff = api_client(people["staff"])
    r = post(
        staff,
        V1,
        {
            "purpose": "",
            "origin": "甲",
            "destination": "乙",
            "start_at": soon().isoformat(),
            "end_at": soon(23).isoformat(),
        },
    )
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert "请填写用车事由" in detail["purpose"][0] and "晚于开始时间" in detail["end_at"][0]


def test_conflicts_come_back_as_a_list_of_reasons(people, world):
    car = new_vehicle(world["A"], "渝A50002", status="in_repair")
    driver = new_driver(world["A"], active=False)
    fleet = api_client(people["fleet"])
    t = trip(people["staff"], soon())
    post(fleet, f"{V1}/{t.pk}/approve")
    r = post(fleet, f"{V1}/{t.pk}/assign", {"vehicle_id": car.pk, "driver_id": driver.pk})
    assert r.status_code == 422
    reasons = r.json()["detail"]
    assert any("“维修”状态" in x for x in reasons) and any("不在岗" in x for x in reasons)


def test_lists_show_own_requests_to_staff_and_the_agencys_to_the_manager(people, world):
    mine = trip(people["staff"], at(2, 9))
    theirs = trip(people["staff2"], at(3, 9))
    done = trip(people["staff2"], at(20, 9))
    done.status = "completed"
    done.save()
    b_trip = trip(people["b_fleet"], at(2, 9), agency=world["B"])

    def ids(client, query=""):
        r = client.get(f"{V1}?limit=100{query}")
        assert r.status_code == 200, r.content
        return {i["id"] for i in r.json()["items"]}

    staff, fleet = api_client(people["staff"]), api_client(people["fleet"])
    assert ids(staff) == {mine.pk}
    assert ids(fleet) == {mine.pk, theirs.pk, done.pk}
    assert b_trip.pk not in ids(fleet)
    assert ids(fleet, "&status=completed") == {done.pk}
    assert ids(fleet, "&date_from=2026-03-03&date_to=2026-03-19") == {theirs.pk}
    assert ids(fleet, f"&agency={world['A1'].pk}") == {mine.pk, theirs.pk, done.pk}
    assert ids(fleet, f"&agency={world['A'].pk}") == {mine.pk, theirs.pk, done.pk}
    assert ids(fleet, "&mine=true") == set()
    assert staff.get(f"{V1}/{theirs.pk}").status_code == 404
    # F3: an agency outside the caller's scope is not found, not silently filtered
    assert fleet.get(f"{V1}?agency={world['B'].pk}").status_code == 404


def test_pooling_through_the_api(people, world):
    van = new_vehicle(world["A"], "渝A50003", seats=7)
    driver = new_driver(world["A"])
    fleet = api_client(people["fleet"])
    start = soon()
    a = trip(people["staff"], start, origin="区财政局", destination="区政府")
    b = trip(people["staff2"], start, origin="区财政局", destination="区政府")
    for t in (a, b):
        assert post(fleet, f"{V1}/{t.pk}/approve").status_code == 200
    pools = fleet.get(f"{V1}/{a.pk}/suggestions").json()["pools"]
    assert [p["trip"]["id"] for p in pools] == [b.pk] and pools[0]["passengers"] == 2
    r = post(fleet, f"{V1}/{b.pk}/assign", {"vehicle_id": van.pk, "driver_id": driver.pk})
    assert r.status_code == 200
    r = post(fleet, f"{V1}/{a.pk}/assign", {"pool_with_id": b.pk})
    assert r.status_code == 200, r.content
    assert r.json()["plate"] == "渝A50003" and r.json()["pool_lead_id"] == b.pk
    r = post(fleet, f"{V1}/{a.pk}/cancel", {"reason": ""})
    assert r.status_code == 422 and "取消原因" in str(r.json()["detail"])
    r = post(fleet, f"{V1}/{a.pk}/cancel", {"reason": "行程取消"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert fleet.get(f"{V1}/{b.pk}").json()["pool_lead_id"] is None
