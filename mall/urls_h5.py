from django.urls import path

from mall import views_h5

urlpatterns = [
    path("", views_h5.home, name="home"),
    path("stores/<str:store_code>/floors/", views_h5.floor_guide, name="floor_guide"),
]
