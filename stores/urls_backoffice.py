"""The floor guide's staff pages under /backoffice/stores/ (namespace "backoffice")."""

from django.urls import path

from stores import views_backoffice

urlpatterns = [
    path("floors/", views_backoffice.floor_list, name="floor_list"),
    path("floors/<int:pk>/", views_backoffice.floor_edit, name="floor_edit"),
    path("floors/<int:pk>/plan.svg", views_backoffice.floor_plan_svg, name="floor_plan_svg"),
    path("floors/<int:pk>/plan/", views_backoffice.floor_plan_upload, name="floor_plan_upload"),
    path("floors/<int:pk>/markers/", views_backoffice.floor_marker_add, name="floor_marker_add"),
    path("markers/<int:pk>/", views_backoffice.floor_marker_edit, name="floor_marker_edit"),
    path(
        "markers/<int:pk>/delete/",
        views_backoffice.floor_marker_delete,
        name="floor_marker_delete",
    ),
    path("shops/<int:pk>/place/", views_backoffice.floor_shop_place, name="floor_shop_place"),
]
