"""A standard as a Word document (.docx), laid out after GB/T 1.1: the cover data (ICS/CCS,
code, title, English title, dates, issuer), the foreword, then the clauses with their
numbers, the normative references listed under their chapter and each term with its English
equivalent and definition. Built from a `StandardDoc`, so a draft read from a file exports
the same way as a standard in the library.
"""

from __future__ import annotations

from io import BytesIO

from django.utils.translation import gettext as _

from .document import ClauseDoc, StandardDoc


def export_docx(doc: StandardDoc) -> bytes:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    out = Document()
    centre = WD_ALIGN_PARAGRAPH.CENTER
    classification = "  ".join(
        part for part in (doc.ics and f"ICS {doc.ics}", doc.ccs and f"CCS {doc.ccs}") if part
    )
    if classification:
        out.add_paragraph(classification)
    out.add_paragraph(doc.code).alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if doc.replaces:
        replaces = _("代替 %s") % "、".join(doc.replaces)
        out.add_paragraph(replaces).alignment = WD_ALIGN_PARAGRAPH.RIGHT
    out.add_heading(doc.title, level=0).alignment = centre
    if doc.english_title:
        out.add_paragraph(doc.english_title).alignment = centre
    dates = "    ".join(
        part
        for part in (
            doc.issue_date and _("%s发布") % doc.issue_date.isoformat(),
            doc.effective_date and _("%s实施") % doc.effective_date.isoformat(),
        )
        if part
    )
    if dates:
        out.add_paragraph(dates).alignment = centre
    if doc.issuer:
        out.add_paragraph(_("%s 发布") % doc.issuer).alignment = centre
    if doc.foreword:
        out.add_page_break()
        out.add_heading(_("前言"), level=1)
        for line in doc.foreword.splitlines():
            if line.strip():
                out.add_paragraph(line.strip())
    out.add_page_break()
    out.add_heading(doc.title, level=1)
    terms = {t.number: t for t in doc.terms}
    for clause in doc.clauses:
        _clause(out, doc, clause, terms)
    buffer = BytesIO()
    out.save(buffer)
    return buffer.getvalue()


def _clause(out, doc: StandardDoc, clause: ClauseDoc, terms: dict) -> None:
    number = clause.number
    term = terms.get(number) if clause.kind == "term" else None
    if term is not None:
        out.add_paragraph().add_run(number).bold = True
        heading = out.add_paragraph()
        heading.add_run(term.term).bold = True
        if term.english:
            heading.add_run(f"  {term.english}")
        if term.definition:
            out.add_paragraph(term.definition)
        return
    if clause.title or clause.depth == 1:
        title = " ".join(part for part in (number, clause.title) if part)
        out.add_heading(title, level=min(max(clause.depth, 1) + 1, 9))
        lines = clause.text.splitlines()
    else:
        lines = clause.text.splitlines() or [""]
        lines[0] = " ".join(part for part in (number, lines[0]) if part)
    for line in lines:
        if line.strip():
            out.add_paragraph(line.strip())
    if clause.kind == "references" and clause.depth == 1:
        for reference in doc.references:
            out.add_paragraph(reference.raw)
