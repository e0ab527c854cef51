"""Pages of the standards library: the list with filters, a standard's page (cover data,
status, clause tree, terms, references linked to the library), the upload form. Every
query starts from `Standard.objects.restrict(request.user)`; the upload goes through
`services`, which audits and re-checks the data scope."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from guanjia.core.models import Agency
from guanjia.core.scope import scope_q
from guanjia.web.helpers import requires

from . import services
from .document import document_from_standard
from .forms import StandardFilterForm, UploadForm
from .models import Standard
from .queries import matching, replaced_codes, standard_by_code
from .sts import export_sts

PAGE_SIZE = 30
KIND_CLASS = {
    "requirement": "k-req",
    "recommendation": "k-rec",
    "permission": "k-perm",
    "possibility": "k-pos",
    "scope": "k-info",
    "references": "k-info",
    "term": "k-term",
    "informative": "k-info",
    "heading": "k-head",
}


def visible_standards(user):
    return Standard.objects.restrict(user, "view").with_status().select_related("agency", "region")


def _agencies_for(user, permission: str):
    """Agencies within the user's scope for `permission` (e.g. standards.add)."""
    q = scope_q(Agency, user, "view", wanted=permission)
    qs = Agency.objects.all()
    return qs if q is None else qs.filter(q)


@requires("standards.view")
def standard_list(request):
    standards = visible_standards(request.user)
    owners = Agency.objects.filter(pk__in=standards.order_by().values("agency_id"))
    form = StandardFilterForm(request.GET or None, agencies=owners)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        standards = matching(standards, data["q"])
        if data["level"]:
            standards = standards.filter(level=data["level"])
        if data["status"]:
            standards = standards.filter(status=data["status"])
        if data["region"]:
            standards = standards.filter(region__path__startswith=data["region"].path)
        if data["agency"]:
            standards = standards.filter(agency=data["agency"])
    elif form.is_bound:
        standards = standards.none()
    standards = standards.order_by("status_rank", "code_prefix", "code_number", "-year")
    page = Paginator(standards, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "standards/standard_list.html",
        {"form": form, "page": page, "can_add": request.user.can("standards.add")},
    )


def _clause_rows(standard):
    rows = []
    for c in standard.clauses.order_by("position"):
        rows.append(
            {
                "clause": c,
                "depth": min(c.depth, 5),
                "chapter": c.depth <= 1,
                "kind_class": KIND_CLASS.get(c.kind, "k-info"),
                "paragraphs": [p for p in c.text.split("\n") if p],
            }
        )
    return rows


@requires("standards.view")
def standard_detail(request, pk: int):
    visible = visible_standards(request.user)
    standard = get_object_or_404(visible, pk=pk)
    refs = list(standard.references.select_related("target"))
    seen = set(
        visible.filter(pk__in={r.target_id for r in refs if r.target_id}).values_list(
            "pk", flat=True
        )
    )
    references = [{"ref": r, "target": r.target if r.target_id in seen else None} for r in refs]
    return render(
        request,
        "standards/standard_detail.html",
        {
            "standard": standard,
            "clauses": _clause_rows(standard),
            "terms": list(standard.terms.all()),
            "references": references,
            "replaces_codes": replaced_codes(standard),
            "replaces": list(visible.filter(replaced_by=standard).order_by("-year")),
            "replaced_by": list(visible.filter(replaces=standard).order_by("-year")),
            "cited_by": list(visible.filter(references__target=standard).distinct()[:50]),
            "can_upload": request.user.can("standards.add"),
        },
    )


@requires("standards.view")
def standard_by_code_view(request, code: str):
    try:
        standard = standard_by_code(code, visible_standards(request.user))
    except LookupError as exc:
        raise Http404(str(exc)) from None
    return redirect("standard_detail", pk=standard.pk)


@requires("standards.view")
def standard_source(request, pk: int):
    standard = get_object_or_404(visible_standards(request.user), pk=pk)
    if not standard.source_file:
        raise Http404(_("该标准没有保存原始文件"))
    try:
        handle = standard.source_file.open("rb")
    except FileNotFoundError:
        raise Http404(_("原始文件已不存在")) from None
    suffix = standard.source_file.name.rsplit(".", 1)[-1]
    filename = f"{standard.code_key.replace('/', '-')}.{suffix}"
    return FileResponse(handle, as_attachment=True, filename=filename)


@requires("standards.view")
def standard_sts(request, pk: int):
    standard = get_object_or_404(visible_standards(request.user), pk=pk)
    xml = export_sts(document_from_standard(standard))
    response = HttpResponse(xml, content_type="application/xml; charset=utf-8")
    name = standard.code_key.replace("/", "-")
    response["Content-Disposition"] = f'attachment; filename="{name}.xml"'
    return response


@requires("standards.add")
def standard_upload(request):
    agencies = _agencies_for(request.user, "standards.add")
    initial = {"agency": request.user.agency} if request.user.agency_id else {}
    form = UploadForm(
        request.POST or None, request.FILES or None, agencies=agencies, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        entry, standard = services.import_bytes(
            request.user,
            upload.name,
            upload.read(),
            form.cleaned_data["agency"],
            is_public=form.cleaned_data["is_public"],
        )
        if standard is not None:
            verb = _("已导入") if entry["created"] else _("已更新")
            messages.success(
                request,
                _(
                    "%(verb)s %(code)s %(title)s：条款 %(clauses)d 条，术语 %(terms)d 条，"
                    "规范性引用 %(refs)d 项（库内 %(linked)d 项）"
                )
                % {
                    "verb": verb,
                    "code": standard.code,
                    "title": standard.title,
                    "clauses": entry["clauses"],
                    "terms": entry["terms"],
                    "refs": entry["references"],
                    "linked": entry["linked"],
                },
            )
            return redirect("standard_detail", pk=standard.pk)
        form.add_error("file", entry["error"])
    return render(request, "standards/standard_upload.html", {"form": form})
