"""Importing the register from a sheet: all or nothing, row numbers as in the sheet,
idempotent, updates by plate; export round-trips; the CLI's contract."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from guanjia.core.models import ObjectChange
from guanjia.vehicles import registry_io
from guanjia.vehicles.models import Disposal, Vehicle

from ..fixtures.vehicles.make_sheets import BAD_ERRORS, CARS
from .conftest import make_vin

SHEETS = Path(__file__).resolve().parents[1] / "fixtures" / "vehicles"


def run_import(*args) -> tuple[dict, bool]:
    out = io.StringIO()
    failed = False
    try:
        call_command("vehicles", "import", *args, "--json", stdout=out)
    except CommandError:
        failed = True
    return json.loads(out.getvalue()), failed


def test_bad_sheet_is_refused_whole_with_the_sheet_row_numbers(world):
    result, failed = run_import(str(SHEETS / "register_bad.xlsx"))
    assert failed and result["imported"] == 0
    assert [(e["row"], e["column"]) for e in result["errors"]] == BAD_ERRORS
    assert all(e["message"] for e in result["errors"])
    by_row = {e["row"]: e["message"] for e in result["errors"]}
    assert "校验位" in by_row[3] and "第3行" in by_row[8] and "第2行" in by_row[11]
    assert not Vehicle.objects.exists()
    assert not ObjectChange.objects.filter(content_type__model="vehicle").exists()


@pytest.mark.parametrize("name", ["register_good.csv", "register_good.xlsx"])
def test_good_sheet_imports(world, name):
    result, failed = run_import(str(SHEETS / name))
    assert not failed, result["errors"]
    assert (result["imported"], result["updated"], result["errors"]) == (len(CARS), 0, [])
    car = Vehicle.objects.get(plate="渝A10001")
    assert (car.category, car.energy_type, car.agency) == ("JYTX", "gasoline", world["A"])
    assert car.terminal_key == "13800230001"
    assert Vehicle.objects.get(plate="渝AD10004").displacement_l is None
    assert Vehicle.objects.get(plate="渝A10014").status == "disposed"
    assert Vehicle.objects.get(plate="渝A10009").is_domestic is False
    assert Vehicle.objects.get(plate="川A10012").agency == world["B"]


def test_reimport_is_idempotent_and_updates_by_plate(world, tmp_path):
    run_import(str(SHEETS / "register_good.csv"))
    changes = ObjectChange.objects.count()
    result, failed = run_import(str(SHEETS / "register_good.xlsx"))
    assert not failed
    assert (result["imported"], result["updated"], result["unchanged"]) == (0, 0, len(CARS))
    assert ObjectChange.objects.count() == changes
    text = (SHEETS / "register_good.csv").read_text(encoding="utf-8-sig")
    edited = tmp_path / "edited.csv"
    edited.write_text(
        text.replace(
            "渝A10001,LFV2A2158N3000001,机要通信用车,1.5,115000",
            "渝A10001,LFV2A2158N3000001,机要通信用车,1.5,99000",
        ),
        encoding="utf-8",
    )
    result, failed = run_import(str(edited))
    assert (result["imported"], result["updated"]) == (0, 1)
    assert Vehicle.objects.get(plate="渝A10001").purchase_price == 99000


def test_vin_of_another_registered_car_is_an_error(world, tmp_path):
    run_import(str(SHEETS / "register_good.csv"))
    text = (SHEETS / "register_good.csv").read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    # a new plate carrying the VIN of 渝A10001 (row 2)
    lines[1] = lines[1].replace("渝A10001", "渝A19999").replace(",013800230001,", ",,")
    (tmp_path / "dup.csv").write_text("\n".join(lines[:2]) + "\n", encoding="gb18030")
    result, failed = run_import(str(tmp_path / "dup.csv"))
    assert failed
    assert [(e["row"], e["column"]) for e in result["errors"]] == [(2, "车架号")]
    assert "渝A10001" in result["errors"][0]["message"]
    assert not Vehicle.objects.filter(plate="渝A19999").exists()


def test_missing_columns_are_named(world, tmp_path):
    (tmp_path / "x.csv").write_text("车牌号,车架号\n渝A10001,LFV2A2158N3000001\n")
    result, failed = run_import(str(tmp_path / "x.csv"))
    assert failed
    assert {e["column"] for e in result["errors"]} == {
        "车辆类别",
        "排气量(升)",
        "购置价格(元)",
        "能源类型",
        "购置日期",
        "所属单位",
        "终端手机号",
    }
    assert {e["row"] for e in result["errors"]} == {1}


def test_agency_option_fills_empty_cells_and_limits_the_sheet(world, tmp_path):
    text = (SHEETS / "register_good.csv").read_text(encoding="utf-8-sig")
    text = text.replace(",大足区机关事务管理中心,", ",,")
    (tmp_path / "a.csv").write_text(text)
    result, failed = run_import(str(tmp_path / "a.csv"), "--agency", world["A"].name)
    # 川A10012 belongs to B, outside A's tree
    assert failed and [(e["row"], e["column"]) for e in result["errors"]] == [(13, "所属单位")]
    lines = [ln for ln in text.splitlines() if "川A10012" not in ln]
    (tmp_path / "a.csv").write_text("\n".join(lines))
    result, failed = run_import(str(tmp_path / "a.csv"), "--agency", world["A"].name)
    assert not failed and result["imported"] == len(CARS) - 1
    assert Vehicle.objects.get(plate="渝A10001").agency == world["A"]


def test_scoped_user_cannot_import_into_another_agency(world, users):
    content = (SHEETS / "register_good.csv").read_bytes()
    result = registry_io.import_file(users["agency"], content, "register_good.csv")
    assert result["failed"]
    # A1's and B's cars are outside "own agency" (A)
    rows = {e["row"] for e in result["errors"]}
    assert rows == {7, 11, 13}
    assert not Vehicle.objects.exists()
    ok = registry_io.import_file(users["agency_and_below"], content, "register_good.csv")
    assert {e["row"] for e in ok["errors"]} == {13}


def test_export_round_trips(world, tmp_path):
    run_import(str(SHEETS / "register_good.xlsx"))
    data = registry_io.export_xlsx(Vehicle.objects.all())
    ws = load_workbook(io.BytesIO(data)).active
    header = [c.value for c in ws[1]]
    assert header[:9] == [h for h, _f in registry_io.REQUIRED]
    assert ws.max_row == len(CARS) + 1
    (tmp_path / "export.xlsx").write_bytes(data)
    result, failed = run_import(str(tmp_path / "export.xlsx"))
    assert not failed and result["unchanged"] == len(CARS), result
    (tmp_path / "export.csv").write_text(registry_io.export_csv(Vehicle.objects.all()))
    result, failed = run_import(str(tmp_path / "export.csv"))
    assert not failed and result["unchanged"] == len(CARS), result


def test_list_cli_contract(world):
    run_import(str(SHEETS / "register_good.csv"))
    out = io.StringIO()
    call_command("vehicles", "list", "--agency", world["A"].name, "--json", stdout=out)
    doc = json.loads(out.getvalue())
    assert doc["count"] == len(CARS) - 1 == len(doc["items"])  # A and A1, not B
    item = next(i for i in doc["items"] if i["plate"] == "渝A10001")
    assert {"plate", "vin", "category", "agency", "status", "terminal"} <= set(item)
    assert item["terminal"] == "013800230001"
    out = io.StringIO()
    call_command("vehicles", "list", "--agency", world["A"].name, "--only", "--json", stdout=out)
    assert json.loads(out.getvalue())["count"] == len(CARS) - 3  # A1 holds two
    with pytest.raises(CommandError):
        call_command("vehicles", "list", "--agency", "没有这个单位", "--json", stdout=io.StringIO())


def test_cli_exit_status(world, capsys, monkeypatch):
    """As the console script runs it: the JSON document on stdout, exit status 1."""
    from django.core.management import execute_from_command_line
    from django.db import connections

    monkeypatch.setattr(connections, "close_all", lambda: None)  # keep the test database

    bad = str(SHEETS / "register_bad.xlsx")
    with pytest.raises(SystemExit) as exit_info:
        execute_from_command_line(["guanjia", "vehicles", "import", bad, "--json"])
    assert exit_info.value.code == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["imported"] == 0 and len(doc["errors"]) == len(BAD_ERRORS)
    good = str(SHEETS / "register_good.csv")
    execute_from_command_line(["guanjia", "vehicles", "import", good, "--json"])  # no exit
    assert json.loads(capsys.readouterr().out)["imported"] == len(CARS)


def test_a_clash_with_a_car_outside_scope_does_not_name_it(world, users):
    """F3: A's user importing B's VIN and terminal is told they are taken, not by which car."""
    run_import(str(SHEETS / "register_good.csv"))
    text = (SHEETS / "register_good.csv").read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    [b_line] = [ln for ln in lines if "川A10012" in ln]
    b_car = Vehicle.objects.get(plate="川A10012")
    b_car.terminal_number = "013800239002"
    b_car.terminal_key = "13800239002"
    b_car.save()
    row = b_line.replace("川A10012", "渝A19998").replace(world["B"].name, world["A"].name)
    cells = row.split(",")
    cells[lines[0].split(",").index("终端手机号")] = "013800239002"
    content = ("\n".join([lines[0], ",".join(cells)]) + "\n").encode()
    result = registry_io.import_file(users["agency"], content, "dup.csv")
    assert result["failed"]
    messages = {e["column"]: e["message"] for e in result["errors"]}
    assert set(messages) == {"车架号", "终端手机号"}, result["errors"]
    assert all("其他单位" in m and "川A10012" not in m for m in messages.values())


def test_a_car_registered_meanwhile_fails_the_import_cleanly(world):
    """F6: a plate registered by someone else while the sheet is checked: an error row,
    nothing imported (not an IntegrityError)."""
    content = (SHEETS / "register_good.csv").read_bytes()
    first = CARS[0]

    def meanwhile(_n):
        if not Vehicle.objects.filter(plate="渝A10001").exists():
            Vehicle.objects.create(
                plate="渝A10001",
                vin="LSVTEST0000000001",
                category="QT",
                energy_type="gasoline",
                purchase_price=1,
                purchase_date="2022-01-01",
                agency=world["A"],
            )

    result = registry_io.import_file(None, content, "register_good.csv", progress=meanwhile)
    assert result["failed"] and result["imported"] == 0
    assert "刚被他人登记" in result["errors"][0]["message"], (first, result["errors"])
    assert Vehicle.objects.count() == 1


def test_agency_names_with_full_width_brackets_and_short_names_equal_to_a_name(world):
    """F7: a stored name with （） matches its cell (normalised alike); a short name equal
    to another agency's full name does not take that name over."""
    from guanjia.core import services as core

    brackets = core.create_agency(
        None, parent=world["A"], name="大足区机关事务管理中心（本级）", region=world["A"].region
    )
    core.create_agency(
        None,
        parent=world["A"],
        name="大足区车管站",
        short_name="大足区财政局",
        region=world["A"].region,
    )
    header = "车牌号,车架号,车辆类别,排气量(升),购置价格(元),能源类型,购置日期,所属单位,终端手机号"
    row = "{},{},机要通信用车,1.5,115000,汽油,2022-03-01,{},"
    content = "\n".join(
        [
            header,
            row.format("渝A18001", make_vin(), brackets.name),
            row.format("渝A18002", make_vin(), world["A1"].name),
        ]
    ).encode()
    result = registry_io.import_file(None, content, "r.csv")
    assert not result["failed"], result["errors"]
    assert Vehicle.objects.get(plate="渝A18001").agency == brackets
    assert Vehicle.objects.get(plate="渝A18002").agency == world["A1"]


def test_the_import_cannot_dispose_of_a_car_or_undo_a_disposal(world):
    """F9: 状态 已处置 on a car in service, or another status on a disposed car: refused."""
    run_import(str(SHEETS / "register_good.csv"))
    text = (SHEETS / "register_good.csv").read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    [gone] = [n for n, ln in enumerate(lines) if "渝A10014" in ln]
    Disposal.objects.create(  # its record (the sheet loaded it as disposed already)
        vehicle=Vehicle.objects.get(plate="渝A10014"),
        disposed_on="2025-01-01",
        method="scrap",
        reason="事故",
    )
    lines[1] = lines[1].replace(",在用,", ",已处置,")
    lines[gone] = lines[gone].replace(",已处置,", ",在用,")
    result = registry_io.import_file(None, "\n".join(lines).encode(), "r.csv")
    assert result["failed"]
    assert [(e["row"], e["column"]) for e in result["errors"]] == [(2, "状态"), (gone + 1, "状态")]
    assert Vehicle.objects.get(plate="渝A10001").status == "in_service"
    assert Vehicle.objects.get(plate="渝A10014").status == "disposed"
    # the round trip of a disposed car (unchanged) still imports
    assert not registry_io.import_file(None, text.encode(), "r.csv")["failed"]
