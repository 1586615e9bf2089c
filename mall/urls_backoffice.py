from django.urls import path

from mall import views_backoffice_activities

urlpatterns = [
    path(
        "activities/",
        views_backoffice_activities.activity_list_bo,
        name="activity_list_bo",
    ),
    path(
        "activities/new/",
        views_backoffice_activities.activity_create,
        name="activity_create",
    ),
    path(
        "activities/<int:pk>/",
        views_backoffice_activities.activity_edit,
        name="activity_edit",
    ),
    path(
        "activities/<int:pk>/unpublish/",
        views_backoffice_activities.activity_unpublish,
        name="activity_unpublish",
    ),
]
