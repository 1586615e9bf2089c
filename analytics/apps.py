from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Member analytics")

    def ready(self):
        from analytics.panels import clv_member_panel, tags_member_panel
        from members.panels import member_panel_register

        member_panel_register(clv_member_panel)
        member_panel_register(tags_member_panel)
