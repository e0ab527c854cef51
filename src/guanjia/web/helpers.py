"""What every page of the web UI shares: the login-and-permission gate, pagination, htmx
detection, and turning a service's refusal into errors on a form."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.utils.translation import gettext as _

PAGE_SIZE = 50


def requires(perm: str | None = None):
    """Login for every page; with `perm` ("org.view", "system.change" …) also the
    permission, else 403 with a Chinese message (templates/403.html)."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if perm and not request.user.can(perm):
                raise PermissionDenied(
                    _("没有权限访问此页面（需要 %(perm)s 权限）") % {"perm": perm}
                )
            return view(request, *args, **kwargs)

        return login_required(wrapper)

    return decorate


def paginate(request, queryset, per_page: int = PAGE_SIZE):
    """One page of `queryset` from ?page=; out-of-range pages give the last page."""
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def is_htmx(request) -> bool:
    """An htmx request that wants a fragment (a history restore wants the whole page)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def add_service_error(form, exc: ValidationError | PermissionDenied) -> None:
    """Show a service's ValidationError or PermissionDenied on the form it came from."""
    if isinstance(exc, PermissionDenied):
        form.add_error(None, str(exc) or _("没有权限"))
        return
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def call_service(form, fn, *args, **kwargs):
    """Run a service write; on refusal put the reason on `form` and return None."""
    try:
        return fn(*args, **kwargs)
    except (ValidationError, PermissionDenied) as exc:
        add_service_error(form, exc)
        return None
