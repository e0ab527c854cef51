"""Pages of the standards library, mounted by guanjia/urls.py at /standards/."""

from django.urls import path

from . import views, views_frameworks

urlpatterns = [
    path("", views.standard_list, name="standard_list"),
    path("upload/", views.standard_upload, name="standard_upload"),
    path("frameworks/", views_frameworks.framework_list, name="framework_list"),
    path("frameworks/<int:pk>/", views_frameworks.framework_detail, name="framework_detail"),
    path(
        "frameworks/<int:pk>/export.xlsx",
        views_frameworks.framework_export,
        name="framework_export",
    ),
    path("coverage/", views_frameworks.coverage_matrix, name="coverage_matrix"),
    path("code/<path:code>", views.standard_by_code_view, name="standard_by_code"),
    path("<int:pk>/", views.standard_detail, name="standard_detail"),
    path("<int:pk>/source/", views.standard_source, name="standard_source"),
    path("<int:pk>/sts.xml", views.standard_sts, name="standard_sts"),
]
