"""Pages of the evaluation, mounted by guanjia/urls.py at /evaluation/."""

from .views import urlpatterns  # noqa: F401
