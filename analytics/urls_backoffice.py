from django.urls import path

from analytics import views_backoffice

urlpatterns = [
    path("", views_backoffice.home, name="home"),
    path("analytics/rfm/", views_backoffice.rfm, name="rfm"),
    path("predicted-value/", views_backoffice.clv_list, name="clv_list"),
    path("analytics/statistics/", views_backoffice.statistics, name="statistics"),
]
