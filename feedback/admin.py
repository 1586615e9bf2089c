"""The Django admin of customer service: settings tables to edit, tickets to look at (their
changes go through feedback/services.py in the back office, so tickets are read-only here)."""

from django.contrib import admin

from feedback.models import (
    Compensation,
    CompensationCap,
    Department,
    FeedbackSettings,
    Handler,
    Rating,
    RatingTag,
    ServiceDay,
    ServiceHours,
    SlaTarget,
    Ticket,
    TicketEvent,
    TicketType,
)
from stores.scoping import ScopedAdminMixin


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "store", "is_active", "position"]
    list_filter = ["is_active", "store"]


@admin.register(Handler)
class HandlerAdmin(admin.ModelAdmin):
    list_display = ["employee_no", "user", "department", "contact_phone", "is_supervisor"]
    list_filter = ["department", "is_supervisor", "is_active"]
    search_fields = ["employee_no", "user__username", "user__first_name", "user__last_name"]
    raw_id_fields = ["user"]


@admin.register(TicketType)
class TicketTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "is_complaint", "position", "is_active"]
    prepopulated_fields = {"code": ["name"]}


@admin.register(RatingTag)
class RatingTagAdmin(admin.ModelAdmin):
    list_display = ["name", "is_positive", "position", "is_active"]


@admin.register(SlaTarget)
class SlaTargetAdmin(admin.ModelAdmin):
    list_display = [
        "ticket_type",
        "tier",
        "first_response_minutes",
        "resolution_minutes",
        "priority",
    ]
    list_filter = ["ticket_type", "tier"]


@admin.register(ServiceHours)
class ServiceHoursAdmin(admin.ModelAdmin):
    list_display = ["weekday", "opens", "closes"]


@admin.register(ServiceDay)
class ServiceDayAdmin(admin.ModelAdmin):
    list_display = ["date", "opens", "closes", "note"]
    date_hierarchy = "date"


@admin.register(FeedbackSettings)
class FeedbackSettingsAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return not FeedbackSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CompensationCap)
class CompensationCapAdmin(admin.ModelAdmin):
    list_display = ["role", "max_points_per_ticket", "max_coupon_value_fen_per_ticket"]


class TicketEventInline(admin.TabularInline):
    model = TicketEvent
    fields = ["created_at", "kind", "actor", "public", "text", "callback_outcome"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Ticket)
class TicketAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope_store_field = "store"
    list_display = ["number", "ticket_type", "store", "status", "handler", "created_at"]
    list_filter = ["status", "ticket_type", "store"]
    search_fields = ["number", "member__card_no"]
    list_select_related = ["ticket_type", "store", "handler"]
    inlines = [TicketEventInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Written only by feedback/services.py (the rating by the member, grants by staff)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Rating)
class RatingAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    scope_store_field = "ticket__store"
    list_display = ["ticket", "stars", "handler", "created_at"]
    list_filter = ["stars"]
    list_select_related = ["ticket", "handler"]


@admin.register(Compensation)
class CompensationAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    scope_store_field = "ticket__store"
    list_display = ["ticket", "kind", "points", "value_fen", "actor", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["ticket", "actor"]
