from django.urls import path

from loyalty import views_h5

urlpatterns = [
    path("tier/", views_h5.tier, name="tier"),
    path("records/", views_h5.records, name="records"),
    path("records/receipts/<int:receipt_id>/", views_h5.receipt_detail, name="receipt_detail"),
    path("sign-in/", views_h5.sign_in_page, name="sign_in"),
    path("sign-in/submit/", views_h5.sign_in_submit, name="sign_in_submit"),
    path("claims/", views_h5.claims, name="claims"),
    path("claims/<int:claim_id>/photo/", views_h5.claim_photo, name="claim_photo"),
]
