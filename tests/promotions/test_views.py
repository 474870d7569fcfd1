import re
from datetime import date, timedelta
from html import unescape
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from dealership.models import StaffMember
from leads.models import Appointment, Lead, LeadStatus
from leads.services.leads import lead_transition
from promotions.models import InfoShare, Promotion, PromotionStatus, SourceVisit
from promotions.selectors import promotion_results
from promotions.services.campaigns import campaign_start
from promotions.services.printing import leaflet_url
from promotions.services.promotions import promotion_transition, promotions_advance
from promotions.services.sharing import info_share_create, info_share_deliver
from tests import factories

pytestmark = pytest.mark.django_db


def _running(**fields):
    promotion = factories.promotion(**fields)
    return promotion_transition(promotion=promotion, to_status=PromotionStatus.RUNNING)


def _both(english: str, french: str) -> str:
    """A phrase of a customer's page said in both languages, each half marked as its own."""
    return f'<span lang="en">{english}</span> / <span lang="fr">{french}</span>'


def test_promotion_pages_need_login(client):
    for name in ("promotions:index", "promotions:calendar", "promotions:print", "promotions:infoshare_list"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_month_calendar_shows_every_department_and_flags_contradicting_offers(supervisor_client):
    day = date(2026, 5, 11)
    factories.crossing_cr_v_offers(day, names=("Showroom CR-V price", "Web CR-V lease"))
    factories.promotion(
        name="Radio: service week",
        is_advertising=True,
        channels=["radio_tv"],
        department_code="service",
        starts_on=day,
        ends_on=day,
    )
    factories.promotion(name="June thing", starts_on=date(2026, 6, 20), ends_on=date(2026, 6, 21))
    page = supervisor_client.get(reverse("promotions:calendar"), {"view": "month", "date": "2026-05-20"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "May 2026" in html and "Showroom CR-V price" in html and "Radio: service week" in html
    assert "June thing" not in html
    assert "Same models (Honda CR-V)" in html
    assert "?view=month&amp;date=2026-04-01" in html and "?view=month&amp;date=2026-06-01" in html


def test_the_calendar_reads_the_audiences_of_started_campaigns_in_queries_that_do_not_grow(
    supervisor_client,
):
    monday = date(2026, 5, 11)
    for _ in range(2):
        factories.customer_with_email_consent()

    def started(count: int) -> None:
        for n in range(count):
            campaign_start(campaign=factories.campaign(send_on=monday + timedelta(days=n % 5)))

    def calendar_queries() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as queries:
            page = supervisor_client.get(
                reverse("promotions:calendar"), {"view": "week", "date": "2026-05-13"}
            )
        return len(queries), page.content.decode()

    calendar_queries()  # the first page also reads the user's permissions
    started(2)
    few, html = calendar_queries()
    assert html.count("Same customers the same week (2 customer(s) in both audiences)") == 1
    started(4)
    many, html = calendar_queries()
    # six campaigns to the same two customers: every pair of them is flagged
    assert html.count("Same customers the same week (2 customer(s) in both audiences)") == 15
    assert many == few


def test_week_calendar_lists_what_starts_and_ends_this_week(supervisor_client):
    from django.utils import timezone

    today = timezone.localdate()
    factories.promotion(name="Starts today", starts_on=today, ends_on=today + timedelta(days=30))
    factories.promotion(name="Ends today", starts_on=today - timedelta(days=30), ends_on=today)
    html = supervisor_client.get(reverse("promotions:calendar"), {"view": "week"}).content.decode()
    assert "Week of" in html
    starting, ending = html.split("Ending this week")
    assert "Starts today" in starting.split("Starting this week")[1] and "Ends today" in ending


@pytest.mark.parametrize("day", ["31/02/2026", "0001-01-01", "0001-01-03", "9999-12-31"])
@pytest.mark.parametrize("view", ["month", "week"])
def test_a_calendar_date_unreadable_or_out_of_reach_falls_back_to_today(supervisor_client, day, view):
    response = supervisor_client.get(reverse("promotions:calendar"), {"date": day, "view": view})
    shown = response.context["calendar"]
    assert response.status_code == 200 and shown.start <= timezone.localdate() <= shown.end


def test_the_promotion_list_ignores_a_status_filter_edited_by_hand(supervisor_client):
    factories.promotion(name="Summer event")
    for status in ("draft\x00", "no-such-status"):
        response = supervisor_client.get(reverse("promotions:index"), {"status": status})
        assert response.status_code == 200 and "Summer event" in response.content.decode(), status


def test_the_status_choices_on_the_promotion_pages_are_named_for_a_screen_reader(supervisor_client):
    promotion = factories.promotion(name="Summer event")
    listing = supervisor_client.get(reverse("promotions:index")).content.decode()
    assert re.search(r'<select name="status" aria-label="Status"', listing)
    detail = supervisor_client.get(reverse("promotions:detail", args=[promotion.pk])).content.decode()
    assert re.search(r'<label[^>]* for="id_status"[^>]*>Status</label>', detail)
    assert '<select name="status" id="id_status">' in detail


def test_a_calendar_chip_says_its_promotions_status_in_words_not_only_in_colour(supervisor_client):
    day = date(2026, 5, 12)
    factories.promotion(name="Draft event", starts_on=day, ends_on=day)
    _running(name="Running event", starts_on=timezone.localdate(), ends_on=timezone.localdate())
    for name, status, when in (
        ("Draft event", "Draft", day),
        ("Running event", "Running", timezone.localdate()),
    ):
        html = supervisor_client.get(
            reverse("promotions:calendar"), {"view": "week", "date": when}
        ).content.decode()
        chip = re.search(rf'<a class="[^"]*promo-chip[^>]*>[^<]*{name}.*?</a>', html, re.S).group(0)
        assert f'<span class="visually-hidden">({status})</span>' in chip, chip


def test_the_promotion_form_shows_errors_and_keeps_what_was_typed(supervisor_client):
    data = {
        "name": "Summer event",
        "starts_on": "2026-07-10",
        "ends_on": "2026-07-01",
        "channels": ["website", "print"],
        "department": factories.department("sales").pk,
        "landing_slug": "summer-event",
        "models_text": "Toyota, RAV4, 2026\nToyota; Corolla",
        "stock_text": "NOPE1",
        "fee_freight_pdi": "1995",
    }
    response = supervisor_client.post(reverse("promotions:new"), data)
    html = response.content.decode()
    assert response.status_code == 200 and not Promotion.objects.exists()
    assert "The promotion cannot end before it starts." in html
    assert "Write each model as make, model, year: Toyota; Corolla" in html
    assert "Not in the inventory: NOPE1" in html
    assert 'value="Summer event"' in html and "Toyota, RAV4, 2026" in html and 'value="1995"' in html


def test_a_models_line_longer_than_a_make_or_a_model_may_be_is_refused_on_the_form(supervisor_client):
    today = timezone.localdate()
    line = "Toyota RAV4 Hybrid XSE Premium with the Technology Package and mats"  # no commas: all a make
    data = {
        "name": "Spring RAV4",
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=3)).isoformat(),
        "channels": ["website"],
        "department": factories.department("sales").pk,
        "landing_slug": "spring-rav4",
        "models_text": f"Toyota, RAV4, 2026\n{line}",
    }
    response = supervisor_client.post(reverse("promotions:new"), data)
    html = response.content.decode()
    assert response.status_code == 200 and not Promotion.objects.exists()
    assert f"A make is at most 60 characters and a model 60; separate them with commas: {line}<" in html
    assert f"Toyota, RAV4, 2026\n{line}" in html  # the textarea keeps every line typed


def test_pasted_stock_is_looked_up_in_queries_that_do_not_grow_with_the_lines():
    from promotions.forms import PromotionForm

    civic = factories.vehicle(make="Honda", model="Civic", stock_number="H100")
    rav4 = factories.vehicle(make="Toyota", model="RAV4", stock_number="T200")
    cx5 = factories.vehicle(make="Mazda", model="CX-5", stock_number="M300")

    def checked(stock_text: str) -> tuple[int, PromotionForm]:
        form = PromotionForm(
            {
                "name": "Stock days",
                "starts_on": "2026-07-01",
                "ends_on": "2026-07-10",
                "channels": ["website"],
                "department": factories.department("sales").pk,
                "landing_slug": "stock-days",
                "stock_text": stock_text,
            }
        )
        with CaptureQueriesContext(connection) as queries:
            form.is_valid()
        return len(queries), form

    one, form = checked("H100")
    assert form.cleaned_data["stock_text"] == [civic]
    # By stock number in any case or by VIN, one a line, in the order pasted.
    many, form = checked(f"m300\n{rav4.vin.lower()}\nH100")
    assert form.cleaned_data["stock_text"] == [cx5, rav4, civic]
    assert many == one
    unknown, form = checked("NOPE1\nH100\nNOPE2")
    assert form.errors["stock_text"] == ["Not in the inventory: NOPE1, NOPE2"]
    assert unknown == one


def test_creating_a_promotion_then_publishing_it_checks_the_all_in_price(supervisor_client, settings):
    settings.STORE = {**settings.STORE, "province": "QC"}
    civic = factories.vehicle(make="Honda", model="Civic", stock_number="H100")
    response = supervisor_client.post(
        reverse("promotions:new"),
        {
            "name": "Civic days",
            "starts_on": timezone.localdate().isoformat(),
            "ends_on": (timezone.localdate() + timedelta(days=9)).isoformat(),
            "channels": ["website"],
            "department": factories.department("sales").pk,
            "landing_slug": "civic-days",
            "models_text": "Honda, Civic",
            "stock_text": "H100",
            "offer_kind": "price",
            "advertised_price": "27995",
            "fee_freight_pdi": "1995",
        },
    )
    promotion = Promotion.objects.get()
    assert response["Location"] == reverse("promotions:detail", args=[promotion.pk])
    assert promotion.fees == {"freight_pdi": {"amount": "1995", "included": False}}
    assert list(promotion.vehicles.all()) == [civic]
    detail = supervisor_client.get(response["Location"]).content.decode()
    assert "Cannot be published as it is" in detail
    response = supervisor_client.post(
        reverse("promotions:transition", args=[promotion.pk]), {"status": "scheduled"}, follow=True
    )
    assert "cannot be published: Freight and PDI ($1,995.00) must be included" in response.content.decode()
    promotion.refresh_from_db()
    assert promotion.status == PromotionStatus.DRAFT


def test_landing_page_is_public_counts_the_visit_and_turns_the_form_into_an_attributed_lead(client):
    promotion = _running(
        name="CX-5 event", landing_slug="cx5-event", models=[{"make": "Mazda", "model": "CX-5"}]
    )
    url = reverse("offers:landing", args=["cx5-event"]) + f"?src=leaflet-{promotion.tracking_code}"
    in_stock = factories.vehicle(make="Mazda", model="CX-5", year=2024, stock_number="M123")
    factories.vehicle(make="Mazda", model="CX-30", stock_number="M124")
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200 and "CX-5 event" in html
    assert "M123" in html and "M124" not in html  # the stock of the models it covers
    assert SourceVisit.objects.get().count == 1
    response = client.post(
        url,
        {
            "first_name": "Léa",
            "email": "lea@example.com",
            "language": "fr",
            "vehicle": f"stock-{in_stock.pk}",
            "comments": "Prix ?",
        },
    )
    assert response["Location"] == reverse("offers:thanks")
    lead = Lead.objects.get()
    assert lead.promotion == promotion and f"leaflet-{promotion.tracking_code}" in lead.source
    wanted = lead.vehicles.get()
    assert (wanted.stock_number, wanted.vin, wanted.model) == ("M123", in_stock.vin, "CX-5")


def test_a_landing_form_sent_twice_is_one_lead_another_vehicle_or_question_is_another(client):
    _running(landing_slug="cx5-event", models=[{"make": "Mazda", "model": "CX-5"}])
    cx5 = factories.vehicle(make="Mazda", model="CX-5", stock_number="M123")
    other_cx5 = factories.vehicle(make="Mazda", model="CX-5", stock_number="M125")
    url = reverse("offers:landing", args=["cx5-event"])
    form = {"first_name": "Léa", "email": "lea@example.com", "language": "fr", "comments": "Prix ?"}
    for _ in range(2):  # a double click, or Send pressed again
        assert client.post(url, form | {"vehicle": f"stock-{cx5.pk}"})["Location"] == reverse("offers:thanks")
    lead = Lead.objects.get()
    assert list(lead.events.values_list("type", flat=True)) == ["created", "public_form", "customer_wrote"]
    client.post(url, form | {"vehicle": f"stock-{other_cx5.pk}"})
    client.post(url, form | {"vehicle": f"stock-{cx5.pk}", "comments": "Essai routier samedi ?"})
    assert Lead.objects.count() == 3


def test_the_contact_form_sent_again_after_its_lead_closed_is_a_new_lead(client):
    form = {"first_name": "Kim", "phone": "416 555 0199", "language": "en", "comments": "Call me"}
    client.post(reverse("offers:index"), form)
    client.post(reverse("offers:index"), form)
    lead = Lead.objects.get()
    lead_transition(lead=lead, to_status=LeadStatus.LOST, reason="No answer")
    client.post(reverse("offers:index"), form)
    assert Lead.objects.count() == 2


def test_the_offer_pages_give_the_stores_number_to_tap_and_call(client, settings):
    settings.STORE = settings.STORE | {"phone": "+1 416 555 0100"}
    _running(name="CX-5 event", landing_slug="cx5-event")
    for url in (reverse("offers:landing", args=["cx5-event"]), reverse("offers:index")):
        page = client.get(url).content.decode()
        assert '<a href="tel:+14165550100">+1 416 555 0100</a>' in page, url


def test_the_offer_pages_mark_each_language_for_a_screen_reader_to_read_it_in_its_own_voice(client):
    _running(name="CX-5 event", landing_slug="cx5-event", models=[{"make": "Mazda", "model": "CX-5"}])
    landing = client.get(reverse("offers:landing", args=["cx5-event"])).content.decode()
    offers = client.get(reverse("offers:index")).content.decode()
    thanks = client.get(reverse("offers:thanks")).content.decode()
    for page, phrases in (
        (
            landing,
            [
                ("Until", "jusqu'au"),
                ("Models", "Modèles"),
                ("Contact us", "Écrivez-nous"),
                ("Offer code", "code de l'offre"),
                ("First name", "Prénom"),  # the form's labels
                ("Phone", "Téléphone"),
                ("Send", "Envoyer"),
            ],
        ),
        (offers, [("current offers", "offres en cours"), ("until", "jusqu'au"), ("Email", "Courriel")]),
        (thanks, [("Thank you!", "Merci !"), ("Current offers", "Offres en cours")]),
    ):
        for english, french in phrases:
            assert _both(english, french) in page, english


def test_a_refusal_on_an_offer_page_marks_each_language(client):
    _running(landing_slug="open-house")
    html = client.post(
        reverse("offers:landing", args=["open-house"]), {"first_name": "Sam", "language": "en"}
    ).content.decode()
    assert (
        _both("Give an email or a phone number so we can answer.", "Indiquez un courriel ou un téléphone.")
        in html
    )


def test_landing_form_errors_keep_the_input(client):
    _running(landing_slug="open-house")
    response = client.post(
        reverse("offers:landing", args=["open-house"]),
        {"first_name": "Sam", "language": "en", "comments": "Hi there"},
    )
    html = response.content.decode()
    assert response.status_code == 200 and not Lead.objects.exists()
    assert "Give an email or a phone number" in html and 'value="Sam"' in html and "Hi there" in html


def test_an_offer_page_refuses_a_phone_that_is_no_number_rather_than_keep_a_lead_nobody_can_answer(client):
    _running(landing_slug="open-house")
    response = client.post(
        reverse("offers:landing", args=["open-house"]),
        {"first_name": "Ana", "phone": "555-0199", "language": "en", "comments": "Please call me"},
    )
    html = response.content.decode()
    assert response.status_code == 200 and not Lead.objects.exists()
    assert "This phone number does not look complete; check it." in html
    assert "Give an email or a phone number" not in html  # one was given: its own error says what is wrong
    assert 'value="555-0199"' in html and "Please call me" in html


@pytest.mark.parametrize("phone", ["514 555-0122 poste 22", "514 555-0122 ext 22", "+1 514 555 0122"])
def test_an_offer_page_takes_a_number_with_its_extension_in_french_or_english(client, phone):
    _running(landing_slug="open-house")
    response = client.post(
        reverse("offers:landing", args=["open-house"]),
        {"first_name": "Ana", "phone": phone, "language": "fr", "comments": "Appelez-moi"},
    )
    assert response.status_code == 302
    assert Lead.objects.get().customer.phone == "+15145550122"


def test_a_phone_extension_sent_from_an_offer_page_is_on_the_customer_card_once(client, supervisor):
    _running(landing_slug="open-house")
    form = {"first_name": "Ana", "phone": "514 555-0122 poste 22", "language": "fr"}
    # Sent, sent again, then another question with the same number.
    for comments in ("Appelez-moi", "Appelez-moi", "Plutôt le soir, svp"):
        client.post(reverse("offers:landing", args=["open-house"]), form | {"comments": comments})
    [customer] = {lead.customer_id for lead in Lead.objects.all()}
    client.force_login(supervisor.user)
    card = client.get(reverse("leads:customer_detail", args=[customer])).content.decode()
    assert card.count("Phone: (514) 555-0122, extension 22") == 1


def test_landing_page_of_a_draft_promotion_is_not_found(client):
    factories.promotion(landing_slug="not-yet")
    assert client.get(reverse("offers:landing", args=["not-yet"])).status_code == 404


def test_an_ended_offers_link_says_it_ended_shows_what_is_on_and_takes_a_message_credited_to_it(client):
    ended = _running(name="Summer tire event", landing_slug="summer-tires")
    promotion_transition(promotion=ended, to_status="ended")
    _running(name="Winter lease", landing_slug="winter-lease")
    url = reverse("offers:landing", args=["summer-tires"]) + "?src=leaflet"
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 410  # gone: search engines drop it, a visitor still reads the page
    assert "“Summer tire event” ended on" in html and "Cette offre a pris fin" in html
    assert reverse("offers:landing", args=["winter-lease"]) in html
    response = client.post(
        url, {"first_name": "Sam", "email": "sam@example.net", "language": "en", "comments": "Still on?"}
    )
    assert response.status_code == 302
    lead = Lead.objects.get()
    # The offer ended, but its link brought the customer: the lead and the visit count for it.
    assert (lead.customer.email, lead.promotion) == ("sam@example.net", ended)
    assert SourceVisit.objects.get(src="leaflet").promotion == ended


def test_a_print_only_promotion_has_a_landing_page_for_its_leaflet_that_counts_the_visit(client):
    promotion = _running(name="Flyer days", landing_slug="flyer-only", channels=["print"])
    src = f"leaflet-{promotion.tracking_code}"
    response = client.get(reverse("offers:landing", args=["flyer-only"]), {"src": src})
    assert response.status_code == 200 and "Flyer days" in response.content.decode()
    assert SourceVisit.objects.get(src=src).promotion == promotion
    promotion_transition(promotion=promotion, to_status="ended")
    assert client.get(reverse("offers:landing", args=["flyer-only"]), {"src": src}).status_code == 410


def test_the_leaflet_of_a_radio_promotion_credits_it_with_the_visit_and_the_lead_of_the_offers_page(
    client, supervisor
):
    promotion = _running(name="Tent sale", channels=["radio_tv", "in_store"])
    src = f"leaflet-{promotion.tracking_code}"
    leaflet = urlsplit(leaflet_url(promotion))
    page = client.get(f"{leaflet.path}?{leaflet.query}")
    assert page.status_code == 200 and _both("Contact us", "Écrivez-nous") in page.content.decode()
    client.post(
        f"{leaflet.path}?{leaflet.query}",
        {"first_name": "Lee", "email": "lee@example.com", "language": "en", "src": src},
    )
    lead = Lead.objects.get()
    assert (lead.promotion, lead.source) == (promotion, f"Website contact form ({src})")
    results = promotion_results(promotion=promotion, user=supervisor.user)
    assert list(results["leads"]) == [lead]
    assert results["visits"] == [{"src": src, "total": 1}]


def test_a_radio_only_promotion_has_no_landing_page(client):
    _running(landing_slug="on-air", channels=["radio_tv"])
    assert client.get(reverse("offers:landing", args=["on-air"])).status_code == 404


def test_business_card_link_records_its_source_on_the_general_contact_form(client):
    _running(name="Open house", landing_slug="open-house")
    page = client.get(reverse("offers:index") + "?src=card-advisor1")
    assert "Open house" in page.content.decode()
    client.post(
        reverse("offers:index") + "?src=card-advisor1",
        {"first_name": "Kim", "phone": "416 555 0199", "language": "en", "src": "card-advisor1"},
    )
    lead = Lead.objects.get()
    assert lead.source == "Website contact form (card-advisor1)"
    assert lead.events.get(type="public_form").params["src"] == "card-advisor1"
    assert SourceVisit.objects.get(src="card-advisor1").count == 1


def test_promotion_detail_lists_its_leads_and_pdfs_download(supervisor_client):
    promotion = factories.promotion(name="Tire days")
    factories.lead(promotion=promotion, customer_obj=factories.customer(first_name="Zoe", last_name="Lam"))
    html = supervisor_client.get(reverse("promotions:detail", args=[promotion.pk])).content.decode()
    assert "Zoe Lam" in html and promotion.tracking_code in html
    leaflet = supervisor_client.get(reverse("promotions:leaflet", args=[promotion.pk]))
    assert leaflet["Content-Type"] == "application/pdf" and leaflet.content.startswith(b"%PDF")
    member = factories.staff("advisor")
    card = supervisor_client.get(reverse("promotions:business_card", args=[member.pk]))
    assert card["Content-Type"] == "application/pdf" and card.content.startswith(b"%PDF")


def test_the_promotion_page_reads_its_appointments_in_queries_that_do_not_grow(supervisor_client):
    promotion = factories.promotion(name="Tire days")
    start = factories.next_weekday_at(10)

    def booked(count: int) -> None:
        for _ in range(count):
            Appointment.objects.create(
                lead=factories.lead(promotion=promotion),
                advisor=factories.advisor(),
                starts_at=start,
                ends_at=start + timedelta(minutes=30),
            )

    def page_queries() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as queries:
            page = supervisor_client.get(reverse("promotions:detail", args=[promotion.pk]))
        return len(queries), page.content.decode()

    page_queries()  # the first page also reads the user's permissions
    booked(1)
    few, _ = page_queries()
    booked(3)
    many, html = page_queries()
    assert html.count("Test drive with Advisor Person") == 4
    assert many == few


def test_campaign_form_keeps_input_on_error_then_starts(
    supervisor_client, django_capture_on_commit_callbacks
):
    promotion = factories.running_promotion()
    url = reverse("promotions:campaign_new", args=[promotion.pk])
    response = supervisor_client.post(url, {"name": "Mailing", "subject_en": "Hi {first_name}"})
    html = response.content.decode()
    assert response.status_code == 200 and "This field is required." in html and "Hi {first_name}" in html
    # A subject on two lines, and a day outside the promotion, are refused on the form.
    response = supervisor_client.post(
        url,
        {
            "name": "Mailing",
            "send_on": "1999-01-01",
            "subject_en": "Hi\r\nBcc: everyone@example.com",
            "body_en": "Hello",
            "subject_fr": "Salut",
            "body_fr": "Bonjour",
        },
    )
    html = unescape(response.content.decode())
    assert "A subject is one line." in html and "The campaign goes out while its promotion runs" in html
    assert not promotion.campaigns.exists()
    response = supervisor_client.post(
        url,
        {
            "name": "Mailing",
            "send_on": timezone.localdate().isoformat(),
            "subject_en": "Hi",
            "body_en": "Hello",
            "subject_fr": "Salut",
            "body_fr": "Bonjour",
            "audience_language": "fr",
        },
    )
    campaign = promotion.campaigns.get()
    assert campaign.audience == {"language": "fr"}
    factories.customer(language="fr")
    with django_capture_on_commit_callbacks(execute=False):
        page = supervisor_client.post(reverse("promotions:campaign_start", args=[campaign.pk]), follow=True)
    html = page.content.decode()
    assert "Sending to 0 customer(s); 1 skipped" in html and "No valid consent: no consent recorded." in html


def test_a_campaign_is_paused_and_resumed_from_its_page(
    supervisor_client, django_capture_on_commit_callbacks
):
    factories.customer_with_email_consent()
    campaign = factories.campaign()
    with django_capture_on_commit_callbacks(execute=False):
        supervisor_client.post(reverse("promotions:campaign_start", args=[campaign.pk]))
    url = reverse("promotions:campaign_pause", args=[campaign.pk])
    page = supervisor_client.get(reverse("promotions:campaign_detail", args=[campaign.pk])).content.decode()
    assert f'action="{url}"' in page and "Pause sending" in page
    paused = supervisor_client.post(url, follow=True).content.decode()
    assert "Paused: no more mail leaves until you resume." in paused and "Resume sending" in paused
    with django_capture_on_commit_callbacks(execute=False):
        resumed = supervisor_client.post(url, {"action": "resume"}, follow=True).content.decode()
    assert "Sending again, at the steady rate." in resumed and "Pause sending" in resumed


def test_sharing_information_records_who_it_went_to(supervisor_client, supervisor):
    colleague = factories.staff("advisor", email="colleague@store.test")
    parts = factories.department("parts")
    response = supervisor_client.post(
        reverse("promotions:infoshare_new"), {"subject": "Rival offer", "text": ""}
    )
    html = response.content.decode()
    assert "Choose at least one person or department." in html and 'value="Rival offer"' in html
    response = supervisor_client.post(
        reverse("promotions:infoshare_new"),
        {
            "subject": "Rival offer",
            "text": "Their RAV4 is 0.9% this month.",
            "link": "https://rival.example/rav4",
            "staff": [colleague.pk],
            "departments": [parts.pk],
        },
    )
    assert response["Location"] == reverse("promotions:infoshare_list")
    share = InfoShare.objects.get()
    assert info_share_deliver(share=share) == ["colleague@store.test", "parts@store.test"]
    assert info_share_deliver(share=share) == ["colleague@store.test", "parts@store.test"]  # not twice
    assert len(mail.outbox) == 2 and mail.outbox[0].reply_to == [supervisor.email]
    html = supervisor_client.get(reverse("promotions:infoshare_list")).content.decode()
    assert "Rival offer" in html and "colleague@store.test, parts@store.test" in html


def test_a_mailbox_closed_for_good_is_said_and_the_others_still_get_the_information(
    supervisor_client, smtp_sink
):
    from promotions.services.sharing import info_shares_resume

    left = factories.staff(email="refused.left@store.test")  # the sink refuses it as a server would
    zoe = factories.staff(email="zoe@store.test")
    share = info_share_create(
        sent_by=None, subject="Rival offer", text="Their RAV4 is 0.9%.", staff=[left, zoe]
    )
    assert info_share_deliver(share=share) == ["zoe@store.test"]
    assert [m["To"] for m in smtp_sink.parsed()] == ["zoe@store.test"]
    share.refresh_from_db()
    assert (
        list(share.refused) == ["refused.left@store.test"]
        and "550" in share.refused["refused.left@store.test"]
    )
    InfoShare.objects.filter(pk=share.pk).update(created_at=timezone.now() - timedelta(hours=1))
    assert info_shares_resume(now=timezone.now()) == 0  # nothing left to send: not tried for two days
    html = supervisor_client.get(reverse("promotions:infoshare_list")).content.decode()
    assert "Refused by the mail server: refused.left@store.test: 550" in html
    assert "being sent" not in html


def test_a_long_link_is_shared_whole_and_one_longer_than_its_column_is_refused_on_the_form(supervisor_client):
    # A manufacturer's offer page with its tracking parameters, pasted from the browser.
    link = "https://www.toyota.ca/toyota/en/offers/rav4-hybrid?" + "&".join(
        f"utm_param{n}=value-of-the-campaign-{n}" for n in range(6)
    )
    assert len(link) > 200
    share = {
        "subject": "Toyota's new RAV4 offer",
        "text": "Look at this",
        "departments": [factories.department("sales").pk],
    }
    response = supervisor_client.post(reverse("promotions:infoshare_new"), share | {"link": link})
    assert response["Location"] == reverse("promotions:infoshare_list")
    assert InfoShare.objects.get().link == link
    response = supervisor_client.post(
        reverse("promotions:infoshare_new"), share | {"link": f"{link}&tail={'x' * 1800}"}
    )
    html = response.content.decode()
    assert response.status_code == 200 and InfoShare.objects.count() == 1
    assert "Ensure this value has at most 2000 characters" in html
    assert 'value="Toyota&#x27;s new RAV4 offer"' in html and "Look at this" in html


def test_the_shared_list_says_who_is_still_to_be_told_and_who_cannot_be(supervisor_client):
    julie = factories.staff("advisor", first_name="Julie", last_name="Roy", email="julie@store.test")
    # Recorded before people without an address were refused: nothing can ever reach Jean.
    jean = factories.staff("advisor", first_name="Jean", last_name="Sanscourriel", email="")
    old = InfoShare.objects.create(subject="Old news", text="…")
    old.staff.set([jean])
    with_julie = InfoShare.objects.create(subject="Rival offer", text="…")
    with_julie.staff.set([julie, jean])
    rows = {
        row.split("</td>")[2]: row
        for row in supervisor_client.get(reverse("promotions:infoshare_list")).content.decode().split("<tr>")
        if "</td>" in row
    }
    old_row = next(row for subject, row in rows.items() if "Old news" in subject)
    julie_row = next(row for subject, row in rows.items() if "Rival offer" in subject)
    assert "being sent" not in old_row and "Not told, no email address: Jean Sanscourriel" in old_row
    assert "being sent" in julie_row and "Not told, no email address: Jean Sanscourriel" in julie_row
    info_share_deliver(share=with_julie)
    html = supervisor_client.get(reverse("promotions:infoshare_list")).content.decode()
    assert "julie@store.test" in html and "being sent" not in html


def test_only_supervisors_managers_and_admins_may_send_a_campaign(client):
    campaign = factories.campaign()
    client.force_login(factories.staff("advisor").user)
    assert (
        "Start sending"
        not in client.get(reverse("promotions:campaign_detail", args=[campaign.pk])).content.decode()
    )
    assert client.post(reverse("promotions:campaign_start", args=[campaign.pk])).status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == "draft"


def test_editing_a_running_promotion_into_a_price_without_its_fees_is_refused(supervisor_client, settings):
    settings.STORE = {**settings.STORE, "province": "ON"}
    promotion = _running(
        name="Open house", landing_slug="open-house-2", offer_kind="price", advertised_price="30000"
    )
    response = supervisor_client.post(
        reverse("promotions:edit", args=[promotion.pk]),
        {
            "name": "Open house",
            "starts_on": promotion.starts_on.isoformat(),
            "ends_on": promotion.ends_on.isoformat(),
            "channels": ["website"],
            "department": promotion.department.pk,
            "landing_slug": "open-house-2",
            "offer_kind": "price",
            "advertised_price": "27000",
            "fee_admin": "699",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Administration fee ($699.00) must be included" in html and 'value="27000"' in html
    promotion.refresh_from_db()
    assert promotion.advertised_price == 30000 and promotion.fees == {}


def test_an_account_without_a_staff_role_opens_no_promotion_page_and_changes_nothing(client):
    promotion = factories.promotion()
    campaign = factories.campaign(promotion)
    member = factories.staff("advisor")
    factories.lead(promotion=promotion, customer_obj=factories.customer(first_name="Zoe", last_name="Lam"))
    client.force_login(factories.former_staff())
    for url in (
        reverse("promotions:index"),
        reverse("promotions:new"),
        reverse("promotions:calendar"),
        reverse("promotions:detail", args=[promotion.pk]),
        reverse("promotions:edit", args=[promotion.pk]),
        reverse("promotions:leaflet", args=[promotion.pk]),
        reverse("promotions:campaign_new", args=[promotion.pk]),
        reverse("promotions:campaign_detail", args=[campaign.pk]),
        reverse("promotions:print"),
        reverse("promotions:business_card", args=[member.pk]),
        reverse("promotions:infoshare_list"),
        reverse("promotions:infoshare_new"),
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "no staff role" in response.content.decode()
    response = client.post(reverse("promotions:transition", args=[promotion.pk]), {"status": "scheduled"})
    assert response.status_code == 403
    promotion.refresh_from_db()
    assert promotion.status == PromotionStatus.DRAFT


@pytest.mark.parametrize("role", ["supervisor", "manager", "advisor", "department"])
def test_every_staff_role_opens_the_promotion_pages(client, role):
    promotion = factories.promotion()
    campaign = factories.campaign(promotion)
    client.force_login(factories.staff(role, department_code="service").user)
    for url in (
        reverse("promotions:index"),
        reverse("promotions:detail", args=[promotion.pk]),
        reverse("promotions:campaign_detail", args=[campaign.pk]),
        reverse("promotions:print"),
    ):
        assert client.get(url).status_code == 200, url


def test_a_promotion_page_names_only_the_customers_this_person_may_see(client):
    promotion = factories.promotion()
    advisor = factories.advisor()
    factories.lead(
        promotion=promotion,
        owner=advisor.user,
        customer_obj=factories.customer(first_name="Zoe", last_name="Lam"),
    )
    factories.lead(promotion=promotion, customer_obj=factories.customer(first_name="Max", last_name="Roy"))
    url = reverse("promotions:detail", args=[promotion.pk])

    client.force_login(factories.staff("supervisor").user)
    html = client.get(url).content.decode()
    assert "Leads (2)" in html and "Zoe Lam" in html and "Max Roy" in html
    client.force_login(advisor.user)
    html = client.get(url).content.decode()
    assert "Leads (2)" in html and "Zoe Lam" in html and "Max Roy" not in html
    client.force_login(factories.staff("department", department_code="service").user)
    html = client.get(url).content.decode()
    assert "Leads (2)" in html and "Zoe Lam" not in html and "Max Roy" not in html


def test_campaign_recipients_are_listed_only_to_those_who_open_customer_records(client):
    factories.customer_with_email_consent(first_name="Zoe", last_name="Lam", email="zoe@example.com")
    campaign = factories.campaign()
    campaign_start(campaign=campaign)
    url = reverse("promotions:campaign_detail", args=[campaign.pk])
    client.force_login(factories.staff("supervisor").user)
    assert "zoe@example.com" in client.get(url).content.decode()
    client.force_login(factories.staff("department", department_code="service").user)
    html = client.get(url).content.decode()
    assert "zoe@example.com" not in html and "Zoe Lam" not in html


def test_a_source_code_edited_by_hand_is_counted_without_what_the_database_refuses(client):
    promotion = _running(landing_slug="nul-src")
    assert client.get(reverse("offers:index"), {"src": "card\x00x"}).status_code == 200
    assert client.get(reverse("offers:landing", args=["nul-src"]), {"src": "\x00"}).status_code == 200
    response = client.post(
        reverse("offers:landing", args=["nul-src"]) + "?src=qr%00",
        {"first_name": "Sam", "email": "sam@example.com", "language": "en"},
    )
    assert response.status_code == 302
    assert list(SourceVisit.objects.values_list("src", flat=True)) == ["cardx"]
    assert Lead.objects.get().source == f"Offer {promotion.tracking_code} (qr)"


def test_a_promotion_whose_price_is_not_all_in_offers_no_leaflet_and_its_link_says_why(
    supervisor_client, settings
):
    settings.STORE = {**settings.STORE, "province": "ON"}
    promotion = factories.promotion(
        name="Civic days",
        offer_kind="price",
        advertised_price="34995",
        fees={"freight_pdi": {"amount": "2100", "included": False}},
    )
    leaflet = reverse("promotions:leaflet", args=[promotion.pk])
    assert (
        leaflet
        not in supervisor_client.get(reverse("promotions:detail", args=[promotion.pk])).content.decode()
    )
    materials = supervisor_client.get(reverse("promotions:print")).content.decode()
    assert leaflet not in materials and "no leaflet until its price is all-in" in materials
    response = supervisor_client.get(leaflet, follow=True)
    assert response["Content-Type"].startswith("text/html")
    assert "cannot be published: Freight and PDI ($2,100.00) must be included" in response.content.decode()


def test_a_make_and_year_are_read_as_such_and_kept_when_the_promotion_is_edited(supervisor_client):
    promotion = factories.promotion(
        name="All 2026 Toyotas",
        models=[
            {"make": "Toyota", "year": 2026},
            {"make": "Ram", "model": "1500"},
            {"make": "Honda", "model": "Civic", "year": 2025},
        ],
    )
    page = supervisor_client.get(reverse("promotions:edit", args=[promotion.pk])).content.decode()
    models_text = unescape(re.search(r'<textarea name="models_text"[^>]*>\s*(.*?)</textarea>', page, re.S)[1])
    assert models_text.splitlines() == ["Honda, Civic, 2025", "Ram, 1500", "Toyota, , 2026"]
    data = {
        "name": "All 2026 Toyotas (renamed)",
        "starts_on": promotion.starts_on.isoformat(),
        "ends_on": promotion.ends_on.isoformat(),
        "channels": ["website"],
        "department": promotion.department.pk,
        "landing_slug": promotion.landing_slug,
        "models_text": models_text,
    }
    supervisor_client.post(reverse("promotions:edit", args=[promotion.pk]), data)
    covered = [(m.make, m.model, m.year) for m in promotion.models.all()]
    assert covered == [("Honda", "Civic", 2025), ("Ram", "1500", None), ("Toyota", "", 2026)]

    data["models_text"] = "Toyota, 2027"
    supervisor_client.post(reverse("promotions:edit", args=[promotion.pk]), data)
    assert [(m.make, m.model, m.year) for m in promotion.models.all()] == [("Toyota", "", 2027)]

    data["models_text"] = "Toyota, 2026\nHonda Civic 2025"
    html = supervisor_client.post(reverse("promotions:edit", args=[promotion.pk]), data).content.decode()
    assert "Write each model as make, model, year: Honda Civic 2025" in html
    assert [(m.make, m.model, m.year) for m in promotion.models.all()] == [("Toyota", "", 2027)]


def test_a_promotion_set_running_before_its_start_stays_as_it_was_and_says_to_schedule_it(supervisor_client):
    starts_on = timezone.localdate() + timedelta(days=10)
    promotion = factories.promotion(starts_on=starts_on, ends_on=starts_on + timedelta(days=10))
    response = supervisor_client.post(
        reverse("promotions:transition", args=[promotion.pk]), {"status": "running"}, follow=True
    )
    day = date_format(starts_on, "DATE_FORMAT")
    assert f"This promotion starts on {day}: choose Scheduled, and it will run from that day." in unescape(
        response.content.decode()
    )
    promotion.refresh_from_db()
    assert promotion.status == PromotionStatus.DRAFT


def _edit_dates(client, promotion, starts_on, ends_on):
    response = client.post(
        reverse("promotions:edit", args=[promotion.pk]),
        {
            "name": promotion.name,
            "starts_on": starts_on.isoformat(),
            "ends_on": ends_on.isoformat(),
            "channels": ["website"],
            "department": promotion.department.pk,
            "landing_slug": promotion.landing_slug,
        },
        follow=True,
    )
    assert "Promotion saved." in response.content.decode()


def test_a_running_promotion_moved_to_next_month_waits_for_it_and_one_moved_into_the_past_ends_overnight(
    supervisor_client,
):
    today = timezone.localdate()
    postponed = _running(name="Spring sale", landing_slug="spring-sale")
    finished = _running(name="Winter sale", landing_slug="winter-sale")
    _edit_dates(supervisor_client, postponed, today + timedelta(days=30), today + timedelta(days=40))
    _edit_dates(supervisor_client, finished, today - timedelta(days=10), today - timedelta(days=1))
    assert supervisor_client.get(reverse("offers:landing", args=["spring-sale"])).status_code == 404
    assert supervisor_client.get(reverse("offers:landing", args=["winter-sale"])).status_code == 410
    offers = supervisor_client.get(reverse("offers:index")).content.decode()
    assert "Spring sale" not in offers and "Winter sale" not in offers
    postponed.refresh_from_db()
    finished.refresh_from_db()
    # The edit does not end it (that could not be undone): the daily move does, if still past then.
    assert (postponed.status, finished.status) == (PromotionStatus.SCHEDULED, PromotionStatus.RUNNING)
    html = supervisor_client.get(reverse("promotions:detail", args=[postponed.pk])).content.decode()
    assert "Status: Running → Scheduled (dates changed)" in html
    assert promotions_advance(today=today + timedelta(days=1)) == {"started": 0, "ended": 1}
    finished.refresh_from_db()
    assert finished.status == PromotionStatus.ENDED


@pytest.mark.parametrize("typo", ["start_next_year", "end_last_year"])
def test_a_date_typo_corrected_at_once_leaves_the_promotion_running(supervisor_client, typo):
    today = timezone.localdate()
    starts_on, ends_on = today - timedelta(days=2), today + timedelta(days=5)
    promotion = _running(name="Fall sale", landing_slug="fall-sale", starts_on=starts_on, ends_on=ends_on)
    shift = 1 if typo == "start_next_year" else -1
    _edit_dates(
        supervisor_client,
        promotion,
        starts_on.replace(year=starts_on.year + shift),
        ends_on.replace(year=ends_on.year + shift),
    )
    _edit_dates(supervisor_client, promotion, starts_on, ends_on)  # the original dates, at once
    promotion.refresh_from_db()
    assert promotion.status == PromotionStatus.RUNNING
    assert supervisor_client.get(reverse("offers:landing", args=["fall-sale"])).status_code == 200
    if typo == "start_next_year":
        html = supervisor_client.get(reverse("promotions:detail", args=[promotion.pk])).content.decode()
        assert "Status: Scheduled → Running (dates changed)" in html


def test_an_offer_ended_before_its_end_date_says_the_day_it_ended(client):
    today = timezone.localdate()
    promotion = _running(name="Winter Civic", landing_slug="winter-civic", ends_on=today + timedelta(days=20))
    promotion_transition(promotion=promotion, to_status="ended")
    html = client.get(reverse("offers:landing", args=["winter-civic"])).content.decode()
    day = f"{today:%Y-%m-%d}"
    assert _both(f"“Winter Civic” ended on {day}.", f"Cette offre a pris fin le {day}.") in html


def test_editing_a_promotion_keeps_the_fees_its_form_does_not_ask_about(supervisor_client):
    promotion = factories.promotion(
        offer_kind="price",
        advertised_price="29995",
        fees={
            "freight_pdi": {"amount": "2100", "included": True},
            "documentation": {"amount": "499", "included": True},
        },
    )
    response = supervisor_client.post(
        reverse("promotions:edit", args=[promotion.pk]),
        {
            "name": "Renamed",
            "starts_on": promotion.starts_on.isoformat(),
            "ends_on": promotion.ends_on.isoformat(),
            "channels": ["website"],
            "department": promotion.department.pk,
            "landing_slug": promotion.landing_slug,
            "offer_kind": "price",
            "advertised_price": "29995",
            "fee_freight_pdi": "1995",
            "fee_freight_pdi_included": "on",
        },
        follow=True,
    )
    assert "Documentation: $499 (included)" in unescape(response.content.decode())
    promotion.refresh_from_db()
    assert promotion.fees == {
        "documentation": {"amount": "499", "included": True},
        "freight_pdi": {"amount": "1995", "included": True},
    }


def test_a_colleague_without_an_email_address_is_not_offered_and_nothing_is_sent_as_if_told(
    supervisor_client,
):
    factories.staff("advisor", first_name="Jean", last_name="Sanscourriel", email="")
    reachable = factories.staff("advisor", first_name="Julie", last_name="Roy")
    page = supervisor_client.get(reverse("promotions:infoshare_new")).content.decode()
    assert "Julie Roy" in page and "Sanscourriel" not in page
    assert "Only people with an email address are listed." in page
    jean = StaffMember.objects.get(user__last_name="Sanscourriel")
    response = supervisor_client.post(
        reverse("promotions:infoshare_new"),
        {"subject": "Rival offer", "text": "Their RAV4 is 0.9%.", "staff": [jean.pk, reachable.pk]},
    )
    assert response.status_code == 200 and not InfoShare.objects.exists()
    assert f"Select a valid choice. {jean.pk} is not one of the available choices." in unescape(
        response.content.decode()
    )
    with pytest.raises(ValueError, match="No email address, so they could not be told"):
        info_share_create(sent_by=None, subject="Rival offer", text="", staff=[jean])
