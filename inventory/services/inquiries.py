"""A website visitor's question about a stock vehicle becomes a lead in the CRM."""

from django.db import transaction

from leads.models import Lead
from leads.services.leads import customer_find_or_create, form_lead_submit

from ..models import Vehicle
from ..selectors import WEBSITE_SOURCE, lead_vehicle_fields


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
    """A new website lead; the same question sent again joins the lead it made (form_lead_submit)."""
    customer, _created = customer_find_or_create(
        email=email, phone=phone, first_name=first_name, last_name=last_name, language=language
    )
    lead, _new = form_lead_submit(
        customer=customer,
        source=WEBSITE_SOURCE,
        inquiry_type=inquiry_type,
        language=language,
        comments=message,
        vehicles=[lead_vehicle_fields(vehicle)],
    )
    return lead
