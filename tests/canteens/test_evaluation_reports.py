"""The evaluation's outputs: the Word report, the Excel workbook of a period, the CLI, and
the clean-plate indicator flowing from observations into the score."""

import datetime as dt
import io
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from docx import Document
from openpyxl import load_workbook

from guanjia.canteens import evaluation, evaluation_report, services
from guanjia.canteens.models import PlateObservation
from guanjia.core.indicator_registry import all_indicators

from .test_evaluation_helpers import mark_all, regional_reviewer, reviewer_only_template


def docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def test_word_report_carries_items_total_grade_and_rectification(users, regions, canteens):
    reviewer = regional_reviewer(regions)
    ev = evaluation.start_evaluation(reviewer, canteens["A"], "2026Q3", "spot_check")
    rows = ev.scores.select_related("item").filter(item__method="reviewer").order_by("item__code")
    first = rows[0]
    evidence = ContentFile(b"%PDF-1.4", name="检查记录.pdf")
    evaluation.mark_item(reviewer, first, Decimal("2.5"), "制度未明确责任人", evidence)
    for row in rows[1:]:
        evaluation.mark_item(reviewer, row, row.item.weight, "")
    evaluation.submit(reviewer, ev)
    ev.refresh_from_db()
    text = docx_text(evaluation_report.word_report(ev))
    assert "大足区机关中心食堂" in text and "2026Q3" in text and "抽查评估" in text
    assert f"总分 {ev.score.normalize():f} 分" in text and ev.grade in text
    assert "制度未明确责任人" in text and "2.5" in text
    assert "佐证材料" in text and evaluation.evidence_name(first.evidence.name) in text
    assert evaluation.evidence_name(first.evidence.name).endswith(".pdf")
    assert "整改要求" in text
    assert "无数据" in text  # the indicator items without data, with their 0 points
    assert ev.grade == "不合格" and "须限期整改" in text  # 51.5: reviewer items only


def test_period_workbook_ranks_evaluations_and_lists_failures(users, world, regions, canteens):
    reviewer_only_template(regions["500111"])
    second = services.save_canteen(None, agency=world["A1"], code="dz-fin", name="大足财政局食堂")
    clerk = users["agency_and_below"]
    good = mark_all(clerk, evaluation.start_evaluation(clerk, canteens["A"], "2026Q3"))
    bad = mark_all(clerk, evaluation.start_evaluation(clerk, second, "2026Q3"), Decimal("0.5"))
    for ev in (good, bad):
        evaluation.submit(clerk, ev)
    wb = load_workbook(io.BytesIO(evaluation_report.period_workbook(clerk, "2026Q3")))
    rows = list(wb["评估结果"].iter_rows(min_row=3, values_only=True))
    assert [(r[0], r[1], r[6], r[7]) for r in rows] == [
        (1, "大足区机关中心食堂", 100.0, "优秀"),
        (2, "大足财政局食堂", 50.0, "不合格"),
    ]
    fix = list(wb["整改名单"].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in fix] == ["大足财政局食堂"]
    other = load_workbook(io.BytesIO(evaluation_report.period_workbook(users["b_admin"], "2026Q3")))
    assert list(other["评估结果"].iter_rows(min_row=3, values_only=True)) == []


def run_cli(*args) -> dict:
    out = StringIO()
    call_command("canteen", "evaluate", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_cli_computes_and_stores_the_evaluation(world, regions, canteens):
    result = run_cli("--canteen", "dz-centre", "--period", "2026Q3")
    assert {"canteen", "period", "kind", "score", "grade", "items"} <= set(result)
    assert (result["canteen"], result["period"], result["kind"]) == ("dz-centre", "2026Q3", "self")
    assert sum(i["weight"] for i in result["items"]) == 100
    for item in result["items"]:
        assert {"code", "title", "indicator", "value", "score", "weight"} <= set(item)
    auto = [i for i in result["items"] if i["indicator"]]
    assert auto and all(i["score"] is not None for i in auto)
    stored = canteens["A"].evaluations.get(period="2026Q3", kind="self")
    assert float(stored.score) == result["score"] and stored.grade == result["grade"]
    with pytest.raises(CommandError):
        run_cli("--canteen", "no-such-canteen", "--period", "2026Q3")
    with pytest.raises(CommandError):
        run_cli("--canteen", "dz-centre", "--period", "2026-07")


@pytest.mark.skipif(
    "canteen.clean_plate_rate" not in {i.key for i in all_indicators()},
    reason="the clean-plate indicator is not registered",
)
def test_plate_observations_change_the_clean_plate_score(world, regions, canteens):
    """70 % clean trays → 4 of 10 points (0 at 60 %, full at 85 %); more clean trays → 10."""

    def observe(day, seen, clean, canteen=canteens["A"]):
        services.save(None, PlateObservation(
            canteen=canteen, date=day, meal="lunch", trays_observed=seen, clean_trays=clean,
        ))  # fmt: skip

    def plate_item():
        result = run_cli("--canteen", "dz-centre", "--period", "2026Q3")
        return next(i for i in result["items"] if i["indicator"] == "canteen.clean_plate_rate")

    assert (plate_item()["value"], plate_item()["score"]) == (None, 0.0)
    observe(dt.date(2026, 8, 3), 100, 70)
    observe(dt.date(2026, 8, 3), 100, 0, canteen=canteens["B"])  # another agency: not counted
    observe(dt.date(2026, 6, 30), 100, 0)  # the quarter before: not counted
    item = plate_item()
    assert (item["value"], item["score"], item["weight"]) == (70.0, 4.0, 10.0)
    observe(dt.date(2026, 8, 4), 100, 100)
    item = plate_item()
    assert (item["value"], item["score"]) == (85.0, 10.0)


def test_cli_text_output_lists_items_and_total(world, regions, canteens):
    out = StringIO()
    call_command("canteen", "evaluate", "--canteen", "大足区机关中心食堂", "--period", "2026Q3",
                 stdout=out)  # fmt: skip
    text = out.getvalue()
    assert "5.5 光盘率" in text and "未评分" in text and "总分" in text
