from django.urls import path

from mall import views_h5, views_h5_activities, views_h5_points

urlpatterns = [
    path("", views_h5.home, name="home"),
    path("stores/<str:store_code>/floors/", views_h5.floor_guide, name="floor_guide"),
    path("mall/", views_h5_points.points_mall, name="points_mall"),
    path("mall/goods/<int:pk>/", views_h5_points.points_goods, name="points_goods"),
    path("mall/goods/<int:pk>/redeem/", views_h5_points.points_redeem, name="points_redeem"),
    path("mall/redemptions/", views_h5_points.points_redemptions, name="points_redemptions"),
    path(
        "mall/redemptions/<str:code>/",
        views_h5_points.points_redemption,
        name="points_redemption",
    ),
    path("activities/", views_h5_activities.activity_list, name="activity_list"),
    path("activities/<int:pk>/", views_h5_activities.activity_detail, name="activity_detail"),
]
