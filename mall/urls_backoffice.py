"""Staff pages of the mall under /backoffice/mall/ (namespace "backoffice", names mall_…)."""

from django.urls import path

from mall import views_backoffice, views_backoffice_activities, views_backoffice_lottery

urlpatterns = [
    path("goods/", views_backoffice.goods_list, name="mall_goods_list"),
    path("goods/new/", views_backoffice.goods_create_view, name="mall_goods_create"),
    path("goods/<int:pk>/", views_backoffice.goods_edit, name="mall_goods_edit"),
    path("goods/<int:pk>/stock/", views_backoffice.goods_stock, name="mall_goods_stock"),
    path("categories/", views_backoffice.category_list, name="mall_category_list"),
    path("redemptions/", views_backoffice.redemption_list, name="mall_redemption_list"),
    path(
        "redemptions/<int:pk>/",
        views_backoffice.redemption_detail,
        name="mall_redemption_detail",
    ),
    path(
        "redemptions/<int:pk>/<slug:action>/",
        views_backoffice.redemption_act,
        name="mall_redemption_act",
    ),
    path("desk/", views_backoffice.desk, name="mall_desk"),
    path("desk/verify/", views_backoffice.desk_verify, name="mall_desk_verify"),
    path("desk/record/", views_backoffice.desk_record, name="mall_desk_record"),
    path(
        "activities/",
        views_backoffice_activities.activity_list_bo,
        name="activity_list_bo",
    ),
    path(
        "activities/new/",
        views_backoffice_activities.activity_create,
        name="activity_create",
    ),
    path(
        "activities/<int:pk>/",
        views_backoffice_activities.activity_edit,
        name="activity_edit",
    ),
    path(
        "activities/<int:pk>/unpublish/",
        views_backoffice_activities.activity_unpublish,
        name="activity_unpublish",
    ),
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
