from django.urls import path

from analytics import views_backoffice

urlpatterns = [
    path("", views_backoffice.home, name="home"),
]
