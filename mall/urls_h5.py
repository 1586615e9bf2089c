from django.urls import path

from mall import views_h5, views_h5_lottery

urlpatterns = [
    path("", views_h5.home, name="home"),
    path("stores/<str:store_code>/floors/", views_h5.floor_guide, name="floor_guide"),
    path("lottery/", views_h5_lottery.lottery_list, name="lottery_list"),
    path("lottery/<int:pk>/", views_h5_lottery.lottery_detail, name="lottery_detail"),
    path("lottery/<int:pk>/draw/", views_h5_lottery.lottery_draw, name="lottery_draw"),
    path("lottery/draws/", views_h5_lottery.lottery_my_draws, name="lottery_my_draws"),
]
