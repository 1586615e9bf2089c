"""Staff roles: Django groups created by a migration, their permissions kept here as data.

After every migrate each role group gets exactly the permissions listed below, so a new
model's permissions reach a role only by being named here (deny by default).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    HQ_ADMIN = "hq_admin", _("HQ administrator")
    STORE_MANAGER = "store_manager", _("Store manager")
    MARKETING = "marketing", _("Marketing")
    CUSTOMER_SERVICE = "customer_service", _("Customer service")
    ANALYST = "analyst", _("Analyst")


# "app_label.codename", or "app_label.*" for every permission of the app.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.HQ_ADMIN: [
        "core.view_auditlog",
        "stores.*",
        "members.*",
        "loyalty.*",
        "pos.*",
        "mall.*",
        "coupons.*",
        "analytics.*",
        "mining.*",
        "feedback.*",
        "django_celery_beat.*",
        "auth.view_user",
        "auth.add_user",
        "auth.change_user",
        "auth.view_group",
    ],
    Role.STORE_MANAGER: [
        "members.view_member",
        "members.reveal_member_pii",
        "stores.view_store",
        "stores.view_region",
        "stores.view_floor",
        "stores.view_brand",
        "stores.view_shop",
        "loyalty.view_receipt",
        "loyalty.view_receiptline",
        "loyalty.view_pointsaccount",
        "loyalty.view_pointsentry",
        "loyalty.view_receiptclaim",
        "loyalty.change_receiptclaim",
        # the points mall's desk: pickups verified, redemptions recorded at the store's desk
        "mall.view_goods",
        "mall.view_redemption",
        "mall.view_redemptionevent",
        "mall.verify_redemption",
        "mall.view_lotterydraw",  # lottery prizes handed over at the desk
        # the store's tickets: handled by the store's own desk, compensation within its cap
        "feedback.view_ticket",
        "feedback.change_ticket",
        "feedback.view_ticketevent",
        "feedback.view_rating",
        "feedback.view_compensation",
        "feedback.grant_compensation",
    ],
    Role.MARKETING: [
        "members.view_member",
        "stores.view_store",
        # the floor guide and the brands are marketing's to edit
        "stores.add_floor",
        "stores.change_floor",
        "stores.delete_floor",
        "stores.view_floor",
        "stores.add_brand",
        "stores.change_brand",
        "stores.delete_brand",
        "stores.view_brand",
        "stores.add_shop",
        "stores.change_shop",
        "stores.delete_shop",
        "stores.view_shop",
        "stores.add_floormarker",
        "stores.change_floormarker",
        "stores.delete_floormarker",
        "stores.view_floormarker",
        "stores.view_category",
        "stores.view_sku",
        "mall.*",
        "coupons.*",
        "members.add_message",
        # actions on a member group (send a coupon, SMS, message or tag with a control group)
        "analytics.view_membergroup",
        "analytics.view_groupaction",
        "analytics.add_groupaction",
    ],
    Role.CUSTOMER_SERVICE: [
        "members.view_member",
        "stores.view_store",
        "loyalty.view_pointsaccount",
        "loyalty.view_pointsentry",
        "loyalty.view_receiptclaim",
        "loyalty.change_receiptclaim",
        # the points mall's desk: pickups verified, redemptions recorded at the store's desk
        "mall.view_goods",
        "mall.view_redemption",
        "mall.view_redemptionevent",
        "mall.verify_redemption",
        "mall.view_lotterydraw",  # lottery prizes handed over at the desk
        # the service desk's 核销 page: look a coupon up and redeem it (gift coupons)
        "coupons.view_coupon",
        "coupons.change_coupon",
        # the ticket workbench (feedback.*: view and change, no settings), compensation
        # within the role's cap; never analytics
        "feedback.view_ticket",
        "feedback.change_ticket",
        "feedback.view_ticketevent",
        "feedback.view_rating",
        "feedback.view_compensation",
        "feedback.view_tickettype",
        "feedback.view_ratingtag",
        "feedback.view_department",
        "feedback.view_handler",
        "feedback.view_slatarget",
        "feedback.grant_compensation",
    ],
    Role.ANALYST: [
        "members.view_member",
        "stores.view_store",
        "stores.view_region",
        "stores.view_category",
        "stores.view_sku",
        "stores.view_brand",
        "loyalty.view_receipt",
        "loyalty.view_receiptline",
        "analytics.*",
        "mining.*",
        "coupons.view_campaign",  # campaign results, read only; sending stays with marketing
    ],
}


def role_permissions(role: str, available) -> list:
    """The Permission objects of `available` that ROLE_PERMISSIONS grants to `role`."""
    granted = []
    for perm in available:
        app_label = perm.content_type.app_label
        full = f"{app_label}.{perm.codename}"
        for pattern in ROLE_PERMISSIONS[role]:
            if pattern == full or pattern == f"{app_label}.*":
                granted.append(perm)
                break
    return granted


def roles_sync_permissions(sender=None, **kwargs):
    """post_migrate: give each role group exactly its listed permissions.

    post_migrate is sent once per app, and each app's permissions are created by its own send;
    the groups are set once, after the last app's, when every permission exists."""
    from django.apps import apps
    from django.contrib.auth.models import Group, Permission

    with_models = [config for config in apps.get_app_configs() if config.models_module is not None]
    if sender is not None and with_models and sender is not with_models[-1]:
        return

    available = list(Permission.objects.select_related("content_type"))
    for role in Role:
        group, _created = Group.objects.get_or_create(name=role.value)
        group.permissions.set(role_permissions(role, available))
