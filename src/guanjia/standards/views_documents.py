"""Pages of the document library (资料库): the list with full-text search over the extracted
text (the standards library's segmentation and index, `search.search_documents`) and a
snippet of each match, the tag filter, upload, download. Every query starts from
`Document.objects.restrict(request.user)`; the upload goes through `documents`, which
extracts the text, audits and re-checks the data scope."""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from guanjia.core.models import Agency
from guanjia.core.scope import scope_q
from guanjia.web.forms import AgencyChoiceField
from guanjia.web.helpers import call_service, paginate, requires

from . import documents as svc
from .models import Document


def _documents(user):
    return Document.objects.restrict(user).select_related("agency", "uploaded_by")


class DocumentFilterForm(forms.Form):
    q = forms.CharField(label=_l("全文检索"), required=False)
    tag = forms.CharField(label=_l("标签"), required=False)


class DocumentUploadForm(forms.Form):
    file = forms.FileField(
        label=_l("文件"),
        help_text=_l(
            ".txt、.md、.docx 的正文会被提取并可全文检索；其他文件（如 .pdf、图片）只保存，"
            "按标题和标签查找。单个文件不超过 20 MB。"
        ),
    )
    title = forms.CharField(
        label=_l("标题"), max_length=255, required=False, help_text=_l("留空则用文件名")
    )
    tags = forms.CharField(
        label=_l("标签"), max_length=255, required=False, help_text=_l("以空格分隔")
    )
    agency = AgencyChoiceField(label=_l("所属单位"), queryset=Agency.objects.none())

    def __init__(self, *args, agencies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies


def _parts(snippet) -> list[tuple[str, bool]]:
    """A snippet cut into (text, is a match) pieces, for <mark> in the template."""
    out, at = [], 0
    for start, end in snippet.highlights:
        if start > at:
            out.append((snippet.text[at:start], False))
        out.append((snippet.text[start:end], True))
        at = end
    if at < len(snippet.text):
        out.append((snippet.text[at:], False))
    return out


@requires("standards.view")
def document_list(request):
    user = request.user
    visible = _documents(user)
    form = DocumentFilterForm(request.GET or None)
    q = tag = ""
    if form.is_bound and form.is_valid():
        q, tag = form.cleaned_data["q"].strip(), form.cleaned_data["tag"].strip()
    found = svc.full_text(visible, q, tag)
    documents = svc.tagged(visible, tag) if found is None else found.documents
    page = paginate(request, documents, 30)
    for d in page:
        d.tag_list = d.tags.split()
        d.file_name = Path(d.file.name).name if d.file else ""
        d.snippet = _parts(found.snippet(d.text)) if found is not None and d.text else None
    return render(
        request,
        "standards/document_list.html",
        {
            "form": form,
            "page": page,
            "q": q,
            "tag": tag,
            "found": found,
            "can_add": user.can("standards.add"),
        },
    )


@requires("standards.add")
def document_upload(request):
    user = request.user
    q = scope_q(Agency, user, "view", wanted="standards.add")
    agencies = Agency.objects.all() if q is None else Agency.objects.filter(q)
    initial = {"agency": user.agency} if user.agency_id else {}
    form = DocumentUploadForm(
        request.POST or None, request.FILES or None, agencies=agencies, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size and upload.size > svc.MAX_BYTES:
            form.add_error("file", _("文件超过 20 MB"))
        else:
            document = call_service(
                form,
                svc.upload_document,
                user,
                agency=form.cleaned_data["agency"],
                title=form.cleaned_data["title"],
                name=upload.name,
                content=upload.read(),
                tags=form.cleaned_data["tags"],
            )
            if document is not None:
                if document.text:
                    note = _("已上传《%(title)s》，提取正文 %(n)d 字，可全文检索") % {
                        "title": document.title,
                        "n": len(document.text),
                    }
                else:
                    note = _("已上传《%(title)s》；该类文件不提取正文，可按标题和标签查找") % {
                        "title": document.title
                    }
                messages.success(request, note)
                return redirect("document_list")
    return render(request, "standards/document_upload.html", {"form": form})


@requires("standards.view")
def document_download(request, pk: int):
    document = get_object_or_404(_documents(request.user), pk=pk)
    if not document.file:
        raise Http404(_("该文档没有文件"))
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        raise Http404(_("文件已不存在")) from None
    return FileResponse(handle, as_attachment=True, filename=Path(document.file.name).name)


urlpatterns = [
    path("documents/", document_list, name="document_list"),
    path("documents/upload/", document_upload, name="document_upload"),
    path("documents/<int:pk>/download/", document_download, name="document_download"),
]
