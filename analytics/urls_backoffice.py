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
    # the member list (会员列表) replaces members' simple search, at the same address
    path("members/", views_backoffice.member_list, name="member_list"),
    path("members/export/", views_backoffice.member_export, name="member_export"),
    path(
        "members/<int:member_id>/tags/add/",
        views_backoffice.member_tag_add_view,
        name="member_tag_add",
    ),
    path(
        "members/<int:member_id>/tags/<int:tag_id>/remove/",
        views_backoffice.member_tag_remove_view,
        name="member_tag_remove",
    ),
    path("analytics/groups/", views_backoffice.group_list, name="group_list"),
    path("analytics/groups/new/", views_backoffice.group_create, name="group_create"),
    path("analytics/groups/<int:group_id>/", views_backoffice.group_detail, name="group_detail"),
    path(
        "analytics/groups/<int:group_id>/refresh/",
        views_backoffice.group_refresh,
        name="group_refresh",
    ),
    path(
        "analytics/groups/<int:group_id>/archive/",
        views_backoffice.group_archive_view,
        name="group_archive",
    ),
    path("analytics/tags/", views_backoffice.tag_list, name="tag_list"),
    path("analytics/tags/new/", views_backoffice.tag_edit, name="tag_create"),
    path("analytics/tags/<int:tag_id>/", views_backoffice.tag_edit, name="tag_edit"),
    path(
        "analytics/tags/<int:tag_id>/recompute/",
        views_backoffice.tag_recompute,
        name="tag_recompute",
    ),
    path("analytics/tags/bulk/", views_backoffice.tag_bulk, name="tag_bulk"),
]
