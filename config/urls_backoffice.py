"""Staff pages under /backoffice/, all in the "backoffice" namespace."""

from django.urls import include, path

app_name = "backoffice"

urlpatterns = [
    path("", include("analytics.urls_backoffice")),
    path("members/", include("members.urls_backoffice")),
    path("loyalty/", include("loyalty.urls_backoffice")),
    path("coupons/", include("coupons.urls_backoffice")),
    path("mining/", include("mining.urls_backoffice")),
    path("feedback/", include("feedback.urls_backoffice")),
    path("feedback/", include("feedback.urls_reports")),
    path("mall/", include("mall.urls_backoffice")),
]
