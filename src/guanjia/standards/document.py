"""A standard as read from a file, before it is stored: the one shape that importers
produce and that comparison, requirement extraction and quality checks consume, so those
work the same on a file on disk (a draft) and on a standard in the library
(`document_from_standard`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass
class ClauseDoc:
    number: str  # "4.2", "A.1"; "" for unnumbered text
    title: str = ""  # chapter or clause title when the number is followed by one
    text: str = ""  # the clause's own text (not its children's)
    kind: str = "informative"  # see models.Clause.Kind

    @property
    def depth(self) -> int:
        return self.number.count(".") + 1 if self.number else 0


@dataclass
class TermDoc:
    number: str
    term: str
    english: str = ""
    definition: str = ""


@dataclass
class ReferenceDoc:
    raw: str  # the line as written
    code: str  # as written, e.g. "GB/T 2589" or "DB50/T 9003—2023"
    dated: bool
    title: str = ""


@dataclass
class StandardDoc:
    code: str
    title: str
    english_title: str = ""
    ics: str = ""
    ccs: str = ""
    issuer: str = ""
    issue_date: date | None = None
    effective_date: date | None = None
    replaces: list[str] = field(default_factory=list)  # codes named in "代替…"
    foreword: str = ""
    clauses: list[ClauseDoc] = field(default_factory=list)
    terms: list[TermDoc] = field(default_factory=list)
    references: list[ReferenceDoc] = field(default_factory=list)
    source_format: str = ""  # txt, md, docx, sts


def document_from_standard(standard) -> StandardDoc:
    """The stored standard in the shape importers produce."""
    return StandardDoc(
        code=standard.code,
        title=standard.title,
        english_title=standard.english_title,
        ics=standard.ics,
        ccs=standard.ccs,
        issuer=standard.issuer,
        issue_date=standard.issue_date,
        effective_date=standard.effective_date,
        replaces=[s.code for s in standard.replaces.all()],
        clauses=[
            ClauseDoc(c.number, c.title, c.text, c.kind)
            for c in standard.clauses.order_by("position")
        ],
        terms=[TermDoc(t.number, t.term, t.english, t.definition) for t in standard.terms.all()],
        references=[
            ReferenceDoc(r.raw, r.code, r.dated, r.title) for r in standard.references.all()
        ],
        source_format=standard.source_format,
    )
