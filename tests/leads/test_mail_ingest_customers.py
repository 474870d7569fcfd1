"""Machine-made leads (ADF from a lead provider): whose customer they are and what the lead keeps."""

import pytest
from django.urls import reverse

from leads.models import Customer, InboundOutcome, Lead, LeadVehicle, Message
from leads.templatetags.lead_tags import event_summary
from tests import factories

pytestmark = pytest.mark.django_db


def adf_mail(*, first: str, last: str, email: str = "", phone: str = "", vehicle: str) -> bytes:
    """An AutoTrader.ca lead as it arrives: sent by the provider, the customer only in the ADF."""
    contact = f"<name part=first>{first}</name><name part=last>{last}</name>"
    if email:
        contact += f"<email>{email}</email>"
    if phone:
        contact += f"<phone type=cell>{phone}</phone>"
    body = f"""<?xml version="1.0"?>
<?ADF VERSION "1.0"?>
<adf><prospect status=new>
<id sequence=1 source=AutoTrader.ca>AT-1</id>
<vehicle interest=buy status=used>{vehicle}</vehicle>
<customer><contact primarycontact=1>{contact}</contact><comments>Is it available?</comments></customer>
<provider><name part="full">AutoTrader.ca</name></provider>
</prospect></adf>"""
    return factories.mail(
        sender='"AutoTrader.ca" <noreply@autotrader.ca>',
        subject="AutoTrader.ca Lead",
        text=body,
        headers={"Auto-Submitted": "auto-generated", "Precedence": "bulk"},
    )


RAV4 = (
    "<year>2024</year><make>Toyota</make><model>RAV4</model><vin>2T3W1RFV0RW000001</vin><stock>N101</stock>"
)
TACOMA = "<year>2024</year><make>Toyota</make><model>Tacoma</model><stock>N202</stock>"


def test_provider_leads_without_an_email_are_two_customers_found_by_phone_and_not_acknowledged():
    marc = factories.inbound_mail(adf_mail(first="Marc", last="Roy", phone="514-555-0111", vehicle=RAV4))
    lise = factories.inbound_mail(adf_mail(first="Lise", last="Poulin", phone="438-555-0222", vehicle=TACOMA))

    assert marc.outcome == lise.outcome == InboundOutcome.NEW_LEAD
    assert marc.lead != lise.lead
    assert (marc.lead.customer.first_name, marc.lead.customer.phone, marc.lead.customer.email) == (
        "Marc",
        "+15145550111",
        "",
    )
    assert (lise.lead.customer.first_name, lise.lead.customer.phone, lise.lead.customer.email) == (
        "Lise",
        "+14385550222",
        "",
    )
    assert not Customer.objects.filter(email="noreply@autotrader.ca").exists()
    # Nobody to acknowledge by email: nothing goes back to the lead provider.
    assert not Message.objects.filter(direction="out").exists()

    # Marc's next lead, still without an email, finds him by his phone.
    again = factories.inbound_mail(adf_mail(first="Marc", last="Roy", phone="514 555 0111", vehicle=RAV4))
    assert again.lead == marc.lead and again.outcome == InboundOutcome.JOINED_LEAD
    assert Customer.objects.count() == 2


def customer_card(client, supervisor, customer_id: int) -> str:
    """The customer's page as a member of staff opens it to call them."""
    client.force_login(supervisor.user)
    return client.get(reverse("leads:customer_detail", args=[customer_id])).content.decode()


def test_a_phone_extension_in_a_providers_lead_is_on_the_customer_card_once(client, supervisor):
    lead = adf_mail(first="Marc", last="Roy", phone="514-555-0111 ext. 12", vehicle=RAV4)
    first, again = factories.inbound_mail(lead), factories.inbound_mail(lead.replace(b"AT-1", b"AT-2"))
    assert (first.outcome, again.outcome) == (InboundOutcome.NEW_LEAD, InboundOutcome.JOINED_LEAD)
    card = customer_card(client, supervisor, first.lead.customer_id)
    assert card.count("Phone: (514) 555-0111, extension 12") == 1


def test_a_phone_extension_in_a_websites_form_is_on_the_customer_card_once(client, supervisor):
    form = (
        "Prénom : Chloé\nNom : Gauthier\nCourriel : chloe@example.com\n"
        "Téléphone : 438 555 0144 poste 2\nMessage : Le RAV4 est-il encore disponible ?"
    )
    first, again = (
        factories.inbound_mail(
            factories.raw_mail(
                from_address="web@concession.example", from_name="", subject="Demande", body=form
            )
        )
        for _ in range(2)
    )
    assert (first.outcome, again.outcome) == (InboundOutcome.NEW_LEAD, InboundOutcome.JOINED_LEAD)
    card = customer_card(client, supervisor, first.lead.customer_id)
    assert card.count("Phone: (438) 555-0144, extension 2") == 1


