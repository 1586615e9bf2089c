from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Core")

    def ready(self):
        from core.roles import roles_sync_permissions

        post_migrate.connect(roles_sync_permissions, dispatch_uid="core.roles_sync_permissions")
