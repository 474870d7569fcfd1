from django.db.models import QuerySet

from .models import StaffMember


def staff_directory(*, department_code: str | None = None) -> QuerySet[StaffMember]:
    """Every active person at the store, grouped by department then name."""
    staff = StaffMember.objects.filter(user__is_active=True).select_related("user", "department")
    if department_code:
        staff = staff.filter(department__code=department_code)
    return staff.order_by("department__name", "user__last_name", "user__first_name")
