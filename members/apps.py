from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Members")

    def ready(self):
        from core.tablecache import tables_cached
        from members import checks  # noqa: F401  (registers the system checks)
        from members.models import CardPageSettings, MenuButton
        from members.panels import member_panel_register, messages_member_panel
        from members.scoping import staff_store_lookups
        from stores.scoping import store_scope_register

        store_scope_register(staff_store_lookups)
        member_panel_register(messages_member_panel, order=700)
        tables_cached(CardPageSettings, MenuButton)  # the card page's layout and menu
