from django.contrib import admin

from pos.models import PosTerminal
from stores.scoping import ScopedAdminMixin


@admin.register(PosTerminal)
class PosTerminalAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Terminals are created with `manage.py pos_terminal_create` (which shows the secret
    once); here staff rename or deactivate them."""

    scope_store_field = "store"
    list_display = ["terminal_id", "name", "store", "is_active", "last_seen_at"]
    list_filter = ["store", "is_active"]
    readonly_fields = ["terminal_id", "store", "created_at", "last_seen_at"]
    fields = ["terminal_id", "store", "name", "is_active", "created_at", "last_seen_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
