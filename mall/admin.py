from django.contrib import admin
from import_export import fields, resources
from import_export.admin import ImportExportModelAdmin
from import_export.widgets import ForeignKeyWidget

from loyalty.models import Category
from mall.models import Brand, Floor, Shop
from members.admin import ScopedAdminMixin


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
