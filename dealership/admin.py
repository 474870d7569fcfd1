from django.contrib import admin

from .models import Department, StaffMember


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "forward_email"]


@admin.register(StaffMember)
class StaffMemberAdmin(admin.ModelAdmin):
    list_display = ["__str__", "role", "department", "phone"]
    list_filter = ["role", "department"]
    list_select_related = ["user", "department"]
