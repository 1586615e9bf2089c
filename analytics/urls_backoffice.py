from django.urls import path

from analytics import views_actions, views_backoffice

urlpatterns = [
    path("", views_backoffice.home, name="home"),
    path("analytics/rfm/", views_backoffice.rfm, name="rfm"),
    path("predicted-value/", views_backoffice.clv_list, name="clv_list"),
    path("analytics/statistics/", views_backoffice.statistics, name="statistics"),
    path("analytics/actions/", views_actions.action_list, name="group_action_list"),
    path(
        "analytics/groups/<int:group_id>/actions/new/",
        views_actions.action_new,
        name="group_action_new",
    ),
    path("analytics/actions/<int:action_id>/", views_actions.action_detail, name="group_action"),
    path(
        "analytics/actions/<int:action_id>/rerun/",
        views_actions.action_rerun,
        name="group_action_rerun",
    ),
    path(
        "analytics/actions/<int:action_id>/log.csv",
        views_actions.action_log_csv,
        name="group_action_log_csv",
    ),
    path(
        "analytics/rfm/classes/<int:class_id>/act/",
        views_actions.rfm_class_act,
        name="rfm_class_act",
    ),
]
