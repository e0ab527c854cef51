"""Backup and restore through the commands an operator runs."""

import json

import pytest
from django.core.management import CommandError, call_command

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
    call_command("backup", output=str(tmp_path / "b.tar.gz"))
    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", str(tmp_path / "b.tar.gz"))


# -- a restore is all or nothing, and reads only what it understands --------------------------


def _rewrite(src, dst, change):
    """A copy of backup `src` at `dst` with `change(name, bytes) -> bytes` applied to members."""
    import io
    import tarfile

    with tarfile.open(src, "r:gz") as old, tarfile.open(dst, "w:gz") as new:
        for member in old.getmembers():
            data = old.extractfile(member).read() if member.isfile() else None
            if data is not None:
                data = change(member.name, data)
                member.size = len(data)
            new.addfile(member, io.BytesIO(data) if data is not None else None)


def _dangling_reference(name, data):
    if name != "data.json":
        return data
    rows = json.loads(data)
    user = next(r for r in rows if r["model"] == "core.user" and r["fields"]["agency"])
    user["fields"]["agency"] = 987654  # an agency that is not in the backup
    return json.dumps(rows).encode()


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda n, d: d[: len(d) // 2] if n == "data.json" else d, id="truncated"),
        pytest.param(_dangling_reference, id="dangling-reference"),
    ],
)
def test_a_failing_restore_leaves_the_data_as_it_was(users, world, tmp_path, damage):
    from guanjia.core import services

    call_command("backup", output=str(tmp_path / "good.tar.gz"))
    _rewrite(tmp_path / "good.tar.gz", tmp_path / "bad.tar.gz", damage)
    services.create_agency(None, name="备份后新增", region=world["A"].region)
    before = _snapshot()
    with pytest.raises(Exception):  # noqa: B017 - whatever loaddata raises
        call_command("restore", str(tmp_path / "bad.tar.gz"), yes=True)
    assert _snapshot() == before
    assert Agency.objects.filter(name="备份后新增").exists()


def test_restore_refuses_an_unknown_format(world, tmp_path):
    call_command("backup", output=str(tmp_path / "b.tar.gz"))

    def future(name, data):
        if name != "manifest.json":
            return data
        return json.dumps({**json.loads(data), "format": 99}).encode()

    _rewrite(tmp_path / "b.tar.gz", tmp_path / "future.tar.gz", future)
    before = _snapshot()
    with pytest.raises(CommandError, match="不支持的备份格式"):
        call_command("restore", str(tmp_path / "future.tar.gz"), yes=True)
    assert _snapshot() == before


@pytest.fixture
def python_without_tar_filters(monkeypatch):
    """tarfile as Debian 12's Python 3.11.2 has it: no extraction filters at all."""
    import tarfile

    monkeypatch.delattr(tarfile, "data_filter")
    extractall = tarfile.TarFile.extractall

    def old_extractall(self, path=".", members=None, *, numeric_owner=False, **kwargs):
        if kwargs:
            raise TypeError(f"extractall() got unexpected keyword arguments {sorted(kwargs)}")
        return extractall(self, path, members, numeric_owner=numeric_owner)

    monkeypatch.setattr(tarfile.TarFile, "extractall", old_extractall)


def test_restore_works_without_tar_filters(python_without_tar_filters, world, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "uploads"
    call_command("backup", output=str(tmp_path / "b.tar.gz"))
    before = _snapshot()
    call_command("restore", str(tmp_path / "b.tar.gz"), yes=True)
    assert _snapshot() == before


@pytest.mark.parametrize("kind", ["parent", "absolute", "symlink"])
def test_without_tar_filters_unsafe_members_are_refused(
    python_without_tar_filters, world, tmp_path, kind
):
    import io
    import tarfile

    call_command("backup", output=str(tmp_path / "b.tar.gz"))
    bad = tmp_path / "bad.tar.gz"
    with tarfile.open(tmp_path / "b.tar.gz", "r:gz") as old, tarfile.open(bad, "w:gz") as new:
        for member in old.getmembers():
            new.addfile(member, old.extractfile(member) if member.isfile() else None)
        evil = tarfile.TarInfo(
            {"parent": "uploads/../../evil.txt", "absolute": "/tmp/evil.txt"}.get(kind, "uploads/x")
        )
        if kind == "symlink":
            evil.type, evil.linkname = tarfile.SYMTYPE, "/etc/passwd"
            new.addfile(evil)
        else:
            evil.size = 4
            new.addfile(evil, io.BytesIO(b"evil"))
    before = _snapshot()
    with pytest.raises(CommandError, match="不安全的条目"):
        call_command("restore", str(bad), yes=True)
    assert _snapshot() == before
    assert not (tmp_path.parent / "evil.txt").exists()


# -- a backup is one snapshot and does not stop writers --------------------------------------


def test_backup_is_a_snapshot_that_lets_others_write(
    transactional_db, world, tmp_path, monkeypatch
):
    """While the dump runs, another connection writes: it is not blocked (SQLite took the
    write lock for the whole dump before), and what it writes is not in the backup."""
    from django.db import connections

    from guanjia.core import backup
    from guanjia.core.models import Heartbeat

    def other_connection_writes():
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                if other.vendor == "sqlite":
                    cursor.execute("PRAGMA busy_timeout = 1000")
                cursor.execute(
                    "INSERT INTO core_heartbeat (name, seen_at) "
                    "VALUES ('during-backup', '2026-01-01 00:00:00+00:00')"
                )
        finally:
            other.close()

    def models(include_auto_created=False):
        yield Agency  # the first read fixes the snapshot
        other_connection_writes()
        yield Heartbeat

    monkeypatch.setattr(backup, "_models", models)
    result = backup.create_backup(tmp_path / "b.tar.gz")
    assert Heartbeat.objects.filter(name="during-backup").exists()  # the write went through
    assert result["counts"] == {"core.agency": 4}  # and is not in the snapshot


def test_restore_rebuilds_the_standards_search_index(world, tmp_path):
    from guanjia.standards.search import search
    from guanjia.standards.services import import_document
    from tests.standards.textdoc import load_fixture

    standard, _created = import_document(None, load_fixture("DB50-T-9001-2022.txt"), world["A"])
    call_command("backup", output=str(tmp_path / "b.tar.gz"))
    standard.delete()  # its index rows go with it; the restore must bring them back
    assert search(None, "光盘率") == []
    call_command("restore", str(tmp_path / "b.tar.gz"), yes=True)
    results = search(None, "光盘率")
    assert [r.code for r in results] == ["DB50/T 9001—2022"]
    assert "8.2" in results[0].clauses
