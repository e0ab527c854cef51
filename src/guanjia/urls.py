from django.conf import settings
from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.cache import never_cache

from guanjia.api import api
from guanjia.core.health import report


@never_cache
def healthz(request):
    body = report()
    return JsonResponse(
        body,
        status=200 if body["status"] == "ok" else 503,
        json_dumps_params={"ensure_ascii": False},
    )


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("standards/", include("guanjia.standards.urls")),
    path("vehicles/", include("guanjia.vehicles.urls")),
    path("canteens/", include("guanjia.canteens.urls")),
    path("evaluation/", include("guanjia.evaluation.urls")),
    path("telemetry/", include("guanjia.telemetry.urls")),
    path("", include("guanjia.web.urls")),
]

if settings.DEBUG:  # pragma: no cover
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
