from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyConfig(AppConfig):
    name = "loyalty"
    verbose_name = _("Loyalty")

    def ready(self):
        from loyalty.selectors import member_receipts_export
        from loyalty.services import member_loyalty_close
        from members.scoping import member_store_link_register
        from members.signals import member_data_eraser_register, member_data_exporter_register

        member_store_link_register(_receipts)
        member_data_exporter_register("receipts", member_receipts_export)
        member_data_eraser_register(member_loyalty_close)


def _receipts():
    """A member who bought in a store is in that store's scope (members/scoping.py)."""
    from loyalty.models import Receipt

    return Receipt.objects.all()
