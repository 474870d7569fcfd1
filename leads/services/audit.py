"""The audit trail: every change to customer data, with who, when, and each value before and after."""

from ..models import AuditEntry, Customer


def changes_between(before: dict, after: dict) -> dict:
    """{field: [before, after]} for every field whose value differs (blank and missing are alike)."""
    return {
        field: [before.get(field), after.get(field)]
        for field in sorted(before.keys() | after.keys())
        if (before.get(field) or None) != (after.get(field) or None)
    }


def audit_record(
    *,
    customer: Customer | None,
    action: str,
    changes: dict,
    actor=None,
    model: str = "leads.customer",
    object_id=None,
) -> AuditEntry:
    """customer is the customer concerned (None for store settings); object_id defaults to it."""
    return AuditEntry.objects.create(
        model=model,
        object_id=str(object_id if object_id is not None else customer.pk),
        customer=customer,
        actor=actor,
        action=action,
        changes=changes,
    )
