from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources
from import_export.admin import ExportMixin
from import_export.widgets import ForeignKeyWidget

from core.exceptions import ServiceError
from core.masking import mask_phone
from core.roles import Role
from members.models import (
    CardPageSettings,
    Consent,
    Interest,
    MarketingOptOut,
    Member,
    MenuButton,
    RegistrationChannel,
    StaffProfile,
    WechatIdentity,
)
from members.scoping import scoped_members
from members.staff import staff_access_check, staff_access_set, user_superuser_set
from stores.models import Region, Store
from stores.scoping import ScopedAdminMixin as StoreScopedAdminMixin


class ScopedAdminMixin(StoreScopedAdminMixin):
    """The stores' scoped admin, plus member lists narrowed by home store or a receipt."""

    scope_members = False  # members: the home store's scope or a receipt's (scoped_members)

    def get_queryset(self, request):
        if self.scope_members:
            return scoped_members(
                super(StoreScopedAdminMixin, self).get_queryset(request), user=request.user
            )
        return super().get_queryset(request)


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

    def dehydrate_phone(self, member):
        """Exports carry masked phones."""
        return mask_phone(member.phone)


@admin.register(Member)
class MemberAdmin(ScopedAdminMixin, ExportMixin, admin.ModelAdmin):
    """Export only: members come in through `manage.py import_members` (members/importing.py),
    whose rules (phone checks, duplicates, closed cards, filled cells only) an admin import
    would bypass; and a re-imported export would write its masked phones over real ones."""

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


class StaffProfileAdminForm(forms.ModelForm):
    """The staff profile with its role; role and scope are checked and saved by
    members.staff.staff_access_set (StaffUserAdmin.save_formset), never written directly."""

    role = forms.ChoiceField(label=_("role"), choices=[("", "---------"), *Role.choices])
    actor = None  # the signed-in user, set by the inline
    parent_user = None

    class Meta:
        model = StaffProfile
        fields = ["name", "department", "employee_no", "phone", "photo", "scope", "region", "store"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.parent_user is not None and self.parent_user.pk:
            names = set(self.parent_user.groups.values_list("name", flat=True))
            self.fields["role"].initial = next((r for r in Role if r.value in names), None)

    def clean(self):
        data = super().clean()
        user = self.parent_user if self.parent_user is not None else User()
        if {"role", "scope"} <= data.keys():
            try:
                staff_access_check(
                    actor=self.actor,
                    user=user,
                    role=data["role"],
                    scope=data["scope"],
                    region=data.get("region"),
                    store=data.get("store"),
                )
            except ServiceError as exc:
                raise forms.ValidationError(exc.message) from exc
        return data


class StaffProfileInline(admin.StackedInline):
    model = StaffProfile
    form = StaffProfileAdminForm
    can_delete = False
    fk_name = "user"

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = type(
            "StaffProfileForm", (formset.form,), {"actor": request.user, "parent_user": obj}
        )
        return formset


admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    """Roles (groups) and data scopes change only through members.staff, audited; only
    superusers see a superuser's account, grant superuser or give single permissions."""

    inlines = [StaffProfileInline]
    list_display = ["username", "staff_name", "email", "is_active", "is_staff"]
    list_select_related = ["staff_profile"]

    @admin.display(description=_("name"))
    def staff_name(self, obj):
        profile = getattr(obj, "staff_profile", None)
        return profile.name if profile else ""

    def get_readonly_fields(self, request, obj=None):
        readonly = [*super().get_readonly_fields(request, obj), "groups"]
        if not request.user.is_superuser:
            readonly += ["is_superuser", "user_permissions"]
        return readonly

    def has_view_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is None or "is_superuser" not in form.base_fields:
            return form

        def clean_is_superuser(self):
            value = self.cleaned_data["is_superuser"]
            if value != obj.is_superuser and obj.pk == request.user.pk:
                raise forms.ValidationError(_("Nobody can change their own superuser status."))
            return value

        return type(form.__name__, (form,), {"clean_is_superuser": clean_is_superuser})

    def save_model(self, request, obj, form, change):
        wanted = obj.is_superuser
        if change and "is_superuser" in form.changed_data:
            obj.is_superuser = not wanted  # the service makes the change and audits it
        super().save_model(request, obj, form, change)
        if change and "is_superuser" in form.changed_data:
            user_superuser_set(actor=request.user, user=obj, is_superuser=wanted)

    def save_formset(self, request, form, formset, change):
        if formset.model is not StaffProfile:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)  # applies the edits and notes them for the admin's history
        for profile_form in formset.forms:
            if not profile_form.has_changed():
                continue
            profile = profile_form.instance
            profile.user = form.instance
            data = profile_form.cleaned_data
            staff_access_set(
                actor=request.user,
                profile=profile,
                role=data["role"],
                scope=data["scope"],
                region=data.get("region"),
                store=data.get("store"),
            )
        return None


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


@admin.register(MarketingOptOut)
class MarketingOptOutAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Members who turned marketing off (退订); staff record one the member asked for at
    the desk, or delete one to turn it back on at the member's request."""

    scope_store_field = "member__home_store"
    list_display = ["member", "channel", "source", "created_at"]
    list_filter = ["channel", "source"]
    search_fields = ["=member__card_no", "=member__phone"]
    list_select_related = ["member"]
    raw_id_fields = ["member"]
    readonly_fields = ["created_at"]
