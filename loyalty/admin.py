from django.contrib import admin
from import_export import fields, resources
from import_export.admin import ImportExportModelAdmin
from import_export.widgets import ForeignKeyWidget

from loyalty.models import Category, Receipt, ReceiptLine, Sku
from mall.models import Brand
from members.admin import ScopedAdminMixin


class CategoryResource(resources.ModelResource):
    parent = fields.Field(
        column_name="parent", attribute="parent", widget=ForeignKeyWidget(Category, "code")
    )

    class Meta:
        model = Category
        import_id_fields = ["code"]
        fields = ["code", "name", "division", "parent"]
        skip_unchanged = True


@admin.register(Category)
class CategoryAdmin(ImportExportModelAdmin):
    resource_classes = [CategoryResource]
    list_display = ["code", "name", "division", "parent"]
    list_filter = ["division"]
    search_fields = ["code", "name"]


class SkuResource(resources.ModelResource):
    brand = fields.Field(
        column_name="brand", attribute="brand", widget=ForeignKeyWidget(Brand, "name")
    )
    category = fields.Field(
        column_name="category", attribute="category", widget=ForeignKeyWidget(Category, "code")
    )

    class Meta:
        model = Sku
        import_id_fields = ["code"]
        fields = ["code", "name", "spec", "brand", "category", "price_fen", "non_merchandise"]
        skip_unchanged = True


@admin.register(Sku)
class SkuAdmin(ImportExportModelAdmin):
    resource_classes = [SkuResource]
    list_display = ["code", "name", "spec", "brand", "category", "price_fen", "non_merchandise"]
    list_filter = ["category__division", "non_merchandise"]
    list_select_related = ["brand", "category"]
    search_fields = ["=code", "name"]
    autocomplete_fields = ["brand", "category"]


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
