"""Member pages (WeChat H5) under /m/, all in the "h5" namespace."""

from django.urls import include, path

app_name = "h5"

urlpatterns = [
    path("", include("mall.urls_h5")),
    path("", include("members.urls_h5")),
    path("", include("loyalty.urls_h5")),
    path("", include("coupons.urls_h5")),
    path("feedback/", include("feedback.urls_h5")),
]
