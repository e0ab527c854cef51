"""Request id, audit context and the operation log (操作日志) for every request."""

import time
import uuid

from django.urls import Resolver404, resolve

from .context import acting_as
from .models import OperationLog

SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


def _view_name(request) -> str:
    """The name of the view that served the request. django-ninja routes every method of a
    path through one view and Django resolves it to the name of the first operation
    ("get_agency" for a PATCH too), so for the API the operation is looked up by method."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return ""
    for cell in getattr(match.func, "__closure__", None) or ():
        try:
            find = getattr(cell.cell_contents, "_find_operation", None)
        except ValueError:  # an empty cell
            continue
        operation = find(request) if find else None
        if operation is not None:
            namespace = f"{match.namespace}:" if match.namespace else ""
            return namespace + operation.view_func.__name__
    return match.view_name or ""


class RequestContextMiddleware:
    """Sits after authentication. Gives the request an id (echoed as X-Request-ID), makes it
    the audit actor for everything the request writes, and logs state-changing requests."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.id = str(uuid.uuid4())
        source = "api" if request.path.startswith("/api/") else "ui"
        started = time.monotonic()
        with acting_as(source=source, request=request, request_id=request.id):
            response = self.get_response(request)
        response["X-Request-ID"] = request.id
        if request.method not in SAFE_METHODS:
            self._log(request, response, started)
        return response

    @staticmethod
    def _log(request, response, started):
        user = getattr(request, "user", None)
        user = user if user is not None and user.is_authenticated else None
        view_name = _view_name(request)
        OperationLog.objects.create(
            user=user,
            user_name=user.get_username() if user else "",
            agency_id=user.agency_id if user else None,
            request_id=request.id,
            method=request.method,
            path=request.path[:255],
            view_name=view_name[:128],
            status_code=response.status_code,
            duration_ms=int((time.monotonic() - started) * 1000),
            ip=request.META.get("REMOTE_ADDR") or None,
        )
