"""The evaluation API end to end, as a program uses it (bearer token)."""

import io
import json

from docx import Document

from guanjia.canteens.models import EvaluationTemplate

from ..conftest import api_client
from .test_evaluation_helpers import regional_reviewer, reviewer_only_template

V1 = "/api/v1/canteens"


def send(client, method, url, body=None):
    fn = getattr(client, method)
    return fn(V1 + url, data=json.dumps(body or {}), content_type="application/json")


def test_self_evaluation_then_spot_check(users, regions, canteens):
    reviewer_only_template(regions["500111"])
    clerk = api_client(users["agency"])
    r = send(clerk, "post", "/evaluations", {"canteen_id": canteens["A"].pk, "period": "2026Q3"})
    assert r.status_code == 201, r.content
    ev = r.json()
    assert [i["code"] for i in ev["items"]] == ["1", "2"] and ev["status"] == "draft"
    r = send(clerk, "post", f"/evaluations/{ev['id']}/submit")
    assert r.status_code == 422 and "尚未评分" in str(r.json()["detail"])
    r = send(clerk, "post", f"/evaluations/{ev['id']}/items/1", {"score": 61})
    assert r.status_code == 422  # above the item's 60 points
    send(clerk, "post", f"/evaluations/{ev['id']}/items/1", {"score": 50, "note": "制度齐全"})
    send(clerk, "post", f"/evaluations/{ev['id']}/items/2", {"score": 35})
    r = send(clerk, "post", f"/evaluations/{ev['id']}/submit")
    assert r.status_code == 200 and r.json()["score"] == "85.0" and r.json()["grade"] == "良好"

    # A's own staff cannot open a spot check of A's canteen
    body = {"canteen_id": canteens["A"].pk, "period": "2026Q3", "kind": "spot_check"}
    assert send(clerk, "post", "/evaluations", body).status_code == 403
    region = api_client(regional_reviewer(regions))
    r = send(region, "post", "/evaluations", body)
    assert r.status_code == 201, r.content
    spot = r.json()["id"]
    assert send(clerk, "post", f"/evaluations/{spot}/items/1", {"score": 60}).status_code == 403
    send(region, "post", f"/evaluations/{spot}/items/1", {"score": 20, "note": "制度缺失"})
    send(region, "post", f"/evaluations/{spot}/items/2", {"score": 20})
    r = send(region, "post", f"/evaluations/{spot}/submit")
    assert r.json()["status"] == "final" and r.json()["grade"] == "不合格"

    r = clerk.get(V1 + "/evaluations?period=2026Q3&kind=spot_check")
    assert [i["id"] for i in r.json()["items"]] == [spot]
    assert clerk.get(V1 + "/evaluations?grade=良好").json()["items"][0]["id"] == ev["id"]
    r = clerk.get(V1 + "/evaluations/rectification?period=2026Q3")
    assert [i["id"] for i in r.json()["items"]] == [spot]
    r = clerk.get(f"{V1}/evaluations/{spot}/report.docx")
    text = "\n".join(c.text for t in Document(io.BytesIO(r.content)).tables for row in t.rows
                     for c in row.cells)  # fmt: skip
    assert "制度缺失" in text and "40" in text
    assert clerk.get(V1 + "/evaluations/export.xlsx?period=2026-07").status_code == 422


def test_template_weights_must_sum_to_100(users, regions, canteens):
    cq_reviewer = regional_reviewer(regions)
    client = api_client(cq_reviewer)
    t = client.get(V1 + "/evaluation-templates").json()["items"]
    chongqing = next(i for i in t if i["region"] == "500000")
    assert chongqing["weight_total"] == "100.0" and chongqing["excellent_score"] == "90.0"
    items = client.get(f"{V1}/evaluation-templates/{chongqing['id']}").json()["items"]
    items[0]["weight"] = str(float(items[0]["weight"]) + 5)
    r = send(client, "put", f"/evaluation-templates/{chongqing['id']}/items", {"items": items})
    assert r.status_code == 422 and "合计应为100" in str(r.json()["detail"])
    items[1]["weight"] = str(float(items[1]["weight"]) - 5)
    items[0]["title"] = "建立制度并公示责任人"
    r = send(client, "put", f"/evaluation-templates/{chongqing['id']}/items", {"items": items})
    assert r.status_code == 200, r.content
    assert r.json()["items"][0]["title"] == "建立制度并公示责任人"
    # a Chongqing reviewer does not edit Sichuan's template
    sichuan = EvaluationTemplate.objects.get(region__code="510000")
    r = send(client, "put", f"/evaluation-templates/{sichuan.pk}/items", {"items": items})
    assert r.status_code == 403
    # and a county (大足) clerk does not edit the provincial one
    r = send(api_client(users["agency"]), "put", f"/evaluation-templates/{chongqing['id']}/items",
             {"items": items})  # fmt: skip
    assert r.status_code == 403
