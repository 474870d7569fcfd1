from django import forms
from django.contrib import admin

from .forms import VehicleForm, VinField
from .models import Vehicle, VehicleEvent, VehiclePhoto, VehiclePriceChange
from .services.vehicles import DESCRIPTIVE_FIELDS, vehicle_update


class HistoryInline(admin.TabularInline):
    """Shown, never edited here: photos are added, ordered and removed on the staff pages, which
    tell the website's feeds; prices and events are the vehicle's history."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False


class VehiclePhotoInline(HistoryInline):
    model = VehiclePhoto
    fields = ["position", "status", "failure_reason", "original_name"]


class VehiclePriceChangeInline(HistoryInline):
    model = VehiclePriceChange
    fields = ["old_price", "new_price", "changed_by", "changed_at"]


class VehicleEventInline(HistoryInline):
    model = VehicleEvent
    fields = ["type", "actor", "params", "created_at"]


class VehicleAdminForm(forms.ModelForm):
    vin = VinField()

    class Meta:
        model = Vehicle
        fields = ["vin", "stock_number", *DESCRIPTIVE_FIELDS, "published"]
        field_classes = VehicleForm.Meta.field_classes
        labels = VehicleForm.Meta.labels


@admin.register(Vehicle)
class VehicleAdmin(admin.ModelAdmin):
    form = VehicleAdminForm
    list_display = ["stock_number", "__str__", "vin", "status", "price", "published", "in_stock_on"]
    list_filter = ["status", "condition", "published", "make"]
    search_fields = ["stock_number", "vin", "make", "model"]
    # Status and price change through the staff pages, which keep the timeline and price history.
    readonly_fields = ["status", "price", "price_changed_at", "in_stock_on", "sold_on"]
    inlines = [VehiclePhotoInline, VehiclePriceChangeInline, VehicleEventInline]

    def has_add_permission(self, request):
        return False  # vehicles arrive through the staff pages and the stock import

    def has_delete_permission(self, request, obj=None):
        # Deleting would take the vehicle's history with it, so the feeds could never tell listing
        # sites it is gone: a vehicle leaves the website by being sold or unpublished.
        return False

    def save_model(self, request, obj, form, change):
        # Through the service, so the timeline and the website's feeds see a change made here.
        changed = {name: form.cleaned_data[name] for name in form.changed_data}
        vehicle_update(vehicle=Vehicle.objects.get(pk=obj.pk), actor=request.user, **changed)
