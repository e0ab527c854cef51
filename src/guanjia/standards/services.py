"""Writes to the standards library (Zulip's "actions", as in guanjia.core.services).

Every write runs in one transaction, refuses early when the caller lacks the permission,
re-checks the written standard through the caller's data scope (`ensure_in_scope`) before
the transaction ends, and is audited by the ChangeLogged signals with the ambient actor —
the Standard row carries `clause_count` and `content_digest`, so an import that changes the
text leaves a change record saying how many clauses it now has. `actor=None` is the system
itself (the demo world, `guanjia standards import` run by an operator).

    standard, created = import_document(user, doc, agency)
    report = import_files(user, ["a.txt", "b.docx"], agency)
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import re
from collections import defaultdict, deque
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from guanjia.core.models import Agency, Region
from guanjia.core.scope import ensure_in_scope

from .codes import Code, parse_code
from .document import StandardDoc
from .models import PRE_PUBLICATION, Clause, Reference, Standard, Term, derived_status
from .parsing import UnreadableFile, read_bytes, reference_code

log = logging.getLogger(__name__)

__all__ = [
    "delete_standard",
    "derived_status",
    "import_bytes",
    "import_document",
    "import_files",
    "latest_edition",
    "update_standard",
]

UPDATABLE = (
    "title",
    "english_title",
    "issuer",
    "ics",
    "ccs",
    "issue_date",
    "effective_date",
    "withdrawn_date",
    "stage",
    "is_public",
    "agency",
    "region",
)
_POSITION_SHIFT = 1_000_000  # frees the positions of kept clauses while they are renumbered


def _require(actor, action: str) -> None:
    wanted = f"standards.{action}"
    if actor is not None and not actor.can(wanted):
        raise PermissionDenied(_("没有权限：%(perm)s") % {"perm": wanted})


def _cut(text: str, size: int) -> str:
    text = text or ""
    return text if len(text) <= size else text[: size - 1] + "…"


def content_digest(doc: StandardDoc) -> str:
    """SHA-256 over what a re-import replaces: foreword, clauses, terms, references."""
    payload = {
        "foreword": doc.foreword,
        "clauses": [[c.number, c.title, c.text, c.kind, c.annex] for c in doc.clauses],
        "terms": [[t.number, t.term, t.english, t.definition] for t in doc.terms],
        "references": [[r.raw, r.code, r.dated, r.title] for r in doc.references],
    }
    raw = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
    return hashlib.sha256(raw).hexdigest()


def _code_of(doc: StandardDoc) -> Code:
    if not (doc.code or "").strip():
        raise ValidationError(
            _("未找到标准编号：封面上应有形如“DB50/T 9001—2022”的编号行"), code="no_code"
        )
    try:
        code = parse_code(doc.code)
    except ValueError as exc:
        raise ValidationError(str(exc), code="bad_code") from None
    if code.year is None:
        raise ValidationError(
            _("标准编号“%(code)s”缺少年代号（如 —2022），无法区分版本") % {"code": doc.code},
            code="no_year",
        )
    if not (doc.title or "").strip():
        raise ValidationError(_("未找到标准名称（应在封面编号行之后）"), code="no_title")
    return code


def _reference_key(code: str, dated: bool) -> str:
    try:
        parsed = reference_code(code)
    except ValueError:
        return re.sub(r"\s+", "", code).upper()[:64]
    return parsed.key if dated and parsed.year else parsed.undated_key


def latest_edition(undated_key: str, before_year: int | None = None) -> Standard | None:
    """The newest published edition in the library of a standard named without its year."""
    try:
        code = parse_code(undated_key)
    except ValueError:
        return None
    qs = Standard.objects.filter(code_prefix=code.prefix, code_number=code.number).exclude(
        stage__in=PRE_PUBLICATION
    )
    if before_year is not None:
        qs = qs.filter(year__lt=before_year)
    return qs.order_by(F("year").desc(nulls_last=True), "-pk").first()


# -- import -------------------------------------------------------------------------------


def import_document(
    actor,
    doc: StandardDoc,
    agency: Agency,
    source_file: tuple[str, bytes] | None = None,
    *,
    is_public: bool | None = None,
) -> tuple[Standard, bool]:
    """Store `doc` in the library: a new standard, or — same code and year, whichever way
    the code is written — the update of the one already there (never a duplicate).

    Clauses, terms and references are replaced by the document's (clause rows whose number
    is kept are updated in place, so what hangs on them survives a re-import); references
    are linked to the library; "代替" relations are set both ways. `agency` owns a new
    standard (an existing one keeps its owner). `source_file` = (name, content) is kept as
    the original file. Returns (standard, created)."""
    code = _code_of(doc)
    with transaction.atomic():
        existing = Standard.objects.select_for_update().filter(code_key=code.key).first()
        _require(actor, "change" if existing else "add")
        if existing is not None:
            if actor is not None and not (
                Standard.objects.restrict(actor, "change").filter(pk=existing.pk).exists()
            ):
                if Standard.objects.restrict(actor, "view").filter(pk=existing.pk).exists():
                    raise PermissionDenied(
                        _("标准库中已有 %(code)s（由%(agency)s维护），您没有权限更新它")
                        % {"code": existing.code, "agency": existing.agency.name}
                    )
                raise PermissionDenied(_("标准库中已有此编号的标准，您没有权限更新它"))
            standard, created = existing, False
        else:
            standard, created = Standard(agency=agency), True
        _set_fields(standard, doc, code, is_public, created)
        if source_file is not None:
            _attach_file(standard, *source_file)
        standard.save()  # one save, so one change record for the import
        _replace_content(standard, doc)
        _link(standard)
        ensure_in_scope(actor, standard, "add" if created else "change")
        _index(standard)
    return standard, created


def _index(standard: Standard) -> None:
    """Keep the full-text index in step, inside the same transaction."""
    if importlib.util.find_spec("guanjia.standards.search") is None:
        return
    from .search import index_standard

    index_standard(standard)


def _set_fields(standard: Standard, doc: StandardDoc, code: Code, is_public, created) -> None:
    standard.code = code.display
    standard.code_key = code.key
    standard.code_prefix = code.prefix
    standard.code_number = code.number
    standard.year = code.year
    standard.title = _cut(doc.title.strip(), 255)
    standard.english_title = _cut(doc.english_title, 255)
    standard.level = code.level
    standard.mandatory = code.mandatory
    region = None
    if code.region_code:
        region = Region.objects.filter(code=code.region_code).first()
    elif code.level == "internal" and standard.agency_id:
        region = standard.agency.region
    standard.region = region or (None if created else standard.region)
    standard.issuer = _cut(doc.issuer, 128)
    standard.ics = _cut(doc.ics, 32)
    standard.ccs = _cut(doc.ccs, 32)
    standard.issue_date = doc.issue_date
    standard.effective_date = doc.effective_date
    if doc.stage in PRE_PUBLICATION:
        standard.stage = doc.stage
    elif created or standard.stage in PRE_PUBLICATION:
        standard.stage = Standard.Status.PUBLISHED
    if is_public is not None:
        standard.is_public = is_public
    elif created:
        standard.is_public = code.level != "internal" and standard.stage not in PRE_PUBLICATION
    standard.foreword = doc.foreword
    keys = []
    for written in doc.replaces:
        try:
            key = parse_code(written).key
        except ValueError:
            continue
        if key != code.key and key not in keys:
            keys.append(key)
    standard.replaces_keys = _cut(f" {' '.join(keys)} " if keys else "", 255)
    standard.clause_count = len(doc.clauses)
    standard.content_digest = content_digest(doc)
    standard.source_format = doc.source_format[:8]


def _replace_content(standard: Standard, doc: StandardDoc) -> None:
    old = list(standard.clauses.order_by("position"))
    if old:
        standard.clauses.update(position=F("position") + _POSITION_SHIFT)
    free: dict[str, deque] = defaultdict(deque)
    for clause in old:
        free[clause.number].append(clause)
    kept, new = [], []
    for position, c in enumerate(doc.clauses):
        fields = {
            "number": _cut(c.number, 32),
            "title": _cut(c.title, 255),
            "text": c.text,
            "kind": c.kind if c.kind in Clause.Kind.values else Clause.Kind.INFORMATIVE,
            "annex": c.annex if c.annex in ("normative", "informative") else "",
            "depth": c.depth,
            "position": position,
        }
        row = free[c.number].popleft() if free[c.number] else None
        if row is None:
            new.append(Clause(standard=standard, **fields))
        else:
            for name, value in fields.items():
                setattr(row, name, value)
            kept.append(row)
    gone = [c.pk for queue in free.values() for c in queue]
    if gone:
        Clause.objects.filter(pk__in=gone).delete()
    if kept:
        Clause.objects.bulk_update(
            kept, ["number", "title", "text", "kind", "annex", "depth", "position"], batch_size=500
        )
    Clause.objects.bulk_create(new, batch_size=500)

    standard.terms.all().delete()
    Term.objects.bulk_create(
        [
            Term(
                standard=standard,
                number=_cut(t.number, 32),
                term=_cut(t.term, 128),
                english=_cut(t.english, 255),
                definition=t.definition,
            )
            for t in doc.terms
        ],
        batch_size=500,
    )
    standard.references.all().delete()
    Reference.objects.bulk_create(
        [
            Reference(
                standard=standard,
                raw=_cut(r.raw, 255),
                code=_cut(r.code, 64),
                code_key=_reference_key(r.code, r.dated),
                dated=r.dated,
                title=_cut(r.title, 255),
            )
            for r in doc.references
        ],
        batch_size=500,
    )


def _link(standard: Standard) -> None:
    """References to and from the library, and the 代替 relation, both ways."""
    # What this standard cites.
    refs = list(standard.references.all())
    for ref in refs:
        if ref.dated:
            ref.target = Standard.objects.filter(code_key=ref.code_key).first()
        else:
            ref.target = latest_edition(ref.code_key)
    Reference.objects.bulk_update(refs, ["target"], batch_size=500)
    # Who cites it: this edition by its dated code; the standard undated (latest edition).
    Reference.objects.filter(code_key=standard.code_key, dated=True).update(target=standard)
    Reference.objects.filter(code_key=standard.undated_key, dated=False).update(
        target=latest_edition(standard.undated_key)
    )
    # What it replaces ("代替" in its text) …
    replaced = []
    for key in standard.replaces_keys.split():
        code = parse_code(key)
        found = (
            Standard.objects.filter(code_key=key).first()
            if code.year
            else latest_edition(key, before_year=standard.year)
        )
        if found is not None and found.pk != standard.pk:
            replaced.append(found)
    if {s.pk for s in replaced} != set(standard.replaces.values_list("pk", flat=True)):
        standard.replaces.set(replaced)
    # … and the editions already in the library that name it in theirs.
    for newer in Standard.objects.filter(replaces_keys__contains=f" {standard.code_key} "):
        if newer.pk != standard.pk and not newer.replaces.filter(pk=standard.pk).exists():
            newer.replaces.add(standard)
    undated = Standard.objects.filter(
        replaces_keys__contains=f" {standard.undated_key} ", year__gt=standard.year or 0
    )
    for newer in undated:
        if newer.pk != standard.pk and not newer.replaces.filter(pk=standard.pk).exists():
            newer.replaces.add(standard)


def _attach_file(standard: Standard, name: str, content: bytes) -> None:
    """Store the original file on the (not yet saved) standard; the old one goes at commit."""
    old = standard.source_file.name if standard.source_file else ""
    suffix = Path(name).suffix.lower()[:10]
    stem = re.sub(r"[^A-Za-z0-9]+", "-", standard.code_key).strip("-")
    standard.source_file.save(f"{stem}{suffix}", ContentFile(content), save=False)
    if old and old != standard.source_file.name:
        storage = standard.source_file.storage
        transaction.on_commit(lambda: storage.delete(old))


# -- files --------------------------------------------------------------------------------


def _entry(name: str) -> dict:
    return {
        "file": name,
        "code": None,
        "title": None,
        "created": False,
        "updated": False,
        "clauses": 0,
        "terms": 0,
        "references": 0,
        "linked": 0,
        "error": None,
    }


def import_bytes(
    actor, name: str, content: bytes, agency: Agency, *, is_public: bool | None = None
) -> tuple[dict, Standard | None]:
    """Read and import one file's content; never raises for a bad file: the report entry
    carries the reason, and nothing of that file is written."""
    entry = _entry(name)
    try:
        doc = read_bytes(content, name)
        entry["code"], entry["title"] = doc.code or None, doc.title or None
        standard, created = import_document(
            actor, doc, agency, source_file=(name, content), is_public=is_public
        )
    except UnreadableFile as exc:
        entry["error"] = _("无法读取：%(reason)s") % {"reason": exc}
        return entry, None
    except ValidationError as exc:
        entry["error"] = "；".join(exc.messages)
        return entry, None
    except PermissionDenied as exc:
        entry["error"] = str(exc) or _("没有权限")
        return entry, None
    except Exception as exc:  # one broken file must not stop the others
        log.exception("import of %s failed", name)
        entry["error"] = _("导入失败：%(e)s") % {"e": exc}
        return entry, None
    entry.update(
        code=standard.code,
        title=standard.title,
        created=created,
        updated=not created,
        clauses=len(doc.clauses),
        terms=len(doc.terms),
        references=len(doc.references),
        linked=standard.references.filter(target__isnull=False).count(),
    )
    return entry, standard


def _expand(paths) -> list[Path]:
    """Files as given; a directory stands for the supported files in it (sorted)."""
    from .parsing import SUPPORTED_SUFFIXES

    out = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.suffix.lower() in SUPPORTED_SUFFIXES)
        else:
            out.append(p)
    return out


def import_files(actor, paths, agency: Agency, *, is_public: bool | None = None) -> dict:
    """Import each file on its own (all or nothing per file). The report:
    {"files": [{file, code, title, created, updated, clauses, terms, references, linked,
    error}], "imported": n, "failed": n, "message": "…"}."""
    files = []
    for path in _expand(paths):
        try:
            content = path.read_bytes()
        except FileNotFoundError:
            entry = _entry(str(path))
            entry["error"] = _("无法读取：文件不存在")
            files.append(entry)
            continue
        except OSError as exc:
            entry = _entry(str(path))
            entry["error"] = _("无法读取：%(reason)s") % {"reason": exc.strerror or exc}
            files.append(entry)
            continue
        entry, _standard = import_bytes(actor, path.name, content, agency, is_public=is_public)
        entry["file"] = str(path)
        files.append(entry)
    failed = sum(1 for f in files if f["error"])
    imported = len(files) - failed
    message = _("导入 %(ok)d 个文件，失败 %(bad)d 个") % {"ok": imported, "bad": failed}
    return {"files": files, "imported": imported, "failed": failed, "message": message}


# -- edits --------------------------------------------------------------------------------


def update_standard(actor, standard: Standard, *, shared_with=None, **fields) -> Standard:
    """Change a standard's catalogue data (not its text: re-import the file for that)."""
    _require(actor, "change")
    unknown = set(fields) - set(UPDATABLE)
    if unknown:
        raise ValidationError(_("未知字段：%s") % ", ".join(sorted(unknown)))
    with transaction.atomic():
        ensure_in_scope(actor, standard, "change")
        for name, value in fields.items():
            setattr(standard, name, value)
        standard.full_clean(exclude=["source_file", "agency", "region"])
        standard.save()
        if shared_with is not None:
            standard.shared_with.set(shared_with)
        ensure_in_scope(actor, standard, "change")
        if "stage" in fields:  # a draft becoming published is now the latest edition
            _link(standard)
        _index(standard)
    return standard


def delete_standard(actor, standard: Standard) -> None:
    _require(actor, "delete")
    with transaction.atomic():
        ensure_in_scope(actor, standard, "delete")
        undated = standard.undated_key
        name = standard.source_file.name if standard.source_file else ""
        standard.delete()
        Reference.objects.filter(code_key=undated, dated=False).update(
            target=latest_edition(undated)
        )
        if name:
            storage = Standard._meta.get_field("source_file").storage
            transaction.on_commit(lambda: storage.delete(name))


def default_agency() -> Agency | None:
    """The first root agency (the system's own bureau when nothing else is said)."""
    return Agency.objects.filter(depth=1).order_by("path").first()
