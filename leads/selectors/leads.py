"""Reads for leads, scoped to what the person asking may see."""

from django.db.models import QuerySet

from dealership.models import Role

from ..models import Lead


def sees_every_lead(user) -> bool:
    staff = getattr(user, "staff", None)
    return user.is_superuser or bool(staff and staff.role in (Role.SUPERVISOR, Role.MANAGER, Role.ADMIN))


def lead_visible_to(*, user) -> QuerySet[Lead]:
    """Supervisors, managers and admins see every lead; an advisor only the leads assigned to them."""
    leads = Lead.objects.all()
    staff = getattr(user, "staff", None)
    if sees_every_lead(user):
        return leads
    if staff and staff.role == Role.ADVISOR:
        return leads.filter(owner=user)
    return leads.none()


def lead_list(*, user, filters: dict | None = None) -> QuerySet[Lead]:
    filters = filters or {}
    leads = lead_visible_to(user=user).select_related("customer", "owner")
    if status := filters.get("status"):
        leads = leads.filter(status=status)
    return leads.order_by("-received_at")


def lead_get(*, user, pk: int) -> Lead:
    return lead_visible_to(user=user).select_related("customer", "owner").get(pk=pk)
