from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MallConfig(AppConfig):
    name = "mall"
    verbose_name = _("Mall")

    def ready(self):
        from mall.redeeming import member_redemptions_erase
        from mall.selectors import member_redemptions_export
        from members.signals import member_data_eraser_register, member_data_exporter_register

        member_data_exporter_register("redemptions", member_redemptions_export)
        member_data_eraser_register(member_redemptions_erase)

        from mall.recommending import recommendations_card_section
        from members.card_sections import card_section_register

        card_section_register(recommendations_card_section, order=100)
