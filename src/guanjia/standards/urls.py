"""Pages of the standards library, mounted by guanjia/urls.py at /standards/."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.standard_list, name="standard_list"),
    path("upload/", views.standard_upload, name="standard_upload"),
    path("code/<path:code>", views.standard_by_code_view, name="standard_by_code"),
    path("<int:pk>/", views.standard_detail, name="standard_detail"),
    path("<int:pk>/source/", views.standard_source, name="standard_source"),
    path("<int:pk>/sts.xml", views.standard_sts, name="standard_sts"),
]
