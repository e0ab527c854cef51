"""The project's URLs with the standards pages mounted as guanjia/urls.py will mount them
(`path("standards/", include("guanjia.standards.urls"))`), for the page tests."""

from django.urls import include, path

from guanjia.urls import urlpatterns as project

urlpatterns = [path("standards/", include("guanjia.standards.urls")), *project]
