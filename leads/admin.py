from django.contrib import admin

from .models import Customer, Lead, LeadEvent, LeadVehicle


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
