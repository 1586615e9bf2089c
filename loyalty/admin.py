from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdminMixin
from loyalty.models import (
    EarnRule,
    LoyaltySettings,
    PointsAccount,
    PointsEntry,
    PointsPromotion,
    Receipt,
    ReceiptClaim,
    ReceiptLine,
    SignIn,
    Tier,
    TierChange,
)
from members.admin import ScopedAdminMixin


class ReceiptLineInline(admin.TabularInline):
    model = ReceiptLine
    extra = 0
    can_delete = False
    fields = [
        "line_no",
        "sku_code",
        "name",
        "spec",
        "brand_name",
        "category_name",
        "qty",
        "amount_fen",
        "non_merchandise",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Receipt)
class ReceiptAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Receipts come from the tills: staff read them here, nobody edits them."""

    scope_store_field = "store"
    list_display = [
        "receipt_no",
        "store",
        "pos_no",
        "occurred_at",
        "kind",
        "division",
        "total_fen",
        "member",
    ]
    list_filter = ["store", "kind", "division"]
    list_select_related = ["store", "member"]
    search_fields = ["=receipt_no", "=member__card_no"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False
    raw_id_fields = ["member", "refund_of"]
    inlines = [ReceiptLineInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "threshold", "multiplier_percent", "card_color"]
    prepopulated_fields = {"code": ["name"]}


@admin.register(EarnRule)
class EarnRuleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "store", "division", "category", "points", "per_fen", "is_active"]
    list_filter = ["is_active", "division", "store"]
    autocomplete_fields = ["category"]


@admin.register(PointsPromotion)
class PointsPromotionAdmin(admin.ModelAdmin):
    list_display = ["name", "starts_on", "ends_on", "weekdays", "multiplier_percent", "store"]
    list_filter = ["is_active", "store"]
    date_hierarchy = "starts_on"


@admin.register(LoyaltySettings)
class LoyaltySettingsAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return not LoyaltySettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PointsAccount)
class PointsAccountAdmin(ScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    scope_store_field = "member__home_store"
    list_display = ["member", "balance", "tier", "tier_since", "updated_at"]
    list_filter = ["tier"]
    list_select_related = ["member", "tier"]
    search_fields = ["=member__card_no"]
    show_full_result_count = False


@admin.register(PointsEntry)
class PointsEntryAdmin(ScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    scope_store_field = "account__member__home_store"
    list_display = ["created_at", "account", "kind", "points", "balance_after", "receipt", "memo"]
    list_filter = ["kind"]
    list_select_related = ["account__member", "receipt__store"]
    search_fields = ["=account__member__card_no", "=key"]
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(TierChange)
class TierChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "account", "from_tier", "to_tier", "reason", "basis_value"]
    list_filter = ["reason", "to_tier"]
    list_select_related = ["account__member", "from_tier", "to_tier"]


@admin.register(SignIn)
class SignInAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["day", "member", "streak", "points"]
    date_hierarchy = "day"
    list_select_related = ["member"]


@admin.register(ReceiptClaim)
class ReceiptClaimAdmin(ScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Claims are reviewed in the back office's queue; the admin only lists them."""

    scope_store_field = "store"
    list_display = ["created_at", "member", "store", "receipt_no", "amount_fen", "status"]
    list_filter = ["status", "store"]
    list_select_related = ["member", "store"]
    search_fields = ["=receipt_no", "=member__card_no"]
    exclude = ["photo"]  # private: no URL; the link below goes through the checked view
    readonly_fields = ["photo_link"]

    @admin.display(description=_("photo"))
    def photo_link(self, obj):
        if not obj.photo:
            return "—"
        url = reverse("backoffice:claim_photo", args=[obj.pk])
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, _("Open"))
