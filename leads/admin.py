from django.contrib import admin

from .models import Appointment, AppointmentEvent, Customer, Lead, LeadEvent, LeadVehicle, WorkingHours


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
