"""A standard exported as a Word document, under /api/v1/standards/ (read through
`restrict(request.user)`: outside the caller's scope, 404)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Router

from guanjia.core.schemas import Error

from .document import document_from_standard
from .models import Standard
from .word import export_docx

router = Router(tags=["标准库"])
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@router.get(
    "/{int:standard_id}/export.docx", summary="导出 Word 文档", response={200: None, 404: Error}
)
def export_standard_docx(request, standard_id: int):
    standard = get_object_or_404(Standard.objects.restrict(request.user), pk=standard_id)
    response = HttpResponse(export_docx(document_from_standard(standard)), content_type=DOCX)
    name = standard.code_key.replace("/", "-")
    response["Content-Disposition"] = f'attachment; filename="{name}.docx"'
    return response
