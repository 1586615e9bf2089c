from django.urls import path

from coupons import views_backoffice

urlpatterns = [
    path("send/", views_backoffice.coupon_send, name="coupon_send"),
    path("send/jobs/<int:job_id>/", views_backoffice.coupon_job, name="coupon_job"),
    path("desk/", views_backoffice.coupon_desk, name="coupon_desk"),
    path("desk/redeem/", views_backoffice.coupon_desk_redeem, name="coupon_desk_redeem"),
    path("campaigns/", views_backoffice.campaign_results, name="campaign_results"),
    path(
        "campaigns/results.csv",
        views_backoffice.campaign_results_csv,
        name="campaign_results_csv",
    ),
]
