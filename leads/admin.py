from django.contrib import admin

from .models import (
    Appointment,
    AppointmentEvent,
    AuditEntry,
    ConsentRecord,
    Customer,
    CustomerHistoryItem,
    CustomerMerge,
    Household,
    Lead,
    LeadEvent,
    LeadVehicle,
    LoyaltyRule,
    Task,
    WorkingHours,
)
from .services.leads import lead_vehicle_wanted_refresh


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["__str__", "email", "phone", "language"]
    search_fields = ["first_name", "last_name", "email", "phone"]


class LeadVehicleInline(admin.TabularInline):
    model = LeadVehicle
    extra = 0


class LeadEventInline(admin.TabularInline):
    model = LeadEvent
    extra = 0
    readonly_fields = ["type", "actor", "params", "created_at"]


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ["__str__", "status", "source", "inquiry_type", "received_at"]
    list_filter = ["status", "source", "inquiry_type"]
    list_select_related = ["customer"]
    inlines = [LeadVehicleInline, LeadEventInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        lead_vehicle_wanted_refresh(lead=form.instance)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Ledgers are append-only: the admin may look, never change."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyAdmin):
    list_display = ["customer", "channel", "action", "basis", "given_at", "expires_at", "source"]
    list_filter = ["channel", "action", "basis"]
    list_select_related = ["customer"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "model", "object_id", "action", "actor"]
    list_filter = ["model", "action"]


@admin.register(CustomerMerge)
class CustomerMergeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "target", "duplicate", "actor"]


@admin.register(CustomerHistoryItem)
class CustomerHistoryItemAdmin(admin.ModelAdmin):
    list_display = ["customer", "kind", "department", "occurred_at", "summary"]
    list_filter = ["kind", "department"]
    list_select_related = ["customer"]


@admin.register(LoyaltyRule)
class LoyaltyRuleAdmin(admin.ModelAdmin):
    list_display = ["kind", "enabled", "days", "mileage_km", "department"]

    # One rule per kind, made again by the daily run: a rule is switched off, never deleted.
    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "customer", "assignee", "due_on", "done_at"]
    list_filter = ["kind"]
    raw_id_fields = ["lead"]  # a lead number: a list of every lead would be too long to offer


admin.site.register(Household)


@admin.register(WorkingHours)
class WorkingHoursAdmin(admin.ModelAdmin):
    list_display = ["advisor", "weekday", "start", "end"]
    list_filter = ["advisor", "weekday"]


class AppointmentEventInline(admin.TabularInline):
    model = AppointmentEvent
    extra = 0
    readonly_fields = ["type", "actor", "params", "created_at"]


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    """Read-mostly: bookings, moves and outcomes go through the pages (invitations, lead status)."""

    list_display = ["__str__", "lead", "status", "sequence"]
    list_filter = ["status", "purpose", "advisor"]
    readonly_fields = ["lead", "advisor", "starts_at", "ends_at", "status", "uid", "sequence", "booked_by"]
    inlines = [AppointmentEventInline]
