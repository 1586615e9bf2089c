from django.urls import path

from mall import views_backoffice_lottery

urlpatterns = [
    path("lottery/", views_backoffice_lottery.lottery_list, name="lottery_list"),
    path("lottery/new/", views_backoffice_lottery.lottery_create, name="lottery_create"),
    path("lottery/pickup/", views_backoffice_lottery.lottery_pickup, name="lottery_pickup"),
    path("lottery/<int:pk>/", views_backoffice_lottery.lottery_detail, name="lottery_detail"),
    path("lottery/<int:pk>/edit/", views_backoffice_lottery.lottery_edit, name="lottery_edit"),
    path(
        "lottery/<int:pk>/publish/",
        views_backoffice_lottery.lottery_publish,
        name="lottery_publish",
    ),
    path(
        "lottery/<int:pk>/on-site/",
        views_backoffice_lottery.lottery_on_site_winner,
        name="lottery_on_site_winner",
    ),
]
