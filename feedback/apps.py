from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("Customer service")

    def ready(self):
        from feedback.panels import tickets_member_panel
        from feedback.selectors import member_tickets_export
        from feedback.services import member_tickets_erase
        from members.panels import member_panel_register
        from members.signals import member_data_eraser_register, member_data_exporter_register

        member_data_exporter_register("tickets", member_tickets_export)
        member_data_eraser_register(member_tickets_erase)
        member_panel_register(tickets_member_panel, order=900)
