from django.urls import path

from members import views_backoffice

urlpatterns = [
    path("", views_backoffice.member_list, name="member_list"),
    path("<int:member_id>/", views_backoffice.member_detail, name="member_detail"),
    path("<int:member_id>/reveal/", views_backoffice.member_reveal, name="member_reveal"),
    path("messages/push/", views_backoffice.message_push, name="message_push"),
]
