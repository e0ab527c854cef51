"""Where comparison, requirement extraction and the quality check meet the library: a
standard named by code or by file, and the library's view of withdrawn and superseded
standards for the quality check. The CLI passes every standard (operators run it); the API
passes `Standard.objects.restrict(user)`."""

from __future__ import annotations

from pathlib import Path

from .codes import parse_code
from .document import StandardDoc, document_from_standard

REPLACED = ("withdrawn", "superseded")


def find_standard(code: str, queryset=None):
    """The standard with this code (an undated code: the newest edition); LookupError if
    the library (or `queryset`) has none. The importer's lookup, so all agree."""
    from .queries import standard_by_code

    return standard_by_code(code, queryset)


def load_document(source: str, queryset=None) -> StandardDoc:
    """A file path (a draft, read by the importer's parser) or a code in the library."""
    path = Path(source)
    if path.is_file():
        from .parsing import read_file

        return read_file(path)
    try:
        parse_code(source)
    except ValueError:
        raise LookupError(f"既不是文件，也不是标准编号：{source}") from None
    return document_from_standard(find_standard(source, queryset))


def _replacement(standard, queryset=None, depth: int = 0):
    """The newest edition that replaces `standard` (following the chain 2008 → 2016 → 2020),
    among the standards `queryset` lets the caller see."""
    newer = standard.replaced_by.all()
    if queryset is not None:
        newer = newer.filter(pk__in=queryset.values("pk"))
    newer = newer.order_by("-year", "-effective_date").first()
    if newer is None or depth > 20:
        return None
    if newer.status in REPLACED:
        return _replacement(newer, queryset, depth + 1) or newer
    return newer


def library_lookup(queryset=None):
    """`code_key -> (status, replacement code) | None` over the library (or `queryset`), for
    `quality.check`: a dated key asks about that edition, an undated key about the newest."""
    cache: dict[str, tuple[str, str | None] | None] = {}

    def lookup(key: str):
        if key not in cache:
            try:
                standard = find_standard(key, queryset)
            except LookupError:
                cache[key] = None
            else:
                status = standard.status
                replacement = _replacement(standard, queryset) if status in REPLACED else None
                cache[key] = (status, replacement.code if replacement else None)
        return cache[key]

    return lookup
