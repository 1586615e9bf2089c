from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyConfig(AppConfig):
    name = "loyalty"
    verbose_name = _("Loyalty")

    def ready(self):
        from members.scoping import member_store_link_register

        member_store_link_register(_receipts)


def _receipts():
    """A member who bought in a store is in that store's scope (members/scoping.py)."""
    from loyalty.models import Receipt

    return Receipt.objects.all()
