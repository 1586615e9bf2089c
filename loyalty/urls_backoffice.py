from django.urls import path

from loyalty import views_backoffice

urlpatterns = [
    path("points/", views_backoffice.points_lookup, name="points_lookup"),
    path("members/<int:member_id>/points/", views_backoffice.member_points, name="member_points"),
    path("claims/", views_backoffice.claim_queue, name="claim_queue"),
    path("claims/<int:claim_id>/", views_backoffice.claim_detail, name="claim_detail"),
    path("claims/<int:claim_id>/photo/", views_backoffice.claim_photo, name="claim_photo"),
    path("claims/<int:claim_id>/decide/", views_backoffice.claim_decide, name="claim_decide"),
]
