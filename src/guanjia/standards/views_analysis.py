"""Pages of the analyses: two standards side by side (比对) with the changed characters and
numbers highlighted, and a standard's quality check (质量把控). The same functions as the
API and CLI (compare.compare, quality.check), on standards from `restrict(request.user)`."""

from django.shortcuts import get_object_or_404, render

from guanjia.web.helpers import requires

from .analysis import find_standard, library_lookup
from .compare import compare
from .document import document_from_standard
from .models import Standard
from .quality import check


def _visible(request):
    return Standard.objects.restrict(request.user)


@requires("standards.view")
def standard_compare(request):
    """`?a=CODE&b=CODE` (any written form); the form stays on the page for the next pair."""
    a_code, b_code = request.GET.get("a", "").strip(), request.GET.get("b", "").strip()
    context = {"a": a_code, "b": b_code}
    if a_code and b_code:
        try:
            std_a = find_standard(a_code, _visible(request))
            std_b = find_standard(b_code, _visible(request))
        except LookupError as e:
            context["error"] = str(e)
        else:
            context["result"] = compare(
                document_from_standard(std_a), document_from_standard(std_b)
            )
            context["std_a"], context["std_b"] = std_a, std_b
    return render(request, "standards/compare.html", context)


@requires("standards.view")
def standard_check(request, pk):
    standard = get_object_or_404(_visible(request), pk=pk)
    findings = check(document_from_standard(standard), library=library_lookup(_visible(request)))
    return render(request, "standards/check.html", {"standard": standard, "findings": findings})
