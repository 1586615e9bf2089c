from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MallConfig(AppConfig):
    name = "mall"
    verbose_name = _("Mall")

    def ready(self):
        from mall.lottery import member_draws_erase
        from mall.lottery_selectors import member_draws_export
        from mall.panels import redemptions_member_panel
        from mall.recommending import recommendations_card_section
        from mall.redeeming import member_redemptions_erase
        from mall.selectors import member_redemptions_export
        from members.card_sections import card_section_register
        from members.panels import member_panel_register
        from members.signals import member_data_eraser_register, member_data_exporter_register

        member_data_exporter_register("redemptions", member_redemptions_export)
        member_data_eraser_register(member_redemptions_erase)
        member_data_exporter_register("lottery_draws", member_draws_export)
        member_data_eraser_register(member_draws_erase)
        member_panel_register(redemptions_member_panel, order=800)
        card_section_register(recommendations_card_section, order=100)
