"""Writes for customers and leads. Every status change goes through lead_transition."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..models import Customer, Lead, LeadEvent, LeadStatus, LeadVehicle
from ..normalize import normalize_email, normalize_phone
from ..selectors.customers import customer_match
from .customers import customer_email_add, customer_phone_add

# The lead status machine: which status may follow which.
LEAD_TRANSITIONS: dict[str, set[str]] = {
    LeadStatus.NEW: {LeadStatus.CONTACTED, LeadStatus.APPOINTMENT_SET, LeadStatus.LOST},
    LeadStatus.CONTACTED: {LeadStatus.APPOINTMENT_SET, LeadStatus.SOLD, LeadStatus.LOST},
    LeadStatus.APPOINTMENT_SET: {LeadStatus.SHOWN, LeadStatus.CONTACTED, LeadStatus.LOST},
    LeadStatus.SHOWN: {LeadStatus.SOLD, LeadStatus.APPOINTMENT_SET, LeadStatus.LOST},
    LeadStatus.SOLD: set(),
    LeadStatus.LOST: {LeadStatus.CONTACTED},
}


class TransitionError(ValueError):
    pass


def lead_event_add(*, lead: Lead, type: str, actor=None, **params) -> LeadEvent:
    return LeadEvent.objects.create(lead=lead, type=type, actor=actor, params=params)


@transaction.atomic
def customer_find_or_create(
    *,
    email: str = "",
    phone: str = "",
    first_name: str = "",
    last_name: str = "",
    language: str | None = None,
) -> tuple[Customer, bool]:
    """The customer these details belong to (any of their emails, else a phone that is really
    theirs: see customer_match); created when nobody matches. A new address or number of a known
    customer is added to their record, never lost."""
    email, phone = normalize_email(email), normalize_phone(phone)
    customer = customer_match(email=email, phone=phone, first_name=first_name, last_name=last_name)
    if customer is not None:
        # Fill what we did not know; never overwrite what the store already holds.
        changed = []
        for field, value in (
            ("email", email),
            ("phone", phone),
            ("first_name", first_name),
            ("last_name", last_name),
        ):
            if value and not getattr(customer, field):
                setattr(customer, field, value)
                changed.append(field)
        if changed:
            customer.save(update_fields=[*changed, "updated_at"])
        try:
            if email and email != customer.email:
                customer_email_add(customer=customer, email=email)
            if phone and phone != customer.phone:
                customer_phone_add(customer=customer, phone=phone)
        except ValidationError:
            pass  # a malformed address from a lead provider must not stop the lead itself
        return customer, False
    customer = Customer.objects.create(
        email=email,
        phone=phone,
        first_name=first_name,
        last_name=last_name,
        **({"language": language} if language else {}),
    )
    return customer, True


@transaction.atomic
def lead_create(
    *,
    customer: Customer,
    source: str = "",
    inquiry_type: str = "general",
    language: str | None = None,
    comments: str = "",
    received_at=None,
    vehicles: list[dict] | None = None,
    actor=None,
    **extra,
) -> Lead:
    lead = Lead.objects.create(
        customer=customer,
        source=source,
        inquiry_type=inquiry_type,
        language=language or customer.language,
        comments=comments,
        received_at=received_at or timezone.now(),
        **extra,
    )
    LeadVehicle.objects.bulk_create(LeadVehicle(lead=lead, **vehicle) for vehicle in vehicles or [])
    lead_event_add(lead=lead, type="created", actor=actor, source=source)
    return lead


@transaction.atomic
def lead_transition(*, lead: Lead, to_status: str, actor=None, reason: str = "") -> Lead:
    """Move a lead to another status if the machine allows it, recording who and why."""
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if to_status not in LEAD_TRANSITIONS.get(lead.status, set()):
        raise TransitionError(
            f"A lead that is {LeadStatus(lead.status).label.lower()} cannot become "
            f"{LeadStatus(to_status).label.lower() if to_status in LeadStatus.values else to_status!r}."
        )
    if to_status == LeadStatus.LOST and not reason.strip():
        raise TransitionError("Say why the lead was lost.")
    from_status = lead.status
    lead.status = to_status
    lead.lost_reason = reason.strip() if to_status == LeadStatus.LOST else ""
    lead.save(update_fields=["status", "lost_reason", "updated_at"])
    lead_event_add(
        lead=lead,
        type="status_changed",
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
    )
    return lead
