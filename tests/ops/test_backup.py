"""Backup and restore through the commands an operator runs."""

import json

from django.core.management import call_command

from guanjia.core.models import Agency, CollaborationGroup, ObjectChange, User


def _snapshot():
    return {
        "agencies": sorted(Agency.objects.values_list("name", "path", "credit_code")),
        "users": sorted(User.objects.values_list("username", "agency__name")),
        "groups": sorted(
            (g.name, tuple(sorted(g.members.values_list("name", flat=True))))
            for g in CollaborationGroup.objects.all()
        ),
        "changes": ObjectChange.objects.count(),
    }


def test_backup_then_restore_gives_back_the_same_data(users, world, tmp_path, capsys, settings):
    from guanjia.core import services

    settings.MEDIA_ROOT = tmp_path / "uploads"
    (tmp_path / "uploads").mkdir()
    (tmp_path / "uploads" / "证明.txt").write_text("原件")
    services.save_group(
        None, name="川渝协作小组", agency=world["A"], members=[world["A"], world["B"]]
    )
    before = _snapshot()
    call_command("backup", output=str(tmp_path / "b.tar.gz"), json=True)
    report = json.loads(capsys.readouterr().out)
    assert report["counts"]["core.agency"] == 4

    # Damage the data, then restore: everything is back, nothing extra is audited.
    services.delete_agency(None, world["B1"])
    services.create_agency(None, name="临时单位", region=world["A"].region)
    (tmp_path / "uploads" / "证明.txt").unlink()
    call_command("restore", str(tmp_path / "b.tar.gz"), yes=True, json=True)
    assert _snapshot() == before
    assert (tmp_path / "uploads" / "证明.txt").read_text() == "原件"


def test_restore_refuses_to_overwrite_without_yes(world, tmp_path):
    import pytest
    from django.core.management.base import CommandError

    call_command("backup", output=str(tmp_path / "b.tar.gz"))
    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", str(tmp_path / "b.tar.gz"))
