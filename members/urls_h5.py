from django.urls import path

from members import views_h5

urlpatterns = [
    path("wechat/login/", views_h5.wechat_login, name="wechat_login"),
    path("wechat/callback/", views_h5.wechat_callback, name="wechat_callback"),
    path("register/", views_h5.register, name="register"),
    path("card/", views_h5.member_home, name="member_home"),
    path("card/code/", views_h5.member_card_code, name="member_card_code"),
    path("me/data.json", views_h5.member_data_download, name="member_data_download"),
    path("messages/", views_h5.message_list, name="message_list"),
    path("messages/<int:message_id>/", views_h5.message_detail, name="message_detail"),
]
