"""NISO STS (ANSI/NISO Z39.102) XML: export a `StandardDoc`, and import STS files (ours and
others', ISO STS included) into one.

The mapping follows the GB/T 1.1 ↔ STS table of the reference notes:

- cover → `front/std-meta`: `title-wrap` (zh, en), `std-ident` (originator "DB50",
  doc-type "T", doc-number, version = year), `std-ref type="dated"` (the code as printed),
  `pub-date` (发布), `ics`, `std-xref type="replaces"` (代替), `custom-meta-group` for CCS,
  issuer, effective date (实施) and drafting stage;
- 前言 → `front/sec[@sec-type="foreword"]`; clauses → nested `sec` with `label` and
  `title`, `@sec-type` scope / norm-refs / terms, the clause type in `@specific-use`;
- 规范性引用文件 → `ref-list[@content-type="norm-refs"]`, each `ref/std/std-ref` with
  `@type` dated or undated; terms → `term-sec` holding a TBX `termEntry` (zh and en
  langSets, definition, notes); annexes → `back/app-group/app` with `annex-type`;
  参考文献 → `back/ref-list[@content-type="bibl"]`.

`export_sts(doc)` then `parse_sts(...)` gives back the same document (the text of each
paragraph with its whitespace collapsed, as the text importer produces it).
"""

from __future__ import annotations

import re
from datetime import date

from django.utils.translation import gettext as _
from lxml import etree

from .codes import parse_code
from .document import ClauseDoc, ReferenceDoc, StandardDoc, TermDoc
from .parsing import UnreadableFile, kind_of, split_term

TBX = "urn:iso:std:iso:30042:ed-2"
XLINK = "http://www.w3.org/1999/xlink"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
SEC_TYPES = {"scope": "scope", "references": "norm-refs", "term": "terms"}
KINDS = {
    "scope",
    "references",
    "term",
    "requirement",
    "recommendation",
    "permission",
    "possibility",
    "informative",
    "heading",
}
ANNEX = {"normative": ("norm-annex", "(规范性)"), "informative": ("inform-annex", "(资料性)")}


# -- export -------------------------------------------------------------------------------


def _sub(parent, tag: str, text: str | None = None, **attrs):
    el = etree.SubElement(parent, tag, {k.replace("_", "-"): v for k, v in attrs.items()})
    if text is not None:
        el.text = text
    return el


def _paragraphs(parent, text: str) -> None:
    for para in text.split("\n") if text else []:
        _sub(parent, "p", para)


def _is_annex(number: str) -> bool:
    return bool(re.fullmatch(r"[A-Z]", number))


def _sec_id(prefix: str, number: str, used: set[str]) -> str:
    base = f"{prefix}_{number}" if number else prefix
    ident, n = base, 1
    while ident in used:
        n += 1
        ident = f"{base}-{n}"
    used.add(ident)
    return ident


