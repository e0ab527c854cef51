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
from datetime import datetime
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.core.management import call_command
from django.db import connection, transaction

import guanjia

from . import audit

# Rebuilt by migrate, or transient: never carried from one database to another.
SKIPPED = {
    "contenttypes.contenttype",
    "auth.permission",
    "sessions.session",
    "django_tasks_database.dbtaskresult",
}


def _models():
    for model in apps.get_models():
        label = model._meta.label_lower
        if label not in SKIPPED and not model._meta.proxy and model._meta.managed:
            yield model


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
        with transaction.atomic(), data.open("w", encoding="utf-8") as f:  # one snapshot
            serializers.serialize(
                "json", objects(), stream=f, use_natural_foreign_keys=True, ensure_ascii=False
            )
        manifest = {
            "format": 1,
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


def restore_backup(path: Path) -> dict:
    """Replace this database's content with the backup's, all or nothing."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"备份文件不存在：{path}")
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(path, "r:gz") as tar:
        tar.extractall(tmp, filter="data")
        manifest = json.loads((Path(tmp) / "manifest.json").read_text())
        call_command("migrate", interactive=False, verbosity=0)
        with transaction.atomic(), audit.paused():
            for model in reversed(list(_models())):
                model._base_manager.all().delete()
            call_command("loaddata", str(Path(tmp) / "data.json"), verbosity=0)
        uploads = Path(tmp) / "uploads"
        if uploads.exists():
            shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)
            shutil.copytree(uploads, settings.MEDIA_ROOT)
    return {"file": str(path), "restored": manifest["counts"], "from": manifest["database"]}