def test_a_customer_writing_themselves_is_still_known_by_the_address_they_wrote_from():
    inbound = factories.inbound_mail(factories.raw_mail(from_address="Pat.Buyer@Example.com"))
    assert inbound.lead.customer.email == "pat.buyer@example.com"
    assert Message.objects.filter(direction="out", to_addresses=["pat.buyer@example.com"]).exists()


def test_a_second_provider_lead_for_another_vehicle_adds_it_to_the_open_lead():
    first = factories.inbound_mail(adf_mail(first="Ann", last="Lee", email="ann@example.com", vehicle=RAV4))
    second = factories.inbound_mail(
        adf_mail(first="Ann", last="Lee", email="ann@example.com", vehicle=TACOMA)
    )

    assert second.outcome == InboundOutcome.JOINED_LEAD and second.lead == first.lead
    lead = Lead.objects.get()
    assert [(v.make, v.model) for v in lead.vehicles.order_by("pk")] == [
        ("Toyota", "RAV4"),
        ("Toyota", "Tacoma"),
    ]
    assert lead.vehicle_wanted == "2024 Toyota RAV4"  # what the lead first asked about leads the inbox
    # The timeline says what the new inquiry was about and through whom it came.
    shown = event_summary(lead.events.get(type="customer_wrote"))
    assert "AutoTrader.ca" in shown and "2024 Toyota Tacoma" in shown and "RAV4" not in shown


def test_the_same_vehicle_asked_about_again_is_not_added_twice():
    factories.inbound_mail(adf_mail(first="Ann", last="Lee", email="ann@example.com", vehicle=RAV4))
    # The same RAV4 by its VIN (in other case, without its stock number) and by year, make and model.
    same_vin = "<year>2024</year><make>Toyota</make><model>RAV4</model><vin>2t3w1rfv0rw000001</vin>"
    same_model = "<year>2024</year><make>TOYOTA</make><model>Rav4</model>"
    factories.inbound_mail(adf_mail(first="Ann", last="Lee", email="ann@example.com", vehicle=same_vin))
    factories.inbound_mail(adf_mail(first="Ann", last="Lee", email="ann@example.com", vehicle=same_model))

    assert LeadVehicle.objects.count() == 1
    assert Lead.objects.get().events.filter(type="customer_wrote").count() == 2


def test_a_customer_mail_forwarded_by_a_salesperson_is_the_customers_lead_and_they_get_the_answer():
    forward = factories.mail(
        sender="Bob Advisor <bob@maplemotors.example>",
        subject="Fwd: RAV4",
        text=(
            "Can you take this one?\n\n---------- Forwarded message ---------\n"
            "From: John Smith <john.smith@example.com>\nSubject: RAV4\n\n"
            "Is the 2026 RAV4 still available?\n"
        ),
    )
    inbound = factories.inbound_mail(forward)
    lead = inbound.lead
    assert inbound.outcome == InboundOutcome.NEW_LEAD
    assert (lead.customer.email, lead.customer.first_name, lead.customer.last_name) == (
        "john.smith@example.com", "John", "Smith",
    )  # fmt: skip
    assert lead.comments == "Is the 2026 RAV4 still available?"
    # The forward stays in the conversation as it came, with the customer's words as what was
    # written, and the acknowledgement goes to the customer.
    message = lead.messages.get(direction="in")
    assert message.from_address == "bob@maplemotors.example" and "Can you take this one?" in message.body_text
    assert message.new_text == "Is the 2026 RAV4 still available?"
    assert Message.objects.filter(
        lead=lead, direction="out", to_addresses=["john.smith@example.com"]
    ).exists()
    assert not Customer.objects.filter(email="bob@maplemotors.example").exists()


def test_a_customer_who_names_the_stores_number_is_saved_with_their_own():
    raw = factories.raw_mail(
        from_address="olivia.brown@gmail.com",
        from_name="Olivia Brown",
        subject="2025 Sienna XSE",
        body="Hi, I called the store at 416-555-0100 this morning about the 2025 Sienna XSE but nobody "
        "picked up. Is it still available? You can reach me at 647-555-0162.\n\nOlivia",
    )
    factories.inbound_mail(raw)
    assert Customer.objects.get(email="olivia.brown@gmail.com").phone == "+16475550162"


