"""Importing weighings: a good sheet lands whole; a bad one is refused whole, each error
named by its row (header = row 1) and column; the CLI exits 1 with the same errors."""

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook

from guanjia.canteens import cli, waste_io
from guanjia.canteens.models import WasteRecord
from guanjia.core.subcommands import subcommands

HEAD = "食堂,日期,餐次,类别,可食,重量(千克),品名\n"
ON = dt.date(2026, 3, 10)


def run(user, text, name="w.csv"):
    return waste_io.import_weighings(user, name, text.encode("utf-8"), on=ON)


def test_good_sheet_imports_every_row(canteens):
    result = run(
        None,
        HEAD + "dz-centre,2026-03-02,午餐,倾销量,是,12.5,红烧肉\n"
        "大足区机关中心食堂,2026/3/2,lunch,加工损耗,否,3,菜根\n"
        "cd-bureau,2026-03-03,晚餐,餐盘剩余,,1,\n",  # 可食 blank: edible
    )
    assert result["errors"] == [] and result["imported"] == 3
    rows = sorted(WasteRecord.objects.values_list("canteen__code", "stream", "edible", "weight_kg"))
    assert rows == [
        ("cd-bureau", "plate", True, Decimal("1.000")),
        ("dz-centre", "preparation", False, Decimal("3.000")),
        ("dz-centre", "unserved", True, Decimal("12.500")),
    ]


def test_bad_rows_are_refused_whole_with_rows_and_columns(canteens):
    result = run(
        None,
        HEAD + "dz-centre,2026-03-02,午餐,倾销量,是,12.5,红烧肉\n"  # row 2: fine
        "no-such,2026-03-02,午餐,倾销量,是,1,\n"  # row 3: unknown canteen
        "dz-centre,2026-03-02,午餐,倾销量,是,-4,\n"  # row 4: negative weight
        "dz-centre,2026-03-11,午餐,倾销量,是,1,\n"  # row 5: after today (10 March)
        "dz-centre,2026-03-02,宵夜,堆肥,也许,1,\n",  # row 6: meal, stream, edible
    )
    assert result["imported"] == 0 and result["failed"]
    assert [(e["row"], e["column"]) for e in result["errors"]] == [
        (3, "食堂"),
        (4, "重量(千克)"),
        (5, "日期"),
        (6, "餐次"),
        (6, "类别"),
        (6, "可食"),
    ]
    assert "负数" in result["errors"][1]["message"]
    assert not WasteRecord.objects.exists()


def test_missing_columns_and_empty_cells(canteens):
    result = run(None, "食堂,日期,重量(千克)\ndz-centre,2026-03-02,1\n")
    assert [(e["row"], e["column"]) for e in result["errors"]] == [(1, "餐次"), (1, "类别")]
    result = run(None, HEAD + "dz-centre,,午餐,倾销量,是,,\n")
    assert [(e["row"], e["column"]) for e in result["errors"]] == [(2, "日期"), (2, "重量(千克)")]
    assert not WasteRecord.objects.exists()


def test_a_canteen_outside_the_users_scope_is_unknown(canteens, users):
    result = run(users["agency"], HEAD + "cd-bureau,2026-03-02,午餐,倾销量,是,1,\n")
    assert [(e["row"], e["column"]) for e in result["errors"]] == [(2, "食堂")]
    assert run(users["agency"], HEAD + "dz-centre,2026-03-02,午餐,倾销量,是,1,\n")["imported"] == 1


def test_xlsx_and_the_export_read_back(canteens):
    wb = Workbook()
    wb.active.append(["食堂", "日期", "餐次", "类别", "可食", "重量（千克）", "品名"])
    wb.active.append(["dz-centre", dt.datetime(2026, 3, 2), "午餐", "餐盘剩余", "是", 8.25, "米饭"])
    buf = io.BytesIO()
    wb.save(buf)
    assert waste_io.import_weighings(None, "w.xlsx", buf.getvalue(), on=ON)["imported"] == 1
    exported = waste_io.export_weighings(WasteRecord.objects.all())
    WasteRecord.objects.all().delete()
    assert waste_io.import_weighings(None, "e.xlsx", exported, on=ON)["imported"] == 1
    assert WasteRecord.objects.get().weight_kg == Decimal("8.250")


def _command_name() -> str:
    name = next(k for k, v in subcommands(cli).items() if v.endswith(".waste_import"))
    assert name == "waste-import"
    return name


def test_cli_imports_and_exits_1_on_errors(canteens, tmp_path, capsys):
    good = tmp_path / "good.csv"
    good.write_text(HEAD + "dz-centre,2026-03-02,午餐,倾销量,是,2,\n", encoding="utf-8")
    call_command("canteen", _command_name(), str(good), "--json")
    assert json.loads(capsys.readouterr().out)["imported"] == 1
    bad = tmp_path / "bad.csv"
    bad.write_text(HEAD + "dz-centre,2026-03-02,午餐,倾销量,是,-2,\n", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("canteen", _command_name(), str(bad), "--json")
    out = json.loads(capsys.readouterr().out)
    assert out["imported"] == 0 and out["errors"][0] | {"message": ""} == {
        "row": 2,
        "column": "重量(千克)",
        "message": "",
    }
    assert WasteRecord.objects.count() == 1
