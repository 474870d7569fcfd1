"""A website visitor's question about a stock vehicle becomes a lead in the CRM."""

from django.db import transaction

from leads.models import Lead
from leads.services.leads import customer_find_or_create, form_lead_submit, lead_event_add

from ..models import Vehicle
from ..selectors import WEBSITE_SOURCE, lead_vehicle_fields

# The event telling the staff which page of the website a lead was sent from (as the offers' pages do).
SENT_FROM_PAGE = "public_form"


@transaction.atomic
def vehicle_inquiry_create(
    *,
    vehicle_number: int,
    vehicle: Vehicle | None,
    first_name: str,
    last_name: str = "",
    email: str = "",
    phone: str = "",
    inquiry_type: str = "price",
    message: str = "",
    language: str | None = None,
) -> Lead:
    """A new website lead from the contact form of the page of vehicle no. `vehicle_number`; the same
    question sent again joins the lead it made (form_lead_submit).

    `vehicle`: that page's vehicle while the website shows it (vehicle_public_get); None once it no
    longer does, or when no vehicle has that number. The lead then names no vehicle, so that nothing
    sent to the visitor (the acknowledgement) tells of one kept off the website, and its timeline
    tells the staff which page the message came from, and what that vehicle is."""
    customer, _created = customer_find_or_create(
        email=email, phone=phone, first_name=first_name, last_name=last_name, language=language
    )
    lead, new = form_lead_submit(
        customer=customer,
        source=WEBSITE_SOURCE,
        inquiry_type=inquiry_type,
        language=language,
        comments=message,
        vehicles=[lead_vehicle_fields(vehicle)] if vehicle is not None else [],
    )
    # The same words sent again from another such page join the lead too: that page is told as well.
    if vehicle is None and (
        new or not lead.events.filter(type=SENT_FROM_PAGE, params__vehicle_page=vehicle_number).exists()
    ):
        lead_event_add(lead=lead, type=SENT_FROM_PAGE, **_page_off_website(vehicle_number))
    return lead


def _page_off_website(vehicle_number: int) -> dict:
    """What the staff are told of a vehicle page the website no longer shows: its number, and the
    vehicle as it is now, if there is one of that number."""
    vehicle = Vehicle.objects.filter(pk=vehicle_number).first()
    if vehicle is None:
        return {"vehicle_page": vehicle_number}
    return {"vehicle_page": vehicle_number, "vehicle": vehicle.title, "stock_number": vehicle.stock_number}
