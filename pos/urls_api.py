from django.urls import path

from pos import api

app_name = "pos_api"

urlpatterns = [
    path("receipts", api.receipts, name="receipts"),
    path("members/resolve", api.member_resolve, name="member_resolve"),
    path("coupons/verify", api.coupon_verify_view, name="coupon_verify"),
]
