from django.urls import path

from coupons import api as coupons_api
from loyalty import api

app_name = "pos_api"

urlpatterns = [
    path("receipts", api.receipts, name="receipts"),
    path("members/resolve", api.member_resolve, name="member_resolve"),
    path("coupons/verify", coupons_api.verify, name="coupon_verify"),
]
