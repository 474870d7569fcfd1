"""A website visitor's question about a stock vehicle becomes a lead in the CRM."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from leads.models import Customer, Lead
from leads.services.leads import customer_find_or_create, lead_create, lead_customer_wrote, lead_event_add

from ..models import Vehicle
from ..selectors import WEBSITE_SOURCE, lead_vehicle_fields, website_inquiry_open

# The same question sent again within this (a double click, Send pressed again) is one inquiry.
RESENT_WITHIN = timedelta(minutes=10)


@transaction.atomic
def vehicle_inquiry_create(
    *,
    vehicle: Vehicle,
    first_name: str,
    last_name: str = "",
    email: str = "",
    phone: str = "",
    inquiry_type: str = "price",
    message: str = "",
    language: str | None = None,
) -> Lead:
    """A new website lead; the same question sent again joins the lead it made, as the mail pipeline
    joins a customer writing again (one lead, one response clock, one advisor calling)."""
    customer, _created = customer_find_or_create(
        email=email, phone=phone, first_name=first_name, last_name=last_name, language=language
    )
    # Two sends at once wait for each other here, so the second finds the lead of the first.
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    now = timezone.now()
    sent_before = website_inquiry_open(
        customer=customer,
        vehicle=vehicle,
        inquiry_type=inquiry_type,
        message=message,
        since=now - RESENT_WITHIN,
    )
    if sent_before is not None:
        lead_event_add(lead=sent_before, type="customer_wrote", source=WEBSITE_SOURCE)
        return lead_customer_wrote(lead=sent_before, at=now)
    return lead_create(
        customer=customer,
        source=WEBSITE_SOURCE,
        inquiry_type=inquiry_type,
        language=language,
        comments=message,
        vehicles=[lead_vehicle_fields(vehicle)],
    )
