from django.contrib import admin

from .models import Department, StaffMember
from .services import staff_remove, staff_role_change


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "forward_email"]


@admin.register(StaffMember)
class StaffMemberAdmin(admin.ModelAdmin):
    list_display = ["__str__", "role", "department", "phone"]
    list_filter = ["role", "department"]
    list_select_related = ["user", "department"]

    def get_readonly_fields(self, request, obj=None):
        # The role's access belongs to the login account: moving the record to another account
        # would leave the first one with it.
        return ["user"] if obj else []

    def save_model(self, request, obj, form, change):
        role = obj.role
        if change and "role" in form.changed_data:
            # Saved with the old role: the service moves the person from it (its access, their tasks).
            obj.role = form.initial["role"]
        super().save_model(request, obj, form, change)
        if not change or "role" in form.changed_data:
            staff_role_change(staff=obj, role=role)

    # Deleting the record alone would leave the account in its role's group, with its access.
    def delete_model(self, request, obj):
        staff_remove(staff=obj)

    def delete_queryset(self, request, queryset):
        for staff in queryset.select_related("user"):
            staff_remove(staff=staff)
