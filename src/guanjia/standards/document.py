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
    annex: str = ""  # on an annex heading ("附录A"): "normative" or "informative"

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
    stage: str = ""  # "" = published; drafting / soliciting / under_review / approved


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
        replaces=_replaced_codes(standard),
        foreword=standard.foreword,
        clauses=[
            ClauseDoc(c.number, c.title, c.text, c.kind, c.annex)
            for c in standard.clauses.order_by("position")
        ],
        terms=[TermDoc(t.number, t.term, t.english, t.definition) for t in standard.terms.all()],
        references=[
            ReferenceDoc(r.raw, r.code, r.dated, r.title) for r in standard.references.all()
        ],
        source_format=standard.source_format,
        stage="" if standard.stage == "published" else standard.stage,
    )


def _replaced_codes(standard) -> list[str]:
    """The codes named in "代替…", whether or not those editions are in the library."""
    from .codes import parse_code

    keys = standard.replaces_keys.split()
    codes = [parse_code(k).display for k in keys]
    codes += [s.code for s in standard.replaces.all() if s.code_key not in keys]
    return codes
