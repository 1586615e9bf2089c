from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CouponsConfig(AppConfig):
    name = "coupons"
    verbose_name = _("Coupons")

    def ready(self):
        from coupons.issuing import welcome_coupons_issue
        from coupons.panels import coupons_member_panel
        from coupons.redeeming import receipt_coupons_restore
        from loyalty.signals import sale_refunded_in_full
        from members.panels import member_panel_register
        from members.signals import member_registered

        def welcome(sender, *, member, channel, **kwargs):
            welcome_coupons_issue(member=member, channel=channel)

        def restore(sender, *, sale, **kwargs):
            receipt_coupons_restore(sale=sale)

        member_registered.connect(welcome, weak=False, dispatch_uid="coupons.welcome")
        sale_refunded_in_full.connect(restore, weak=False, dispatch_uid="coupons.restore")
        member_panel_register(coupons_member_panel, order=600)
