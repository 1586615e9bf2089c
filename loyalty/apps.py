from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyConfig(AppConfig):
    name = "loyalty"
    verbose_name = _("Loyalty")

    def ready(self):
        from loyalty.panels import points_member_panel, receipts_member_panel
        from loyalty.selectors import member_receipts_export
        from loyalty.services import member_loyalty_close
        from loyalty.tables import tables_register
        from members.panels import member_panel_register
        from members.scoping import member_store_link_register
        from members.signals import member_data_eraser_register, member_data_exporter_register

        member_store_link_register(_receipts)
        member_data_exporter_register("receipts", member_receipts_export)
        member_data_eraser_register(member_loyalty_close)
        member_panel_register(points_member_panel, order=100)
        member_panel_register(receipts_member_panel, order=500)
        tables_register()


def _receipts():
    """A member who bought in a store is in that store's scope (members/scoping.py)."""
    from loyalty.models import Receipt

    return Receipt.objects.all()
