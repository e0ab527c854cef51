from django.contrib.auth import views as auth_views
from django.urls import path

from . import views, views_calendar

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # organisation
    path("org/agencies/", views.agency_tree, name="agency_tree"),
    path("org/agencies/new/", views.agency_create, name="agency_create"),
    path("org/agencies/<int:pk>/", views.agency_detail, name="agency_detail"),
    path("org/agencies/<int:pk>/children/", views.agency_children, name="agency_children"),
    path("org/agencies/<int:pk>/edit/", views.agency_edit, name="agency_edit"),
    path("org/groups/", views.group_list, name="group_list"),
    path("org/groups/<int:pk>/", views.group_detail, name="group_detail"),
    path("org/regions/", views.region_list, name="region_list"),
    # system
    path("system/users/", views.user_list, name="user_list"),
    path("system/users/new/", views.user_create, name="user_create"),
    path("system/users/<int:pk>/edit/", views.user_edit, name="user_edit"),
    path("system/roles/", views.role_list, name="role_list"),
    path("system/calendar/", views_calendar.calendar_days, name="calendar_days"),
    path(
        "system/calendar/<int:pk>/delete/",
        views_calendar.calendar_day_delete,
        name="calendar_day_delete",
    ),
    path("system/roles/new/", views.role_create, name="role_create"),
    path("system/roles/<int:pk>/edit/", views.role_edit, name="role_edit"),
    # audit
    path("audit/changes/", views.change_list, name="change_list"),
    path("audit/operations/", views.operation_list, name="operation_list"),
    path("audit/logins/", views.login_list, name="login_list"),
    # indicators
    path("indicators/", views.indicator_list, name="indicator_list"),
]
