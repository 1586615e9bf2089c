from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Member analytics")

    def ready(self):
        from analytics.panels import (
            clv_member_panel,
            lifecycle_member_panel,
            rfm_member_panel,
            tags_member_panel,
        )
        from members.panels import member_panel_register

        member_panel_register(rfm_member_panel, order=200)
        member_panel_register(lifecycle_member_panel, order=300)
        member_panel_register(clv_member_panel, order=400)
        member_panel_register(tags_member_panel, order=150)
