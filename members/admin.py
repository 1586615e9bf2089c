from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources
from import_export.admin import ImportExportModelAdmin
from import_export.widgets import ForeignKeyWidget

from core.masking import mask_phone
from members.models import (
    CardPageSettings,
    Consent,
    Interest,
    Member,
    MenuButton,
    Region,
    RegistrationChannel,
    StaffProfile,
    Store,
    WechatIdentity,
)
from members.scoping import scoped, scoped_members


class ScopedAdminMixin:
    """Admin lists stay within the user's data scope, like every back-office page."""

    scope_store_field = ""
    scope_members = False  # members: the home store's scope or a receipt's (scoped_members)

    def get_queryset(self, request):
        if self.scope_members:
            return scoped_members(super().get_queryset(request), user=request.user)
        return scoped(
            super().get_queryset(request), user=request.user, store_field=self.scope_store_field
        )


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Store)
class StoreAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "region", "phone", "is_active"]
    list_filter = ["region", "is_active"]
    search_fields = ["code", "name"]


@admin.register(RegistrationChannel)
class RegistrationChannelAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "store"]
    list_filter = ["store"]
    search_fields = ["code", "name"]
    list_select_related = ["store"]


class MemberResource(resources.ModelResource):
    home_store = fields.Field(
        column_name="home_store", attribute="home_store", widget=ForeignKeyWidget(Store, "code")
    )
    region = fields.Field(
        column_name="region", attribute="region", widget=ForeignKeyWidget(Region, "code")
    )

    class Meta:
        model = Member
        import_id_fields = ["card_no"]
        # Rows go through the model's validators (the card number's among them) and come back
        # as row errors naming the field, rather than as a database error.
        clean_model_instances = True
        fields = [
            "card_no",
            "phone",
            "name",
            "gender",
            "birthday",
            "region",
            "home_store",
            "channel",
            "registered_at",
            "status",
        ]
        skip_unchanged = True
        report_skipped = False

    def dehydrate_phone(self, member):
        """Exports carry masked phones (an import needs the real numbers typed in)."""
        return mask_phone(member.phone)


@admin.register(Member)
class MemberAdmin(ScopedAdminMixin, ImportExportModelAdmin):
    resource_classes = [MemberResource]
    scope_members = True
    list_display = ["card_no", "name", "masked_phone", "gender", "home_store", "registered_at"]
    list_filter = ["status", "gender", "home_store", "channel"]
    search_fields = ["=card_no", "=phone", "name"]
    list_select_related = ["home_store"]
    date_hierarchy = "registered_at"
    show_full_result_count = False

    @admin.display(description=_("phone"))
    def masked_phone(self, obj):
        return mask_phone(obj.phone)

    # Full phone and ID numbers are read only through the audited reveal of the back
    # office's member page, never on this form; a new member's phone can be typed in.
    def get_exclude(self, request, obj=None):
        hidden = ["national_id_cipher", "national_id_index"]
        return [*hidden, "phone"] if obj is not None else hidden

    def get_readonly_fields(self, request, obj=None):
        return ["masked_phone"] if obj is not None else []


class StaffProfileInline(admin.StackedInline):
    model = StaffProfile
    can_delete = False
    fk_name = "user"


admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    inlines = [StaffProfileInline]
    list_display = ["username", "staff_name", "email", "is_active", "is_staff"]
    list_select_related = ["staff_profile"]

    @admin.display(description=_("name"))
    def staff_name(self, obj):
        profile = getattr(obj, "staff_profile", None)
        return profile.name if profile else ""


@admin.register(WechatIdentity)
class WechatIdentityAdmin(admin.ModelAdmin):
    list_display = ["openid", "nickname", "member", "created_at", "last_login_at"]
    search_fields = ["=openid", "=unionid", "=member__card_no"]
    list_select_related = ["member"]
    raw_id_fields = ["member"]
    readonly_fields = ["app_id", "openid", "unionid", "created_at", "last_login_at"]


@admin.register(MenuButton)
class MenuButtonAdmin(admin.ModelAdmin):
    list_display = ["label", "icon", "url", "order", "visible"]
    list_editable = ["order", "visible"]


@admin.register(CardPageSettings)
class CardPageSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "layout"]

    def has_add_permission(self, request):
        return not CardPageSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Interest)
class InterestAdmin(admin.ModelAdmin):
    """The interests members can tick on their profile."""

    list_display = ["name", "order", "active"]
    list_editable = ["order", "active"]


@admin.register(Consent)
class ConsentAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Separate consents, as evidence: read-only."""

    scope_store_field = "member__home_store"
    list_display = ["member", "purpose", "policy_version", "granted_at", "withdrawn_at"]
    list_filter = ["purpose", "policy_version"]
    search_fields = ["=member__card_no"]
    list_select_related = ["member"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
