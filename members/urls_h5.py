from django.urls import path

from members.views_h5 import card, data_rights, messages, profile, signup

urlpatterns = [
    path("wechat/login/", signup.wechat_login, name="wechat_login"),
    path("wechat/callback/", signup.wechat_callback, name="wechat_callback"),
    path("register/", signup.register, name="register"),
    path("privacy/", signup.privacy_policy, name="privacy_policy"),
    path("card/", card.member_home, name="member_home"),
    path("card/code/", card.member_card_code, name="member_card_code"),
    path("me/data.json", data_rights.member_data_download, name="member_data_download"),
    path("me/profile/", profile.member_profile, name="member_profile"),
    path("me/profile/identity/", profile.member_identity, name="member_identity"),
    path(
        "me/profile/identity/withdraw/",
        profile.national_id_withdraw,
        name="national_id_withdraw",
    ),
    path("me/profile/more/", profile.member_profile_edit, name="member_profile_edit"),
    path(
        "me/profile/locked/<slug:field>/",
        profile.member_field_locked,
        name="member_field_locked",
    ),
    path("me/marketing/", profile.marketing_settings, name="marketing_settings"),
    path("me/addresses/", profile.address_list, name="address_list"),
    path("me/addresses/new/", profile.address_edit, name="address_create"),
    path("me/addresses/<int:address_id>/", profile.address_edit, name="address_edit"),
    path("me/addresses/<int:address_id>/delete/", profile.address_remove, name="address_delete"),
    path("me/delete/", data_rights.member_delete_confirm, name="member_delete"),
    path("me/deleted/", data_rights.member_deleted, name="member_deleted"),
    path("messages/", messages.message_list, name="message_list"),
    path("messages/<int:message_id>/", messages.message_detail, name="message_detail"),
]
