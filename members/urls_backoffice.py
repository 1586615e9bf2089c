from django.urls import path

from members import views_backoffice

urlpatterns = [
    # "" (the member list, backoffice:member_list) is analytics' filtered list
    path("<int:member_id>/", views_backoffice.member_detail, name="member_detail"),
    path("<int:member_id>/reveal/", views_backoffice.member_reveal, name="member_reveal"),
    path("messages/push/", views_backoffice.message_push, name="message_push"),
]
