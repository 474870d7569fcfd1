from django.contrib import admin, messages
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from .models import Department, StaffMember
from .services import LeaveResult, StaffLeaveError, staff_leave, staff_remove, staff_role_change


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "forward_email"]


def _left_the_store_message(result: LeaveResult) -> str:
    lines = [gettext("%(name)s has left the store and can no longer sign in.") % {"name": result.staff}]
    if count := len(result.leads):
        lines.append(
            ngettext(
                "%(count)d open lead is back in the inbox with nobody as owner, for the supervisor to give out.",
                "%(count)d open leads are back in the inbox with nobody as owner, for the supervisor to give out.",
                count,
            )
            % {"count": count}
        )
    if count := len(result.tasks):
        lines.append(
            ngettext("%(count)d open task was handed over.", "%(count)d open tasks were handed over.", count)
            % {"count": count}
        )
    if count := len(result.appointments):
        lines.append(
            ngettext(
                "%(count)d booked appointment to come needs a new advisor: the supervisor chooses who on "
                "the Appointments page.",
                "%(count)d booked appointments to come need a new advisor: the supervisor chooses who on "
                "the Appointments page.",
                count,
            )
            % {"count": count}
        )
    return " ".join(lines)


@admin.register(StaffMember)
class StaffMemberAdmin(admin.ModelAdmin):
    list_display = ["__str__", "role", "department", "phone", "has_left"]
    list_filter = ["role", "department", "user__is_active"]
    list_select_related = ["user", "department"]
    actions = ["left_the_store"]

    def get_readonly_fields(self, request, obj=None):
        # The role's access belongs to the login account: moving the record to another account
        # would leave the first one with it.
        return ["user"] if obj else []

    def save_model(self, request, obj, form, change):
        role = obj.role
        if change and "role" in form.changed_data:
            # The service moves the person from the old role (its access, their leads and tasks)
            # before the record is saved: it locks their leads first, then the record, as a booking does.
            obj.role = form.initial["role"]
            staff_role_change(staff=obj, role=role, actor=request.user)
        super().save_model(request, obj, form, change)
        if not change:
            staff_role_change(staff=obj, role=role, actor=request.user)

    @admin.display(boolean=True, description=_("Left the store"), ordering="user__is_active")
    def has_left(self, obj: StaffMember) -> bool:
        return not obj.user.is_active

    @admin.action(description=_("Left the store"), permissions=["change"])
    def left_the_store(self, request, queryset):
        for staff in queryset.select_related("user"):
            try:
                result = staff_leave(staff=staff, actor=request.user)
            except StaffLeaveError as refusal:
                self.message_user(request, str(refusal), messages.ERROR)
            else:
                level = messages.WARNING if result.appointments else messages.SUCCESS
                self.message_user(request, _left_the_store_message(result), level)

    # Deleting the record alone would leave the account in its role's group, with its access. Someone
    # who leaves keeps their record (the action above); one with appointments or objectives cannot be
    # deleted, and the delete pages list those and point to the action.
    def delete_model(self, request, obj):
        staff_remove(staff=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for staff in queryset.select_related("user"):
            staff_remove(staff=staff, actor=request.user)
