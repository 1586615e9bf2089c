from django.urls import path

from mining import views_backoffice as views

urlpatterns = [
    path("", views.runs, name="mining_runs"),
    path("runs/<int:run_id>/", views.run_detail, name="mining_run"),
    path("runs/<int:run_id>/status/", views.run_status, name="mining_run_status"),
    path("runs/<int:run_id>/rules.csv", views.rules_csv, name="mining_rules_csv"),
    path("runs/<int:run_id>/bundles/", views.run_bundles, name="mining_bundles"),
    path(
        "runs/<int:run_id>/rules/<int:rule_id>/campaign/",
        views.rule_campaign,
        name="mining_rule_campaign",
    ),
    path("compare/", views.compare, name="mining_compare"),
    path("settings/", views.settings_edit, name="mining_settings"),
    path("behaviour/", views.behaviour, name="mining_behaviour"),
]
