"""Request id, audit context and the operation log (操作日志) for every request."""

import time
import uuid

from .context import acting_as
from .models import OperationLog

SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


def _view_name(request) -> str:
    """What the operation log calls the function served: the method and the URL pattern
    ("PATCH api/v1/agencies/<agency_id>"), plus the URL's name outside the API.
    (django-ninja serves every method of a path through one view, named after the path's
    first operation, so the API's URL names would mislead.)"""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return ""
    name = f"{request.method} {match.route}"
    if match.url_name and not request.path.startswith("/api/"):
        name += f" ({match.view_name})"
    return name


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