def export_sts(doc: StandardDoc) -> bytes:
    """The document as NISO STS XML (UTF-8, with XML declaration)."""
    root = etree.Element("standard", nsmap={"tbx": TBX, "xlink": XLINK})
    root.set(XML_LANG, "zh")
    front = _sub(root, "front")
    _std_meta(front, doc)
    if doc.foreword:
        sec = _sub(front, "sec", sec_type="foreword", id="sec_foreword")
        _sub(sec, "title", "前言")
        _paragraphs(sec, doc.foreword)
    body = _sub(root, "body")
    terms = {t.number: t for t in doc.terms}
    used: set[str] = set()
    stack: list[tuple[str, etree._Element]] = []  # (number, element) of open sections
    container = body
    refs_placed = False
    back = None
    for clause in doc.clauses:
        if _is_annex(clause.number) and back is None:
            back = _sub(root, "back")
            container = _sub(back, "app-group")
            stack = []
        number = clause.number
        while stack and not (number and number.startswith(stack[-1][0] + ".")):
            stack.pop()
        parent = stack[-1][1] if stack else container
        if _is_annex(number) and back is not None:
            el = _annex(container, clause, used)
        elif clause.number == "" and clause.title == "参考文献" and back is not None:
            el = _bibliography(back, clause)
        elif clause.kind == "term" and number in terms and "." in number:
            el = _term_sec(parent, clause, terms[number], used)
        else:
            el = _sub(parent, "sec", id=_sec_id("sec", number, used), specific_use=clause.kind)
            if clause.kind in SEC_TYPES and "." not in number and number:
                el.set("sec-type", SEC_TYPES[clause.kind])
            if number:
                _sub(el, "label", number)
            if clause.title:
                _sub(el, "title", clause.title)
            _paragraphs(el, clause.text)
            if clause.kind == "references" and not refs_placed and doc.references:
                _ref_list(el, doc.references)
                refs_placed = True
        if number:
            stack.append((number, el))
    if doc.references and not refs_placed:
        _ref_list(body, doc.references)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _std_meta(front, doc: StandardDoc) -> None:
    meta = _sub(front, "std-meta")
    wrap = _sub(meta, "title-wrap")
    wrap.set(XML_LANG, "zh")
    _sub(wrap, "main", doc.title)
    _sub(wrap, "full", doc.title)
    if doc.english_title:
        wrap = _sub(meta, "title-wrap")
        wrap.set(XML_LANG, "en")
        _sub(wrap, "main", doc.english_title)
    try:
        code = parse_code(re.sub(r":\s*(\d{4})$", r"-\1", doc.code))
    except ValueError:
        code = None
    if code is not None:
        ident = _sub(meta, "std-ident")
        originator, _sep, doc_type = code.prefix.partition("/")
        _sub(ident, "originator", originator)
        if doc_type:
            _sub(ident, "doc-type", doc_type)
        _sub(ident, "doc-number", code.number)
        if code.year:
            _sub(ident, "version", str(code.year))
    _sub(meta, "content-language", "zh")
    _sub(meta, "std-ref", doc.code, type="dated" if code and code.year else "undated")
    _sub(meta, "doc-ref", doc.code)
    if doc.issue_date:
        _sub(meta, "pub-date", doc.issue_date.isoformat())
    if doc.ics:
        _sub(meta, "ics", doc.ics)
    for replaced in doc.replaces:
        xref = _sub(meta, "std-xref", type="replaces")
        _sub(xref, "std-ref", replaced)
    custom = {
        "ccs": doc.ccs,
        "issuer": doc.issuer,
        "effective-date": doc.effective_date.isoformat() if doc.effective_date else "",
        "stage": doc.stage,
    }
    if any(custom.values()):
        group = _sub(meta, "custom-meta-group")
        for name, value in custom.items():
            if value:
                cm = _sub(group, "custom-meta")
                _sub(cm, "meta-name", name)
                _sub(cm, "meta-value", value)


def _ref_list(parent, references: list[ReferenceDoc]) -> None:
    refs = _sub(parent, "ref-list", content_type="norm-refs")
    for i, ref in enumerate(references, 1):
        el = _sub(refs, "ref", id=f"ref_{i}")
        std = _sub(el, "std")
        std_ref = _sub(std, "std-ref", ref.code, type="dated" if ref.dated else "undated")
        if ref.title:
            std_ref.tail = " "
            _sub(std, "title", ref.title)
        if ref.raw != _default_raw(ref.code, ref.title):
            _sub(el, "mixed-citation", ref.raw)


def _default_raw(code: str, title: str) -> str:
    return f"{code} {title}".strip()


