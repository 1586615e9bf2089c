from django.urls import path

from members import views_h5

urlpatterns = [
    path("wechat/login/", views_h5.wechat_login, name="wechat_login"),
    path("wechat/callback/", views_h5.wechat_callback, name="wechat_callback"),
    path("register/", views_h5.register, name="register"),
    path("privacy/", views_h5.privacy_policy, name="privacy_policy"),
    path("card/", views_h5.member_home, name="member_home"),
    path("card/code/", views_h5.member_card_code, name="member_card_code"),
    path("me/data.json", views_h5.member_data_download, name="member_data_download"),
    path("me/profile/", views_h5.member_profile, name="member_profile"),
    path("me/profile/identity/", views_h5.member_identity, name="member_identity"),
    path(
        "me/profile/identity/withdraw/",
        views_h5.national_id_withdraw,
        name="national_id_withdraw",
    ),
    path("me/profile/more/", views_h5.member_profile_edit, name="member_profile_edit"),
    path(
        "me/profile/locked/<slug:field>/",
        views_h5.member_field_locked,
        name="member_field_locked",
    ),
    path("me/addresses/", views_h5.address_list, name="address_list"),
    path("me/addresses/new/", views_h5.address_edit, name="address_create"),
    path("me/addresses/<int:address_id>/", views_h5.address_edit, name="address_edit"),
    path("me/addresses/<int:address_id>/delete/", views_h5.address_remove, name="address_delete"),
    path("me/delete/", views_h5.member_delete_confirm, name="member_delete"),
    path("me/deleted/", views_h5.member_deleted, name="member_deleted"),
    path("messages/", views_h5.message_list, name="message_list"),
    path("messages/<int:message_id>/", views_h5.message_detail, name="message_detail"),
]
