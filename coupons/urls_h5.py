from django.urls import path

from coupons import views_h5

urlpatterns = [
    path("coupons/", views_h5.coupon_list, name="coupon_list"),
    path("coupons/<str:code>/", views_h5.coupon_detail, name="coupon_detail"),
]
