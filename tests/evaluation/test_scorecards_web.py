"""Scorecards through the API and the pages; the Word report and the rankings workbook
open and carry the numbers."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from docx import Document
from openpyxl import load_workbook

from guanjia.core.scope import DataScope
from guanjia.evaluation import scorecards_report
from guanjia.evaluation.models import Assessment

from ..conftest import api_client, make_role, make_user
from .scorecard_fixtures import expert_of, finished, reviewer_marks, template

pytestmark = pytest.mark.django_db
V1 = "/api/v1/scorecards"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_api_self_assessment_expert_review_and_rankings(world, users):
    own = api_client(users["agency_and_below"])
    r = own.post(f"{V1}/assessments", {"agency_id": world["A"].pk,
                 "template": "standardization-work", "period": "2026"},
                 content_type="application/json")  # fmt: skip
    assert r.status_code == 200, r.content
    pk = r.json()["id"]
    marks = reviewer_marks(template(), "1")
    r = own.post(f"{V1}/assessments/{pk}/submit")
    assert r.status_code == 422 and "尚未自评" in str(r.json()["detail"])
    r = own.post(f"{V1}/assessments/{pk}/scores", {"code": "1.1", "score": 9},
                 content_type="application/json")  # fmt: skip
    assert r.status_code == 422  # weight 8
    for code, (score, _n) in marks.items():
        r = own.post(f"{V1}/assessments/{pk}/scores", {"code": code, "score": float(score)},
                     content_type="application/json")  # fmt: skip
        assert r.status_code == 200, r.content
    assert own.post(f"{V1}/assessments/{pk}/submit").json()["self_score"] == 82
    halves = [{"code": c, "score": float(s) / 2} for c, (s, _n) in marks.items()]
    body = {"expert_id": expert_of(world["A1"], "下级专家").pk, "marks": halves}
    r = own.post(f"{V1}/assessments/{pk}/review", body, content_type="application/json")
    assert r.status_code == 403  # a user of A does not review A
    body["expert_id"] = expert_of(world["B"]).pk
    province = api_client(make_user("prov", world["B"], make_role("prov", DataScope.ALL)))
    r = province.post(f"{V1}/assessments/{pk}/review", body, content_type="application/json")
    assert r.status_code == 200, r.content
    r = province.post(f"{V1}/assessments/{pk}/finalize")
    assert (r.json()["final_score"], r.json()["grade"]) == (41.0, "不合格")
    ranks = own.get(f"{V1}/rankings?template=standardization-work&period=2026&level=province")
    assert [(x["key"], x["score"], x["rank"]) for x in ranks.json()] == [("500000", 41.0, 1)]
    listed = own.get(f"{V1}/assessments?period=2026&status=final").json()["items"]
    assert [x["id"] for x in listed] == [pk]


def test_word_report_and_rankings_workbook_carry_the_numbers(world, users):
    a = finished(world["A"], expert_of(world["B"]), "1")
    finished(world["B"], expert_of(world["A"], "李专家"), "0.5")
    doc = Document(io.BytesIO(scorecards_report.word_report(a)))
    text = "\n".join(p.text for p in doc.paragraphs)
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    assert "最终得分 82 分" in text and "优秀" not in text  # 82: 良好
    assert "良好" in cells and "张专家" in cells and "标准体系建设" in cells
    book = load_workbook(io.BytesIO(scorecards_report.rankings_workbook(None, template(), "2026")))
    assert book.sheetnames == ["单位排名", "区县排名", "省级排名"]
    agencies = list(book["单位排名"].iter_rows(min_row=3, values_only=True))
    assert [(r[0], r[1], r[4], r[5]) for r in agencies] == [
        (1, "大足区机关事务管理中心", 82.0, "良好"), (2, "成都市机关事务管理局", 41.0, "不合格"),
    ]  # fmt: skip
    provinces = {r[2]: r[4] for r in book["省级排名"].iter_rows(min_row=3, values_only=True)}
    assert provinces == {"500000": 82.0, "510000": 41.0}


def test_pages_self_score_with_evidence_review_and_export(world, users, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    own = logged_in(users["agency_and_below"])
    r = own.post("/evaluation/scorecards/start/", {"agency": world["A"].pk,
                 "template": "standardization-work", "period": "2026"})  # fmt: skip
    a = Assessment.objects.get(agency=world["A"])
    assert r.status_code == 302 and r["Location"].endswith(f"/scorecards/{a.pk}/")
    proof = SimpleUploadedFile("体系表.pdf", b"%PDF-1.4 proof", content_type="application/pdf")
    own.post(f"/evaluation/scorecards/{a.pk}/score/",
             {"code": "1.1", "score": "7", "notes": "体系表已更新", "evidence": proof})  # fmt: skip
    row = a.scores.get(item__code="1.1")
    assert (row.self_score, row.notes) == (7, "体系表已更新") and row.evidence
    page = own.get(f"/evaluation/scorecards/{a.pk}/").content.decode()
    assert "体系表已更新" in page and f"/evaluation/scorecards/evidence/{row.pk}/" in page
    assert own.get(f"/evaluation/scorecards/evidence/{row.pk}/").status_code == 200
    r = own.post(f"/evaluation/scorecards/{a.pk}/submit/", follow=True)
    assert "尚未自评" in r.content.decode()
    for code, (score, _n) in reviewer_marks(template(), "1").items():
        if code != "1.1":
            own.post(f"/evaluation/scorecards/{a.pk}/score/", {"code": code, "score": score})
    own.post(f"/evaluation/scorecards/{a.pk}/submit/")
    a.refresh_from_db()
    assert a.status == "submitted" and a.self_score == 81
    assert (
        'id="scorecard-review"' not in own.get(f"/evaluation/scorecards/{a.pk}/").content.decode()
    )
    province = logged_in(make_user("prov", world["B"], make_role("prov", DataScope.ALL)))
    expert = expert_of(world["B"])
    page = province.get(f"/evaluation/scorecards/{a.pk}/").content.decode()
    assert 'id="scorecard-review"' in page and "张专家" in page
    form = {"expert": expert.pk} | {f"score_{c}": s for c, (s, _n) in
                                    reviewer_marks(template(), "0.5").items()}  # fmt: skip
    province.post(f"/evaluation/scorecards/{a.pk}/review/", form)
    province.post(f"/evaluation/scorecards/{a.pk}/finalize/")
    a.refresh_from_db()
    assert (a.status, a.final_score, a.reviewer) == ("final", 41, expert)
    listing = own.get("/evaluation/scorecards/?status=final").content.decode()
    assert "大足区机关事务管理中心" in listing and "41.0" in listing
    ranking = own.get("/evaluation/scorecards/rankings/?template=standardization-work&period=2026")
    assert "省级排名" in ranking.content.decode() and "重庆市" in ranking.content.decode()
    sheet = own.get("/evaluation/scorecards/rankings/export/?template=standardization-work"
                    "&period=2026")  # fmt: skip
    assert load_workbook(io.BytesIO(sheet.content))["单位排名"]["E3"].value == 41.0
    word = own.get(f"/evaluation/scorecards/{a.pk}/word/")
    assert word["Content-Type"] == scorecards_report.DOCX
    # Agency B's assessment is out of A's scope: 404, and it cannot be started from here.
    b = finished(world["B"], expert_of(world["A"], "李专家"), "1")
    assert own.get(f"/evaluation/scorecards/{b.pk}/").status_code == 404
    assert own.get(f"/evaluation/scorecards/{b.pk}/word/").status_code == 404
    own.post("/evaluation/scorecards/start/", {"agency": world["B"].pk,
             "template": "standardization-work", "period": "2025"})  # fmt: skip
    assert not Assessment.objects.filter(agency=world["B"], period="2025").exists()
