"""Analysis endpoints of the standards library (mounted under /api/v1/standards/): compare
two standards, their quantitative requirements, the GB/T 1.1 quality check of a standard or
of an uploaded draft. Every standard is looked up through `restrict(request.user)`: one
outside the caller's scope is a 404, and the library the check consults is the caller's."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile

from .analysis import library_lookup
from .compare import compare
from .document import document_from_standard
from .models import Standard
from .quality import check
from .requirements import extract, suggest_indicator

router = Router(tags=["标准库"])

MAX_DRAFT_BYTES = 20 * 1024 * 1024


class NumberChangeOut(Schema):
    a: float | None
    b: float | None
    unit: str


class DiffOp(Schema):
    op: str  # equal, insert, delete, replace
    a: str
    b: str


class PairOut(Schema):
    status: str  # same, changed, moved, added, removed
    a_number: str | None
    b_number: str | None
    a_text: str | None
    b_text: str | None
    similarity: float | None
    numbers: list[NumberChangeOut]
    diff: list[DiffOp]


class CompareOut(Schema):
    a: str
    b: str
    a_id: int
    b_id: int
    a_title: str
    b_title: str
    counts: dict[str, int]
    pairs: list[PairOut]


class ConditionOut(Schema):
    subject: str
    op: str
    value: float
    unit: str


class SuggestionOut(Schema):
    key: str
    score: float


class RequirementOut(Schema):
    clause: str
    subject: str
    op: str
    value: float
    unit: str
    strength: str
    conditions: list[ConditionOut]
    text: str
    indicator_suggestions: list[SuggestionOut]


class RequirementsOut(Schema):
    id: int
    code: str
    requirements: list[RequirementOut]


class FindingOut(Schema):
    kind: str
    clause: str
    message: str


class CheckOut(Schema):
    id: int | None = None
    code: str
    title: str
    findings: list[FindingOut]


class ErrorOut(Schema):
    detail: str


def _standard(request, pk: int) -> Standard:
    return get_object_or_404(Standard.objects.restrict(request.user), pk=pk)


def _library(request):
    return library_lookup(Standard.objects.restrict(request.user))


@router.get("/compare", response=CompareOut, summary="逐条比对两项标准")
def compare_standards(request, a: int, b: int):
    std_a, std_b = _standard(request, a), _standard(request, b)
    result = compare(document_from_standard(std_a), document_from_standard(std_b)).to_dict()
    return result | {"a_id": std_a.pk, "b_id": std_b.pk}


@router.get("/{int:standard_id}/requirements", response=RequirementsOut, summary="标准中的量化要求")
def standard_requirements(request, standard_id: int):
    standard = _standard(request, standard_id)
    rows = []
    for requirement in extract(document_from_standard(standard)):
        row = requirement.to_dict()
        row["indicator_suggestions"] = [
            {"key": key, "score": score} for key, score in suggest_indicator(requirement)
        ]
        rows.append(row)
    return {"id": standard.pk, "code": standard.code, "requirements": rows}


@router.get("/{int:standard_id}/check", response=CheckOut, summary="标准文本质量检查")
def check_standard(request, standard_id: int):
    standard = _standard(request, standard_id)
    findings = check(document_from_standard(standard), library=_library(request))
    return {
        "id": standard.pk,
        "code": standard.code,
        "title": standard.title,
        "findings": [f.to_dict() for f in findings],
    }


@router.post(
    "/check",
    response={200: CheckOut, 413: ErrorOut, 422: ErrorOut},
    summary="草案文件质量检查（不入库）",
)
def check_draft(request, file: File[UploadedFile]):
    """A draft (.txt/.md/.docx/NISO STS XML) checked as uploaded; nothing is stored."""
    from .parsing import UnreadableFile, read_bytes

    if file.size and file.size > MAX_DRAFT_BYTES:
        return Status(413, {"detail": "文件过大（上限 20 MB）"})
    try:
        doc = read_bytes(file.read(), file.name or "")
    except UnreadableFile as exc:
        return Status(422, {"detail": str(exc)})
    findings = check(doc, library=_library(request))
    return Status(
        200,
        {
            "code": doc.code,
            "title": doc.title,
            "findings": [f.to_dict() for f in findings],
        },
    )
