"""The one API object: /api/v1/. Each domain app contributes its router here."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from ninja import NinjaAPI
from ninja.security import HttpBearer, django_auth

from guanjia.canteens.api import router as canteens_router
from guanjia.core.api import router as core_router
from guanjia.core.services import user_for_token
from guanjia.evaluation.api import router as evaluation_router
from guanjia.standards.api import router as standards_router
from guanjia.telemetry.api import router as telemetry_router
from guanjia.vehicles.api import router as vehicles_router


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>` for programs."""

    def authenticate(self, request, token):
        user = user_for_token(token)
        if user is not None:
            request.user = user  # the audit trail and restrict() read request.user
        return user


api = NinjaAPI(
    title="管家 Guanjia API",
    version="1",
    description="机关事务管理平台开放接口。浏览器使用会话登录，程序使用 Bearer 令牌"
    "（`guanjia token create USERNAME`）。所有数据按调用者的数据范围过滤。",
    auth=[BearerToken(), django_auth],
    urls_namespace="api-v1",
)
api.add_router("/", core_router)
api.add_router("/standards", standards_router)
api.add_router("/vehicles", vehicles_router)
api.add_router("/canteens", canteens_router)
api.add_router("/evaluation", evaluation_router)
api.add_router("/scorecards", "guanjia.evaluation.api_scorecards.router")
api.add_router("/telemetry", telemetry_router)


def _messages(exc: ValidationError):
    return exc.message_dict if hasattr(exc, "error_dict") else exc.messages


@api.exception_handler(ValidationError)
def on_validation_error(request, exc):
    return api.create_response(request, {"detail": _messages(exc)}, status=422)


@api.exception_handler(PermissionDenied)
def on_permission_denied(request, exc):
    return api.create_response(request, {"detail": str(exc) or "没有权限"}, status=403)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return api.create_response(request, {"detail": str(exc) or "未找到"}, status=404)


@api.exception_handler(ProtectedError)
@api.exception_handler(RestrictedError)
def on_still_referenced(request, exc):
    """Deleting something other data still points at (an agency with users): 409, not 500."""
    kinds = sorted({str(o._meta.verbose_name) for o in exc.args[1]})
    detail = "仍有数据引用此对象，不能删除：" + "、".join(kinds)
    return api.create_response(request, {"detail": detail}, status=409)
