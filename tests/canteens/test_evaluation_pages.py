"""The evaluation pages through Django's test client: they render within the data scope,
and their forms drive the services (start, mark with evidence, submit, sample, edit a
template)."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import load_workbook

from guanjia.canteens import evaluation
from guanjia.canteens.models import EvaluationTemplate

from .test_evaluation_helpers import mark_all, regional_reviewer, reviewer_only_template


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def evals(users, regions, canteens):
    reviewer_only_template(regions["500111"])
    reviewer_only_template(regions["510100"], name="成都测试模板")
    a = evaluation.start_evaluation(None, canteens["A"], "2026Q3")
    b = evaluation.start_evaluation(None, canteens["B"], "2026Q3")
    evaluation.submit(None, mark_all(None, b, share=0))  # B: 0 points, 不合格
    return {"A": a, "B": b}


def test_pages_render_within_scope(users, evals):
    client = client_for(users["agency"])
    for url in (
        "/canteens/evaluations/",
        "/canteens/evaluations/?period=2026Q3&kind=self&grade=不合格",
        f"/canteens/evaluations/{evals['A'].pk}/",
        "/canteens/evaluations/sample/?year=2026",
        "/canteens/evaluation-templates/",
    ):
        r = client.get(url)
        assert r.status_code == 200, (url, r.content[:300])
        assert "成都市机关食堂" not in r.content.decode(), url
    assert client.get(f"/canteens/evaluations/{evals['B'].pk}/").status_code == 404
    assert client.get(f"/canteens/evaluations/{evals['B'].pk}/report.docx").status_code == 404


def test_list_filters_and_rectification(users, evals):
    body = client_for(users["b_admin"]).get("/canteens/evaluations/?period=2026Q3").content
    text = body.decode()
    assert "成都市机关食堂" in text and "须整改的食堂（2026Q3）" in text
    assert "大足区机关中心食堂" not in text
    text = client_for(users["b_admin"]).get("/canteens/evaluations/?grade=优秀").content.decode()
    assert "没有评估记录" in text


def test_start_mark_with_evidence_and_submit(users, canteens, evals):
    clerk = client_for(users["agency"])
    r = clerk.post("/canteens/evaluations/", {"canteen": canteens["A"].pk, "period": "2026q4",
                                              "kind": "self"})  # fmt: skip
    assert r.status_code == 302
    ev = canteens["A"].evaluations.get(period="2026Q4")
    rows = {s.item.code: s for s in ev.scores.select_related("item")}
    upload = SimpleUploadedFile("制度.pdf", b"%PDF-1.4 evidence", content_type="application/pdf")
    clerk.post(f"/canteens/evaluations/{ev.pk}/scores/{rows['1'].pk}/",
               {"score": "55", "note": "制度齐全", "evidence": upload})  # fmt: skip
    rows["1"].refresh_from_db()
    assert rows["1"].score == 55 and rows["1"].note == "制度齐全" and rows["1"].evidence
    r = clerk.post(f"/canteens/evaluations/{ev.pk}/scores/{rows['2'].pk}/", {"score": "41"})
    rows["2"].refresh_from_db()
    assert rows["2"].score is None  # above the item's 40 points: refused
    clerk.post(f"/canteens/evaluations/{ev.pk}/scores/{rows['2'].pk}/", {"score": "30"})
    clerk.post(f"/canteens/evaluations/{ev.pk}/action/", {"action": "submit"})
    ev.refresh_from_db()
    assert (ev.status, ev.score, ev.grade) == ("submitted", 85, "良好")
    page = clerk.get(f"/canteens/evaluations/{ev.pk}/").content.decode()
    assert "已上传佐证" in page and "良好" in page


def test_start_form_refuses_a_month(users, canteens, evals):
    r = client_for(users["agency"]).post(
        "/canteens/evaluations/", {"canteen": canteens["A"].pk, "period": "2026-07", "kind": "self"}
    )
    assert r.status_code == 200 and "季度" in r.content.decode()
    assert not canteens["A"].evaluations.filter(period="2026-07").exists()


def test_spot_check_page_refuses_own_agency(users, regions, canteens, evals):
    r = client_for(users["agency"]).post(
        "/canteens/evaluations/",
        {"canteen": canteens["A"].pk, "period": "2026Q3", "kind": "spot_check"},
    )
    assert "本单位" in r.content.decode()
    assert not canteens["A"].evaluations.filter(kind="spot_check").exists()
    reviewer = client_for(regional_reviewer(regions))
    r = reviewer.post(
        "/canteens/evaluations/",
        {"canteen": canteens["A"].pk, "period": "2026Q3", "kind": "spot_check"},
    )
    assert r.status_code == 302 and canteens["A"].evaluations.filter(kind="spot_check").exists()


def test_sample_page_lists_the_draw(users, regions, evals):
    r = client_for(regional_reviewer(regions)).get(
        f"/canteens/evaluations/sample/?year=2026&region={regions['500000'].pk}"
    )
    text = r.content.decode()
    assert "范围内食堂 1 个，抽取 1 个" in text and "大足区机关中心食堂" in text


def test_export_and_word_report_download(users, evals):
    client = client_for(users["b_admin"])
    r = client.get("/canteens/evaluations/export.xlsx?period=2026Q3")
    wb = load_workbook(io.BytesIO(r.content))
    names = [row[1] for row in wb["评估结果"].iter_rows(min_row=3, values_only=True)]
    assert names == ["成都市机关食堂"]
    r = client.get(f"/canteens/evaluations/{evals['B'].pk}/report.docx")
    assert r.status_code == 200 and r.content[:2] == b"PK"


def _formset_data(template, change=None):
    items = list(template.items.order_by("order", "code"))
    data = {"form-TOTAL_FORMS": str(len(items)), "form-INITIAL_FORMS": str(len(items)),
            "form-MIN_NUM_FORMS": "0", "form-MAX_NUM_FORMS": "1000"}  # fmt: skip
    for n, i in enumerate(items):
        for f in ("code", "section", "title", "weight", "method", "indicator", "zero_at",
                  "full_at", "guidance", "order"):  # fmt: skip
            value = getattr(i, f)
            data[f"form-{n}-{f}"] = "" if value is None else str(value)
        data[f"form-{n}-id"] = str(i.pk)
    for key, value in (change or {}).items():
        data[key] = value
    return data


def test_template_editor_refuses_weights_not_summing_to_100(users, regions, evals):
    reviewer = client_for(regional_reviewer(regions))
    evaluation.applicable_template(evals["A"].canteen)  # installs the regional templates
    cq = EvaluationTemplate.objects.get(region__code="500000")
    url = f"/canteens/evaluation-templates/{cq.pk}/"
    first = cq.items.order_by("order", "code").first()
    r = reviewer.post(url, _formset_data(cq, {"form-0-weight": str(first.weight + 10)}))
    assert "合计应为100" in r.content.decode()
    first.refresh_from_db()
    assert first.weight == 6
    data = _formset_data(cq, {"form-0-weight": "10", "form-1-weight": "2"})
    r = reviewer.post(url, data)
    body = r.content.decode()
    assert r.status_code == 302, body[body.find("<main") :][:3000]
    first.refresh_from_db()
    assert first.weight == 10
    # a county clerk may look at the provincial template but not save it
    clerk = client_for(users["agency"])
    assert clerk.get(url).status_code == 200
    assert clerk.post(url, data).status_code == 403


def test_evidence_is_downloaded_within_scope_only(users, canteens, evals):
    ev = evals["A"]
    rows = {s.item.code: s for s in ev.scores.select_related("item")}
    clerk = client_for(users["agency"])
    upload = SimpleUploadedFile("制度.pdf", b"%PDF-1.4 evidence", content_type="application/pdf")
    clerk.post(f"/canteens/evaluations/{ev.pk}/scores/{rows['1'].pk}/",
               {"score": "50", "note": "有制度", "evidence": upload})  # fmt: skip
    url = f"/canteens/evaluations/{ev.pk}/scores/{rows['1'].pk}/evidence/"
    rows["1"].refresh_from_db()
    stored = evaluation.evidence_name(rows["1"].evidence.name)  # 制度.pdf, or renamed if taken
    assert stored.startswith("制度") and stored.endswith(".pdf")
    page = clerk.get(f"/canteens/evaluations/{ev.pk}/").content.decode()
    assert f'href="{url}">{stored}</a>' in page
    r = clerk.get(url)
    assert r.status_code == 200 and b"".join(r.streaming_content) == b"%PDF-1.4 evidence"
    assert r["Content-Disposition"].startswith("attachment;") and ".pdf" in r["Content-Disposition"]
    # Another agency's user, a wrong evaluation in the path, an item without a file: 404.
    assert client_for(users["b_admin"]).get(url).status_code == 404
    assert clerk.get(url.replace(f"/{ev.pk}/", f"/{evals['B'].pk}/")).status_code == 404
    assert clerk.get(url.replace(str(rows["1"].pk), str(rows["2"].pk))).status_code == 404
    assert Client().get(url).status_code == 302  # login required
