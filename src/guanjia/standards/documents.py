"""Working documents: upload (the text of .txt/.md/.docx read out for search), full-text
search over title, tags and text with the standards library's segmentation and index
(`search.search_documents`), filtering by tag.

Other kinds of file (.pdf, images, spreadsheets) are kept and found by title and tags; their
text is not read. A .txt/.md/.docx that cannot be read is refused with the reason."""

from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from guanjia.core.scope import ensure_in_scope

from . import search as fts
from .models import Document
from .parsing import decode_text, docx_lines

MAX_BYTES = 20 * 1024 * 1024
TEXT_SUFFIXES = {".txt", ".md"}


def _require(actor, action: str) -> None:
    wanted = f"standards.{action}"
    if actor is not None and not actor.can(wanted):
        raise PermissionDenied(_("没有权限：%(perm)s") % {"perm": wanted})


def extract_text(content: bytes, name: str) -> str:
    """The text of a .txt/.md/.docx file; "" for other kinds (kept, not searched by text)."""
    suffix = Path(name).suffix.lower()
    try:
        if suffix in TEXT_SUFFIXES:
            return decode_text(content)
        if suffix == ".docx":
            return "\n".join(docx_lines(content))
    except Exception as exc:  # an unreadable file is still a document
        raise ValidationError(_("无法读取文件内容：%s") % exc) from None
    return ""


def upload_document(actor, *, agency, title: str, name: str, content: bytes, tags: str = ""):
    _require(actor, "add")
    if not content:
        raise ValidationError(_("文件为空"))
    if len(content) > MAX_BYTES:
        raise ValidationError(_("文件超过 20 MB"))
    text = extract_text(content, name)
    with transaction.atomic():
        document = Document(
            title=(title or Path(name).stem)[:255],
            tags=" ".join(tags.split())[:255],
            text=text,
            agency=agency,
            uploaded_by=actor,
        )
        document.full_clean(exclude=["file"])
        document.save()
        ensure_in_scope(actor, document, "add")  # before anything is written to storage
        document.file.save(Path(name).name, ContentFile(content), save=False)
        document.save(update_fields=["file"])
    return document


def has_text(name: str) -> bool:
    """Whether the text of a file of this name is read out for search."""
    return Path(name).suffix.lower() in TEXT_SUFFIXES | {".docx"}


def tagged(queryset, tag: str = ""):
    """The documents carrying `tag` (tags are space-separated words)."""
    if tag:
        queryset = queryset.filter(
            Q(tags=tag)
            | Q(tags__startswith=f"{tag} ")
            | Q(tags__endswith=f" {tag}")
            | Q(tags__contains=f" {tag} ")
        )
    return queryset


def full_text(queryset, q: str = "", tag: str = "") -> fts.DocumentSearch | None:
    """The documents of `queryset` with `tag` matching the words of `q`, best first (see
    `search.search_documents`); None when `q` is empty."""
    if not (q or "").strip():
        return None
    return fts.search_documents(tagged(queryset, tag), q)


def search(queryset, q: str = "", tag: str = ""):
    """The documents of `queryset` with `tag` holding every word of `q` (title, tags or text),
    best first; newest first without `q`."""
    found = full_text(queryset, q, tag)
    return tagged(queryset, tag) if found is None else found.documents
