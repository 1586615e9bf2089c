"""Coupon templates, campaigns and issuing rules are edited here; issued coupons are read
(and voided, with a reason, through coupon_void); verifications and jobs are records."""

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import ReadOnlyAdminMixin
from core.exceptions import ServiceError
from core.masking import mask_name
from coupons.forms import CouponTemplateAdminForm, VoidActionForm
from coupons.models import (
    Campaign,
    Coupon,
    CouponTemplate,
    CouponVerification,
    IssueJob,
    IssueRule,
)
from coupons.redeeming import coupon_void
from coupons.selectors import issue_jobs_visible
from members.admin import ScopedAdminMixin


@admin.register(CouponTemplate)
class CouponTemplateAdmin(admin.ModelAdmin):
    form = CouponTemplateAdminForm
    list_display = [
        "code",
        "name",
        "kind",
        "face_value_fen",
        "min_spend_fen",
        "percent_off",
        "valid_days",
        "valid_until",
        "issued_count",
        "total_quantity",
        "is_active",
    ]
    list_filter = ["kind", "is_active", "stackable"]
    search_fields = ["code", "name"]
    readonly_fields = ["issued_count", "created_at"]
    filter_horizontal = ["stores", "floors", "brands", "categories"]
    fieldsets = [
        (None, {"fields": ["code", "name", "kind", "is_active"]}),
        (
            _("Value"),
            {
                "fields": [
                    "face_value_fen",
                    "min_spend_fen",
                    "percent_off",
                    "max_discount_fen",
                    "gift_name",
                ]
            },
        ),
        (
            _("Validity"),
            {
                "fields": ["valid_days", "valid_from", "valid_until"],
                "description": _("Either days after issue, or fixed dates."),
            },
        ),
        (
            _("Where it can be used"),
            {
                "fields": ["stores", "floors", "brands", "categories", "floors_remark"],
                "description": _("Leave a list empty for no limit on it."),
            },
        ),
        (
            _("Limits"),
            {"fields": ["per_member_limit", "total_quantity", "issued_count", "stackable"]},
        ),
        (_("Shown to members"), {"fields": ["usage_notes", "color", "image"]}),
        (None, {"fields": ["created_at"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.issued_count:
            # Issued coupons keep their code and kind; amounts may still be corrected.
            fields += ["code", "kind"]
        return fields


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "channel", "issued", "used", "created_by", "created_at"]
    list_filter = ["channel"]
    search_fields = ["name"]
    readonly_fields = ["created_by", "created_at"]
    list_select_related = ["created_by"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                coupons_issued=Count("coupons"),
                coupons_used=Count("coupons", filter=Q(coupons__status=Coupon.Status.USED)),
            )
        )

    @admin.display(description=_("Issued"), ordering="coupons_issued")
    def issued(self, obj):
        return obj.coupons_issued

    @admin.display(description=_("Used"), ordering="coupons_used")
    def used(self, obj):
        return obj.coupons_used

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(IssueRule)
class IssueRuleAdmin(admin.ModelAdmin):
    list_display = ["trigger", "template", "channel", "days_before", "campaign", "is_active"]
    list_filter = ["trigger", "is_active"]
    list_select_related = ["template", "campaign"]
    autocomplete_fields = ["template", "campaign"]


@admin.register(Coupon)
class CouponAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Read-mostly: the one change is voiding an unused coupon, with a reason."""

    scope_store_field = "member__home_store"
    action_form = VoidActionForm
    actions = ["void_selected"]
    list_display = [
        "code",
        "template",
        "campaign",
        "member_card",
        "member_name",
        "status",
        "valid_until",
        "used_at",
        "used_store",
        "discount_fen",
    ]
    list_filter = ["status", "template", "campaign__channel"]
    list_select_related = ["template", "campaign", "member", "used_store"]
    search_fields = ["=code", "=member__card_no"]
    date_hierarchy = "issued_at"
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Coupon._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_void_permission(self, request):
        # Voiding takes a coupon from a member: marketing and HQ, not the service desk.
        return request.user.has_perm("coupons.delete_coupon")

    @admin.display(description=_("Card number"), ordering="member__card_no")
    def member_card(self, obj):
        return obj.member.card_no

    @admin.display(description=_("Member"))
    def member_name(self, obj):
        return mask_name(obj.member.name)

    @admin.action(description=_("Void the selected coupons"), permissions=["void"])
    def void_selected(self, request, queryset):
        reason = request.POST.get("reason", "").strip()
        if not reason:
            self.message_user(request, _("Give a reason for voiding."), messages.ERROR)
            return
        voided, refused = 0, []
        for coupon in queryset:
            try:
                coupon_void(coupon=coupon, reason=reason, actor=request.user)
            except ServiceError as exc:
                refused.append(f"{coupon.code}: {exc.message}")
            else:
                voided += 1
        if voided:
            self.message_user(
                request,
                ngettext("%(count)d coupon voided.", "%(count)d coupons voided.", voided)
                % {"count": voided},
                messages.SUCCESS,
            )
        for line in refused[:20]:
            self.message_user(request, line, messages.WARNING)


@admin.register(CouponVerification)
class CouponVerificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "terminal", "request_id", "code", "status_code"]
    list_filter = ["status_code"]
    list_select_related = ["terminal"]
    search_fields = ["=code", "=request_id"]
    date_hierarchy = "created_at"


@admin.register(IssueJob)
class IssueJobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "campaign",
        "template",
        "status",
        "total",
        "processed",
        "issued",
        "skipped",
        "created_by",
    ]
    list_filter = ["status"]
    list_select_related = ["campaign", "template", "created_by"]
    exclude = ["member_ids"]

    def get_queryset(self, request):
        visible = issue_jobs_visible(user=request.user).values("pk")
        return super().get_queryset(request).filter(pk__in=visible)
