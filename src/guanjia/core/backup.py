"""Backup and restore that work the same on SQLite and PostgreSQL (and across them).

A backup is one .tar.gz: `manifest.json` (when, from which database, row counts),
`data.json` (every table through Django's serializers, natural keys for content types and
permissions, so it loads into a database migrated anywhere) and `uploads/`.
"""

from __future__ import annotations

import io
import json
import shutil
import tarfile
import tempfile
from collections import Counter
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path, PurePosixPath

from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, transaction
from django.dispatch import Signal

import guanjia

from . import audit

# Rebuilt by migrate, or transient: never carried from one database to another.
SKIPPED = {
    "contenttypes.contenttype",
    "auth.permission",
    "sessions.session",
    "django_tasks_database.dbtaskresult",
}


FORMAT = 1

# Sent inside the restore transaction once the rows are back: apps rebuild what is derived
# from them and kept outside Django's models (e.g. the standards' full-text index).
restored = Signal()


def _models(include_auto_created: bool = False):
    for model in apps.get_models(include_auto_created=include_auto_created):
        label = model._meta.label_lower
        if label not in SKIPPED and not model._meta.proxy and model._meta.managed:
            yield model


@contextmanager
def _read_snapshot():
    """One consistent view of the whole database for the dump, without blocking writers.
    PostgreSQL: a REPEATABLE READ, READ ONLY transaction. SQLite: a deferred (read)
    transaction instead of the IMMEDIATE one the settings ask for, which would hold the
    write lock for the whole dump; under WAL, writers go on and the reader keeps the view
    it had at its first read."""
    if connection.in_atomic_block:  # already in a transaction: its view is the snapshot
        yield
    elif connection.vendor == "postgresql":
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield
    elif connection.vendor == "sqlite":
        connection.ensure_connection()
        mode, connection.transaction_mode = connection.transaction_mode, "DEFERRED"
        try:
            with transaction.atomic():
                connection.transaction_mode = mode
                yield
        finally:
            connection.transaction_mode = mode
    else:
        with transaction.atomic():
            yield


def create_backup(output: Path | None = None) -> dict:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    output = Path(output or settings.HOME / "backups" / f"guanjia-{stamp}.tar.gz")
    output.parent.mkdir(parents=True, exist_ok=True)
    counts: Counter[str] = Counter()

    def objects():
        for model in _models():
            for obj in model._base_manager.order_by("pk").iterator(chunk_size=2000):
                counts[model._meta.label_lower] += 1
                yield obj

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data.json"
        with _read_snapshot(), data.open("w", encoding="utf-8") as f:
            serializers.serialize(
                "json", objects(), stream=f, use_natural_foreign_keys=True, ensure_ascii=False
            )
        manifest = {
            "format": FORMAT,
            "version": guanjia.__version__,
            "created": stamp,
            "database": connection.vendor,
            "counts": dict(sorted(counts.items())),
        }
        partial = output.with_suffix(".partial")
        with tarfile.open(partial, "w:gz") as tar:
            _add_bytes(tar, "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
            tar.add(data, "data.json")
            uploads = Path(settings.MEDIA_ROOT)
            if uploads.exists():
                tar.add(uploads, "uploads")
        partial.replace(output)  # never leave a half-written backup under the final name
    return {"file": str(output), **manifest}


def _add_bytes(tar: tarfile.TarFile, name: str, text: str) -> None:
    raw = text.encode()
    info = tarfile.TarInfo(name)
    info.size = len(raw)
    tar.addfile(info, io.BytesIO(raw))


def _extract(tar: tarfile.TarFile, folder: str) -> None:
    """Unpack with the "data" filter where Python has it (3.11.4+; Debian 12 has 3.11.2),
    else refuse what that filter refuses: absolute names, "..", links and devices."""
    if hasattr(tarfile, "data_filter"):
        tar.extractall(folder, filter="data")
        return
    members = tar.getmembers()
    for member in members:
        name = PurePosixPath(member.name)
        if name.is_absolute() or ".." in name.parts or not (member.isfile() or member.isdir()):
            raise ValueError(f"备份文件中有不安全的条目：{member.name}")
        member.mode &= 0o755  # no set-id bits, nothing writable by others
    tar.extractall(folder, members=members)


def _empty_tables() -> None:
    """Empty every table a backup fills, in the caller's transaction: one DELETE per table
    on SQLite, one TRUNCATE on PostgreSQL (both roll back), instead of Django's delete()
    walking every row for cascades and signals. Foreign keys are deferred to the commit,
    when the loaded data satisfies them again."""
    tables = [m._meta.db_table for m in _models(include_auto_created=True)]
    postgresql = connection.vendor == "postgresql"
    if postgresql:  # TRUNCATE refuses tables with checks still pending in this transaction
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    connection.ops.execute_sql_flush(connection.ops.sql_flush(no_style(), tables))
    if postgresql:  # loaddata writes rows before the rows they point at
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def restore_backup(path: Path) -> dict:
    """Replace this database's content with the backup's, all or nothing."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"备份文件不存在：{path}")
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(path, "r:gz") as tar:
        _extract(tar, tmp)
        manifest = json.loads((Path(tmp) / "manifest.json").read_text())
        if manifest.get("format") != FORMAT:
            raise ValueError(f"不支持的备份格式：{manifest.get('format')!r}（应为 {FORMAT}）")
        call_command("migrate", interactive=False, verbosity=0)
        with transaction.atomic(), audit.paused():
            _empty_tables()
            call_command("loaddata", str(Path(tmp) / "data.json"), verbosity=0)
            restored.send(sender=restore_backup)
        uploads = Path(tmp) / "uploads"
        if uploads.exists():
            shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)
            shutil.copytree(uploads, settings.MEDIA_ROOT)
    return {"file": str(path), "restored": manifest["counts"], "from": manifest["database"]}
