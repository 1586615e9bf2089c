from django.contrib import admin
from import_export import fields, resources
from import_export.admin import ImportExportModelAdmin
from import_export.widgets import ForeignKeyWidget

from stores.models import Brand, Category, Floor, Region, Shop, Sku, Store
from stores.scoping import ScopedAdminMixin


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Store)
class StoreAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "region", "phone", "is_active"]
    list_filter = ["region", "is_active"]
    search_fields = ["code", "name"]


class ShopInline(admin.TabularInline):
    model = Shop
    extra = 0
    autocomplete_fields = ["brand"]


@admin.register(Floor)
class FloorAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope_store_field = "store"
    list_display = ["store", "code", "name", "order"]
    list_filter = ["store"]
    inlines = [ShopInline]


class BrandResource(resources.ModelResource):
    category = fields.Field(
        column_name="category", attribute="category", widget=ForeignKeyWidget(Category, "code")
    )

    class Meta:
        model = Brand
        import_id_fields = ["name"]
        fields = ["name", "category", "description"]
        skip_unchanged = True


@admin.register(Brand)
class BrandAdmin(ImportExportModelAdmin):
    resource_classes = [BrandResource]
    list_display = ["name", "category"]
    list_filter = ["category"]
    list_select_related = ["category"]
    search_fields = ["name"]


@admin.register(Shop)
class ShopAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope_store_field = "floor__store"
    list_display = ["unit_no", "brand", "floor", "is_active"]
    list_filter = ["floor__store", "floor", "is_active"]
    list_select_related = ["brand", "floor__store"]
    search_fields = ["unit_no", "brand__name"]
    autocomplete_fields = ["brand"]


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