def test_a_toll_free_number_a_customer_quotes_is_not_saved_as_their_phone():
    raw = factories.raw_mail(
        from_address="olivia.brown@gmail.com",
        from_name="Olivia Brown",
        subject="Sienna event",
        body="Hi, your ad said to call 1-888-555-0142 about the Sienna event. Is the 2025 Sienna XSE still "
        "available?\n\nOlivia",
    )
    factories.inbound_mail(raw)
    assert Customer.objects.get(email="olivia.brown@gmail.com").phone == ""
    raw = factories.raw_mail(
        from_address="olivia.brown@gmail.com", body="Or call me at 647-555-0162, not 1 800 555-0199."
    )
    factories.inbound_mail(raw)
    assert Customer.objects.get(email="olivia.brown@gmail.com").phone == "+16475550162"


def test_a_toll_free_number_in_a_providers_lead_is_not_saved_as_the_customers_phone():
    """The ADF's phone is read as a mail's: a toll-free number there is the provider's call line."""
    inbound = factories.inbound_mail(
        adf_mail(first="Marc", last="Roy", email="marc.roy@example.com", phone="1-877-555-0111", vehicle=RAV4)
    )
    assert inbound.outcome == InboundOutcome.NEW_LEAD
    assert (inbound.lead.customer.email, inbound.lead.customer.phone) == ("marc.roy@example.com", "")


def prospect(name: str, email: str, phone: str, model: str) -> str:
    contact = f'<name part="full">{name}</name>' + (f"<email>{email}</email>" if email else "")
    return (
        f'<prospect><id source="Honda Canada">{model}</id><vehicle interest="buy" status="new"><year>2025</year>'
        f"<make>Honda</make><model>{model}</model></vehicle>"
        f"<customer><contact>{contact}<phone>{phone}</phone></contact></customer></prospect>"
    )


def batch_mail(*prospects: str) -> bytes:
    """A maker's lead feed: several prospects in one ADF document, attached."""
    document = '<?xml version="1.0"?><?adf version="1.0"?><adf>' + "".join(prospects) + "</adf>"
    return factories.mail(
        sender="Honda Canada Leads <leads@honda.ca>",
        subject="Leads",
        text=None,
        attachments=[("leads.xml", "application/xml", document.encode())],
    )


def test_each_customer_of_a_providers_batch_gets_their_own_lead_vehicles_and_answer():
    inbound = factories.inbound_mail(
        batch_mail(
            prospect("Anne Roy", "anne.roy@example.ca", "514-555-0111", "CR-V"),
            prospect("Paul Gagné", "paul.gagne@example.ca", "450-555-0122", "Civic"),
        )
    )
    leads = {lead.customer.email: lead for lead in Lead.objects.all()}
    assert {email: [v.model for v in lead.vehicles.all()] for email, lead in leads.items()} == {
        "anne.roy@example.ca": ["CR-V"],
        "paul.gagne@example.ca": ["Civic"],
    }
    paul = leads["paul.gagne@example.ca"]
    assert (paul.customer.first_name, paul.customer.phone) == ("Paul", "+14505550122")
    # The stored mail links the first customer's lead; the other's shows the mail in its own conversation.
    assert inbound.outcome == InboundOutcome.NEW_LEAD and inbound.lead == leads["anne.roy@example.ca"]
    assert paul.messages.get(direction="in").subject == "Leads"
    assert sorted(Message.objects.filter(direction="out").values_list("to_addresses", flat=True)) == [
        ["anne.roy@example.ca"],
        ["paul.gagne@example.ca"],
    ]


def test_prospects_of_one_customer_in_a_providers_batch_are_one_lead_with_all_their_vehicles():
    factories.inbound_mail(
        batch_mail(
            prospect("Anne Roy", "anne.roy@example.ca", "514-555-0111", "CR-V"),
            prospect("Anne Roy", "", "(514) 555-0111", "Civic"),
        )
    )
    lead = Lead.objects.get()
    assert (lead.customer.email, [v.model for v in lead.vehicles.order_by("pk")]) == (
        "anne.roy@example.ca",
        ["CR-V", "Civic"],
    )


@pytest.mark.parametrize("written", ["mailto:bob.smith@example.ca", "Bob Smith &lt;bob.smith@example.ca&gt;"])
def test_a_providers_email_written_with_more_than_the_address_finds_the_customer_and_gets_the_answer(written):
    bob = factories.customer(email="bob.smith@example.ca", first_name="Bob", last_name="Smith", phone="")
    inbound = factories.inbound_mail(adf_mail(first="Bob", last="Smith", email=written, vehicle=RAV4))
    assert inbound.lead.customer == bob and Customer.objects.count() == 1
    [answer] = Message.objects.filter(direction="out")
    assert answer.to_addresses == ["bob.smith@example.ca"]
