from django.contrib import admin

from analytics.models import RfmClass, RfmPreset, RfmSettings, RfmSnapshot
from core.admin import ReadOnlyAdminMixin


class RfmClassInline(admin.TabularInline):
    """The eight cells of a naming: staff rename them and write the action, never add or drop."""

    model = RfmClass
    extra = 0
    fields = ["r_short", "f_high", "m_high", "label", "action"]
    readonly_fields = ["r_short", "f_high", "m_high"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RfmPreset)
class RfmPresetAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]
    inlines = [RfmClassInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RfmSettings)
class RfmSettingsAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return not RfmSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RfmSnapshot)
class RfmSnapshotAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["as_of", "window_days", "status", "is_current", "row_count", "finished_at"]
    list_filter = ["status", "is_current"]
