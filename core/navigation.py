"""The back office's menu: one list, each entry shown to those who hold its permission."""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    icon: str
    perm: str | None = None  # None: every back-office user
    admin_site: bool = False  # the Django admin: for users with is_staff


BACKOFFICE_NAV = [
    NavItem(_("Dashboard"), "backoffice:home", "▦"),
    NavItem(_("Members"), "backoffice:member_list", "☺", perm="members.view_member"),
    NavItem(_("Member points"), "backoffice:points_lookup", "◎", perm="loyalty.view_pointsentry"),
    NavItem(_("Receipt claims"), "backoffice:claim_queue", "▤", perm="loyalty.change_receiptclaim"),
    NavItem(_("Push a message"), "backoffice:message_push", "✉", perm="members.add_message"),
    NavItem(_("Send coupons"), "backoffice:coupon_send", "❖", perm="coupons.add_coupon"),
    NavItem(_("Coupon desk"), "backoffice:coupon_desk", "⌖", perm="coupons.change_coupon"),
    NavItem(_("Service workbench"), "backoffice:feedback_queue", "☎", perm="feedback.view_ticket"),
    NavItem(_("Points mall goods"), "backoffice:mall_goods_list", "◇", perm="mall.view_goods"),
    NavItem(_("Redemption desk"), "backoffice:mall_desk", "☑", perm="mall.verify_redemption"),
    NavItem(
        _("Campaign results"), "backoffice:campaign_results", "▥", perm="coupons.view_campaign"
    ),
    NavItem(_("RFM model"), "backoffice:rfm", "◈", perm="analytics.view_rfmsnapshot"),
    NavItem(_("Predicted value"), "backoffice:clv_list", "◔", perm="analytics.view_clvscore"),
    NavItem(
        _("Member statistics"), "backoffice:statistics", "▨", perm="analytics.view_rfmsnapshot"
    ),
    NavItem(_("Member groups"), "backoffice:group_list", "◧", perm="analytics.view_membergroup"),
    NavItem(_("Member tags"), "backoffice:tag_list", "⌗", perm="analytics.view_tag"),
    NavItem(
        _("Group actions"), "backoffice:group_action_list", "➤", perm="analytics.view_groupaction"
    ),
    NavItem(_("Association rules"), "backoffice:mining_runs", "⛓", perm="mining.view_miningrun"),
    NavItem(
        _("Consumer behaviour"), "backoffice:mining_behaviour", "◐", perm="mining.view_miningrun"
    ),
    NavItem(
        _("Feedback statistics"),
        "backoffice:feedback_stats_tickets",
        "▩",
        perm="feedback.view_ticket",
    ),
    NavItem(
        _("Service settings"),
        "backoffice:feedback_settings_index",
        "⚒",
        perm="feedback.change_tickettype",
    ),
    NavItem(_("Floor guide"), "backoffice:floor_list", "⊞", perm="stores.change_floor"),
    NavItem(
        _("Brand activities"), "backoffice:activity_list_bo", "✦", perm="mall.view_brandactivity"
    ),
    NavItem(
        _("Lottery campaigns"), "backoffice:lottery_list", "✪", perm="mall.view_lotterycampaign"
    ),
    NavItem(_("Administration"), "admin:index", "⚙", admin_site=True),
]


def nav_for(user, current_path: str) -> list[dict]:
    items = []
    for item in BACKOFFICE_NAV:
        if item.perm and not user.has_perm(item.perm):
            continue
        if item.admin_site and not user.is_staff:
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        items.append({"label": item.label, "url": url, "icon": item.icon, "active": False})
    # The one entry whose address is the longest start of the current path is the active one,
    # so /backoffice/members/messages/push/ lights "Push a message", not "Members".
    matches = [
        i
        for i in items
        if (
            current_path == i["url"]
            if i["url"].endswith("/backoffice/")
            else current_path.startswith(i["url"])
        )
    ]
    if matches:
        max(matches, key=lambda i: len(i["url"]))["active"] = True
    return items
