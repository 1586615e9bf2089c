from django.urls import path

from members import views_backoffice

urlpatterns = [
    path("messages/push/", views_backoffice.message_push, name="message_push"),
]
