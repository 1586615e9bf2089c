from django.urls import path

from mall import views_h5, views_h5_activities

urlpatterns = [
    path("", views_h5.home, name="home"),
    path("stores/<str:store_code>/floors/", views_h5.floor_guide, name="floor_guide"),
    path("activities/", views_h5_activities.activity_list, name="activity_list"),
    path("activities/<int:pk>/", views_h5_activities.activity_detail, name="activity_detail"),
]
