"""The staff workbench under /backoffice/feedback/ (namespace "backoffice", names feedback_…)."""

from django.urls import path

from feedback import views_backoffice

urlpatterns = [
    path("", views_backoffice.queue, name="feedback_queue"),
    path("<int:pk>/", views_backoffice.ticket_detail, name="feedback_ticket"),
    path(
        "<int:pk>/photos/<int:photo_id>/",
        views_backoffice.ticket_photo,
        name="feedback_ticket_photo",
    ),
    path("<int:pk>/compensate/", views_backoffice.ticket_compensate, name="feedback_compensate"),
    path("<int:pk>/<slug:action>/", views_backoffice.ticket_act, name="feedback_ticket_act"),
]
