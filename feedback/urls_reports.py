"""The service desk's statistics and settings pages, under /backoffice/feedback/."""

from django.urls import path

from feedback import views_reports as views

urlpatterns = [
    path("statistics/", views.statistics, {"page": "tickets"}, name="feedback_stats_tickets"),
    path(
        "statistics/complaints/",
        views.statistics,
        {"page": "complaints"},
        name="feedback_stats_complaints",
    ),
    path("statistics/tags/", views.statistics, {"page": "tags"}, name="feedback_stats_tags"),
    path(
        "statistics/handlers/",
        views.statistics,
        {"page": "handlers"},
        name="feedback_stats_handlers",
    ),
    path("settings/", views.settings_index, name="feedback_settings_index"),
    path("settings/policy/", views.settings_policy, name="feedback_settings_policy"),
    path("settings/<slug:kind>/", views.settings_list, name="feedback_settings_list"),
    path("settings/<slug:kind>/new/", views.settings_edit, name="feedback_settings_add"),
    path("settings/<slug:kind>/<int:pk>/", views.settings_edit, name="feedback_settings_edit"),
    path(
        "settings/<slug:kind>/<int:pk>/deactivate/",
        views.settings_deactivate,
        name="feedback_settings_deactivate",
    ),
    path(
        "settings/<slug:kind>/<int:pk>/delete/",
        views.settings_delete,
        name="feedback_settings_delete",
    ),
]
