from django.contrib import admin

from core.admin import ReadOnlyAdminMixin
from mining.models import MiningRun, MiningSettings, Rule


@admin.register(MiningSettings)
class MiningSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "nightly_enabled", "level", "min_support", "min_confidence"]

    def has_add_permission(self, request):
        return not MiningSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MiningRun)
class MiningRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Runs are made by the nightly job, the back office and mine_rules; read only here."""

    list_display = [
        "id",
        "created_at",
        "status",
        "trigger",
        "level",
        "segment_label",
        "basket_count",
        "rule_count",
        "duration_ms",
        "is_current",
    ]
    list_filter = ["status", "trigger", "level", "is_current"]
    list_select_related = ["store"]
    raw_id_fields = ["created_by", "store"]


@admin.register(Rule)
class RuleAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "run", "antecedents", "consequents", "support", "confidence", "lift"]
    list_filter = ["run"]
    list_select_related = ["run"]
    ordering = ["run", "-lift"]
    show_full_result_count = False
