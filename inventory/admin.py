from django.contrib import admin

from .models import Vehicle, VehicleEvent, VehiclePhoto, VehiclePriceChange


class VehiclePhotoInline(admin.TabularInline):
    model = VehiclePhoto
    extra = 0
    fields = ["position", "status", "failure_reason", "original_name"]
    readonly_fields = ["status", "failure_reason", "original_name"]


class VehiclePriceChangeInline(admin.TabularInline):
    model = VehiclePriceChange
    extra = 0
    readonly_fields = ["old_price", "new_price", "changed_by", "changed_at"]


class VehicleEventInline(admin.TabularInline):
    model = VehicleEvent
    extra = 0
    readonly_fields = ["type", "actor", "params", "created_at"]


@admin.register(Vehicle)
class VehicleAdmin(admin.ModelAdmin):
    list_display = ["stock_number", "__str__", "vin", "status", "price", "published", "in_stock_on"]
    list_filter = ["status", "condition", "published", "make"]
    search_fields = ["stock_number", "vin", "make", "model"]
    # Status and price change through the staff pages, which keep the timeline and price history.
    readonly_fields = ["status", "price", "price_changed_at", "in_stock_on", "sold_on"]
    inlines = [VehiclePhotoInline, VehiclePriceChangeInline, VehicleEventInline]