def _term_sec(parent, clause: ClauseDoc, term: TermDoc, used: set[str]):
    el = _sub(parent, "term-sec", id=_sec_id("term", clause.number, used), specific_use="term")
    _sub(el, "label", clause.number)
    entry = etree.SubElement(el, f"{{{TBX}}}termEntry", id=_sec_id("te", clause.number, used))
    zh = etree.SubElement(entry, f"{{{TBX}}}langSet")
    zh.set(XML_LANG, "zh")
    first, *notes = term.definition.split("\n")
    etree.SubElement(zh, f"{{{TBX}}}definition").text = first
    for note in notes:
        etree.SubElement(zh, f"{{{TBX}}}note").text = note
    tig = etree.SubElement(zh, f"{{{TBX}}}tig")
    etree.SubElement(tig, f"{{{TBX}}}term").text = term.term
    etree.SubElement(tig, f"{{{TBX}}}normativeAuthorization", value="preferredTerm")
    if term.english:
        en = etree.SubElement(entry, f"{{{TBX}}}langSet")
        en.set(XML_LANG, "en")
        tig = etree.SubElement(en, f"{{{TBX}}}tig")
        etree.SubElement(tig, f"{{{TBX}}}term").text = term.english
    return el


def _annex(group, clause: ClauseDoc, used: set[str]):
    el = _sub(group, "app", id=_sec_id("app", clause.number, used), specific_use=clause.kind)
    if clause.annex in ANNEX:
        el.set("content-type", ANNEX[clause.annex][0])
    _sub(el, "label", f"附录{clause.number}")
    if clause.annex in ANNEX:
        _sub(el, "annex-type", ANNEX[clause.annex][1])
    if clause.title:
        _sub(el, "title", clause.title)
    _paragraphs(el, clause.text)
    return el


def _bibliography(back, clause: ClauseDoc):
    refs = _sub(back, "ref-list", content_type="bibl", specific_use=clause.kind)
    _sub(refs, "title", clause.title)
    for i, line in enumerate(clause.text.split("\n") if clause.text else [], 1):
        ref = _sub(refs, "ref", id=f"bib_{i}")
        _sub(ref, "mixed-citation", line)
    return refs


# -- import -------------------------------------------------------------------------------


