"""Pages of frameworks and coverage: the framework list, a framework's tree with the
standards of each node and the 标准明细表 download, the coverage matrix of an agency with
its gaps. Every query starts from `restrict(request.user)`."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from guanjia.core.models import Agency
from guanjia.web.helpers import requires

from . import frameworks as svc
from .models import AgencyFunction, FrameworkNode, Standard


def _frameworks(user):
    return FrameworkNode.objects.restrict(user).select_related("agency")


@requires("standards.view")
def framework_list(request):
    roots = list(_frameworks(request.user).filter(depth=1))
    for root in roots:
        below = FrameworkNode.objects.filter(path__startswith=root.path)
        root.node_count = below.count() - 1
        root.standard_count = (
            Standard.objects.restrict(request.user)
            .filter(framework_nodes__in=below)
            .distinct()
            .count()
        )
    return render(request, "standards/framework_list.html", {"frameworks": roots})


@requires("standards.view")
def framework_detail(request, pk: int):
    from .api_frameworks import framework_tree

    root = get_object_or_404(_frameworks(request.user), pk=pk, depth=1)
    tree = framework_tree(request, root)
    rows = []

    def walk(nodes):
        for n in nodes:
            rows.append(n)
            walk(n["children"])

    walk(tree["nodes"])
    return render(
        request,
        "standards/framework_detail.html",
        {"framework": root, "tree": tree, "rows": rows},
    )


@requires("standards.view")
def framework_export(request, pk: int):
    node = get_object_or_404(_frameworks(request.user), pk=pk)
    content = svc.export_standard_list(node, Standard.objects.restrict(request.user))
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="framework-{node.pk}.xlsx"'
    return response


@requires("standards.view")
def coverage_matrix(request):
    user = request.user
    functions = AgencyFunction.objects.restrict(user)
    # Agencies the user sees that have functions (and their ancestors' trees are not needed).
    agencies = list(
        Agency.objects.restrict(user).filter(pk__in=functions.values("agency_id")).order_by("path")
    )
    agency = None
    if request.GET.get("agency"):
        agency = get_object_or_404(Agency.objects.restrict(user), pk=request.GET["agency"])
    elif user.agency_id and functions.filter(agency__path__startswith=user.agency.path).exists():
        agency = user.agency
    elif agencies:
        agency = agencies[0]
    result = svc.agency_coverage(user, agency) if agency is not None else None
    matrix = []
    if result is not None:
        columns = result.standards
        for row in result.rows:
            linked = {s.pk for s in row.standards}
            matrix.append(
                {
                    "row": row,
                    "cells": [
                        (s.status, s.get_status_display()) if s.pk in linked else None
                        for s in columns
                    ],
                }
            )
    return render(
        request,
        "standards/coverage.html",
        {"agencies": agencies, "agency": agency, "result": result, "matrix": matrix},
    )
