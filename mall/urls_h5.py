from django.urls import path

from mall import views_h5, views_h5_activities, views_h5_floors, views_h5_lottery, views_h5_points

urlpatterns = [
    path("", views_h5.home, name="home"),
    path("stores/<str:store_code>/floors/", views_h5_floors.floor_guide, name="floor_guide"),
    path(
        "stores/<str:store_code>/brands/", views_h5_floors.brand_directory, name="brand_directory"
    ),
    path(
        "stores/<str:store_code>/brands/<int:brand_id>/",
        views_h5_floors.brand_detail,
        name="brand_detail",
    ),
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
    path("lottery/", views_h5_lottery.lottery_list, name="lottery_list"),
    path("lottery/<int:pk>/", views_h5_lottery.lottery_detail, name="lottery_detail"),
    path("lottery/<int:pk>/draw/", views_h5_lottery.lottery_draw, name="lottery_draw"),
    path("lottery/draws/", views_h5_lottery.lottery_my_draws, name="lottery_my_draws"),
]