def _local(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _children(el, name: str):
    return [c for c in el if _local(c) == name]


def _child(el, name: str):
    return next((c for c in el if _local(c) == name), None)


def _text(el) -> str:
    """An element's text with its whitespace collapsed (mixed content, pretty printing)."""
    if el is None:
        return ""
    return re.sub(r"\s+", " ", "".join(el.itertext())).strip()


def _lang(el) -> str:
    return (el.get(XML_LANG) or el.get("lang") or "").lower()


def _iso(text: str) -> date | None:
    m = re.match(r"^\s*(\d{4})-(\d{2})-(\d{2})", text or "")
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def parse_sts(data: bytes) -> StandardDoc:
    """A StandardDoc from NISO STS (or ISO STS) XML."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise UnreadableFile(_("不是有效的 XML 文件：%(e)s") % {"e": exc}) from None
    if _local(root) not in ("standard", "adoption"):
        raise UnreadableFile(
            _("不是 NISO STS 文档（根元素应为 standard，实际为 %(tag)s）") % {"tag": _local(root)}
        )
    if _local(root) == "adoption":  # a national adoption wraps the adopted standard
        inner = next((e for e in root.iter() if _local(e) == "standard"), None)
        root = inner if inner is not None else root
    doc = StandardDoc(code="", title="", source_format="sts")
    front = _child(root, "front")
    if front is not None:
        meta = next(
            (c for c in front if _local(c) in ("std-meta", "iso-meta", "nat-meta", "reg-meta")),
            None,
        )
        if meta is not None:
            _read_meta(meta, doc)
        for sec in _children(front, "sec"):
            if sec.get("sec-type") == "foreword" or _text(_child(sec, "title")) in (
                "前言",
                "Foreword",
            ):
                doc.foreword = "\n".join(_text(p) for p in _children(sec, "p"))
    reader = _BodyReader(doc)
    body = _child(root, "body")
    if body is not None:
        reader.walk(body)
    back = _child(root, "back")
    if back is not None:
        reader.walk_back(back)
    if not doc.code:
        raise UnreadableFile(_("STS 文档中没有标准编号（std-meta/std-ref）"))
    return doc


def _read_meta(meta, doc: StandardDoc) -> None:
    wraps = _children(meta, "title-wrap")
    zh = next((w for w in wraps if _lang(w).startswith("zh")), None)
    en = next((w for w in wraps if _lang(w).startswith("en")), None)
    main = zh if zh is not None else (wraps[0] if wraps else None)
    if main is not None:
        doc.title = _text(_child(main, "main")) or _text(_child(main, "full"))
    if en is not None and en is not main:
        doc.english_title = _text(_child(en, "main")) or _text(_child(en, "full"))
    refs = _children(meta, "std-ref")
    dated = next((r for r in refs if r.get("type") == "dated"), None)
    chosen = dated if dated is not None else (refs[0] if refs else _child(meta, "doc-ref"))
    doc.code = _text(chosen)
    if not doc.code and (ident := _child(meta, "std-ident")) is not None:
        originator = _text(_child(ident, "originator"))
        doc_type = _text(_child(ident, "doc-type"))
        number = _text(_child(ident, "doc-number"))
        year = _text(_child(ident, "version")) or _text(_child(meta, "release-version"))
        prefix = f"{originator}/{doc_type}" if doc_type in ("T", "Z") else originator
        doc.code = f"{prefix} {number}" + (f"—{year}" if re.fullmatch(r"\d{4}", year) else "")
    doc.issue_date = _iso(_text(_child(meta, "pub-date")))
    doc.ics = "; ".join(_text(i) for i in _children(meta, "ics") if _text(i))
    for xref in _children(meta, "std-xref"):
        if xref.get("type") in ("replaces", "supersedes", "revises"):
            ref = _child(xref, "std-ref")
            if _text(ref):
                doc.replaces.append(_text(ref))
    for group in _children(meta, "custom-meta-group"):
        for cm in _children(group, "custom-meta"):
            name, value = _text(_child(cm, "meta-name")), _text(_child(cm, "meta-value"))
            if name == "ccs":
                doc.ccs = value
            elif name == "issuer":
                doc.issuer = value
            elif name == "effective-date":
                doc.effective_date = _iso(value)
            elif name == "stage":
                doc.stage = value


class _BodyReader:
    def __init__(self, doc: StandardDoc):
        self.doc = doc

    def walk(self, parent, chapter: str = "") -> None:
        for el in parent:
            name = _local(el)
            if name == "sec":
                self._sec(el, chapter)
            elif name == "term-sec":
                self._term_sec(el)
            elif name == "ref-list":
                self._refs(el)
            elif name in ("app-group",):
                self.walk(el, chapter)
            elif name == "app":
                self._app(el)

    def walk_back(self, back) -> None:
        for el in back:
            name = _local(el)
            if name == "ref-list" and el.get("content-type") == "bibl":
                lines = [_text(r) for r in _children(el, "ref")]
                title = _text(_child(el, "title")) or "参考文献"
                self.doc.clauses.append(ClauseDoc("", title, "\n".join(lines), "informative"))
            elif name == "ref-list":
                self._refs(el)
            else:
                self.walk([el] if name != "app-group" else el)

    def _kind(self, el, number: str, title: str, text: str, chapter: str) -> str:
        given = el.get("specific-use") or ""
        if given in KINDS:
            return given
        sec_type = el.get("sec-type") or ""
        if sec_type == "scope" or chapter == "scope":
            return "scope"
        if sec_type == "norm-refs" or chapter == "references":
            return "references"
        if sec_type == "terms" or chapter == "terms":
            return "term"
        if not text:
            return "heading" if title else "informative"
        return kind_of(text)

    def _sec(self, el, chapter: str) -> None:
        number = _text(_child(el, "label"))
        title = _text(_child(el, "title"))
        text = "\n".join(_text(p) for p in _children(el, "p"))
        sec_type = el.get("sec-type") or ""
        here = {"scope": "scope", "norm-refs": "references", "terms": "terms"}.get(
            sec_type, chapter
        )
        kind = self._kind(el, number, title, text, chapter)
        self.doc.clauses.append(ClauseDoc(number, title, text, kind))
        self.walk(el, here)

    def _term_sec(self, el) -> None:
        number = _text(_child(el, "label"))
        term = english = definition = ""
        entry = next((e for e in el if _local(e) == "termEntry"), None)
        display = _child(el, "term-display")
        if entry is not None:
            english_parts: list[str] = []
            for lang_set in (e for e in entry if _local(e) == "langSet"):
                words = [
                    _text(t)
                    for tig in lang_set
                    if _local(tig) in ("tig", "ntig")
                    for t in tig.iter()
                    if _local(t) == "term"
                ]
                parts = [
                    _text(d) for d in lang_set if _local(d) in ("definition", "note") and _text(d)
                ]
                if _lang(lang_set).startswith("en"):
                    english = english or (words[0] if words else "")
                    english_parts = english_parts or parts
                else:
                    term = term or (words[0] if words else "")
                    definition = definition or "\n".join(parts)
            if not term:  # an English-only entry (ISO)
                term, english = english, ""
            definition = definition or "\n".join(english_parts)
        elif display is not None:
            term_el, def_el = _child(display, "term"), _child(display, "def")
            term, english = split_term(_text(term_el))
            paras = _children(def_el, "p") if def_el is not None else []
            definition = "\n".join(_text(p) for p in paras) if paras else _text(def_el)
        if term and definition:
            self.doc.terms.append(TermDoc(number, term, english, definition))
            self.doc.clauses.append(ClauseDoc(number, term, definition, "term"))
        else:
            title = _text(_child(el, "title")) or term
            self.doc.clauses.append(ClauseDoc(number, title, definition, "heading"))
        for child in el:
            if _local(child) in ("term-sec", "sec"):
                self.walk([child], "terms")

    def _refs(self, el) -> None:
        for ref in _children(el, "ref"):
            std = next((e for e in ref.iter() if _local(e) == "std"), None)
            std_ref = next((e for e in ref.iter() if _local(e) == "std-ref"), None)
            cited = _child(ref, "mixed-citation")
            code = _text(std_ref)
            title = _text(_child(std, "title")) if std is not None else ""
            if not code:
                if cited is None:
                    continue
                code, title = _split_citation(_text(cited))
                if not code:
                    continue
            raw = _text(cited) if cited is not None else _default_raw(code, title)
            written_type = std_ref.get("type") if std_ref is not None else None
            if written_type in ("dated", "undated"):
                dated = written_type == "dated"
            else:
                try:
                    dated = parse_code(re.sub(r":\s*(\d{4})$", r"-\1", code)).year is not None
                except ValueError:
                    dated = False
            self.doc.references.append(ReferenceDoc(raw, code, bool(dated), title))

    def _app(self, el) -> None:
        label = _text(_child(el, "label"))
        m = re.search(r"([A-Z])\s*$", label)
        number = m.group(1) if m else label
        content = (el.get("content-type") or "") + _text(_child(el, "annex-type"))
        annex = (
            "normative"
            if ("norm" in content or "规范性" in content or "normative" in content.lower())
            and "inform" not in content
            else "informative"
            if ("inform" in content or "资料性" in content)
            else ""
        )
        title = _text(_child(el, "title"))
        text = "\n".join(_text(p) for p in _children(el, "p"))
        kind = el.get("specific-use") if el.get("specific-use") in KINDS else "heading"
        self.doc.clauses.append(ClauseDoc(number, title, text, kind, annex))
        self.walk(el, "annex")


def _split_citation(text: str) -> tuple[str, str]:
    from .parsing import _code_at_start

    found = _code_at_start(text)
    if found is None:
        return "", ""
    written, _code, rest = found
    return written, rest
