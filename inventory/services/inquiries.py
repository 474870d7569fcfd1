"""A website visitor's question about a stock vehicle becomes a lead in the CRM."""

from django.db import transaction

from leads.models import Lead
from leads.services.leads import customer_find_or_create, lead_create

from ..models import Vehicle
from ..selectors import lead_vehicle_fields

WEBSITE_SOURCE = "Website"


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
    customer, _created = customer_find_or_create(
        email=email, phone=phone, first_name=first_name, last_name=last_name, language=language
    )
    return lead_create(
        customer=customer,
        source=WEBSITE_SOURCE,
        inquiry_type=inquiry_type,
        language=language,
        comments=message,
        vehicles=[lead_vehicle_fields(vehicle)],
    )
