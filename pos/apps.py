from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PosConfig(AppConfig):
    name = "pos"
    verbose_name = _("POS")

    def ready(self):
        from core.tablecache import tables_cached
        from pos.models import PosTerminal

        tables_cached(PosTerminal)  # a deactivated till is refused by the next request
