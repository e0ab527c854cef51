"""Pages of the standards library, mounted by guanjia/urls.py at /standards/."""

from django.urls import path

from . import (
    views,
    views_analysis,
    views_documents,
    views_drafting,
    views_experts,
    views_frameworks,
    views_requirements,
)

urlpatterns = [
    path("", views.standard_list, name="standard_list"),
    path("upload/", views.standard_upload, name="standard_upload"),
    path("compare/", views_analysis.standard_compare, name="analysis_compare"),
    path("frameworks/", views_frameworks.framework_list, name="framework_list"),
    path("frameworks/<int:pk>/", views_frameworks.framework_detail, name="framework_detail"),
    path(
        "frameworks/<int:pk>/export.xlsx",
        views_frameworks.framework_export,
        name="framework_export",
    ),
    path("coverage/", views_frameworks.coverage_matrix, name="coverage_matrix"),
    path("drafts/", views_drafting.draft_list, name="draft_list"),
    path("drafts/<int:pk>/", views_drafting.draft_detail, name="draft_detail"),
    path(
        "drafts/periods/<int:period_id>/comments/",
        views_drafting.draft_comment,
        name="draft_comment",
    ),
    path(
        "drafts/comments/<int:comment_id>/dispose/",
        views_drafting.draft_dispose,
        name="draft_dispose",
    ),
    path(
        "drafts/periods/<int:period_id>/export.<str:fmt>",
        views_drafting.draft_export,
        name="draft_export",
    ),
    *views_experts.urlpatterns,
    *views_documents.urlpatterns,
    *views_requirements.urlpatterns,
    path("code/<path:code>", views.standard_by_code_view, name="standard_by_code"),
    path("<int:pk>/", views.standard_detail, name="standard_detail"),
    path("<int:pk>/check/", views_analysis.standard_check, name="analysis_check"),
    path("<int:pk>/source/", views.standard_source, name="standard_source"),
    path("<int:pk>/sts.xml", views.standard_sts, name="standard_sts"),
]
