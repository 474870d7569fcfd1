import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats, timezone

from dealership.models import Role
from leads.business_hours import business_moment_before
from leads.models import (
    Attachment,
    Channel,
    CustomerEmail,
    FollowUpPlan,
    FollowUpStep,
    LeadStatus,
    LeadVehicle,
    Message,
    ReplyTemplate,
    Task,
)
from leads.selectors.customers import customer_address_not_on_file
from leads.services.consent import consent_grant
from leads.services.customers import customer_email_add
from leads.services.leads import contact_log, lead_customer_wrote, lead_merge, lead_transition
from leads.services.replies import reply_templates_ensure_defaults
from tests import factories
from tests.formsets import composer_fields

pytestmark = pytest.mark.django_db


def _login(client, role=Role.SUPERVISOR, **fields):
    member = factories.staff(role, **fields)
    client.force_login(member.user)
    return member.user


def _client_of(user) -> Client:
    """Another browser, logged in as `user`, beside the test's own."""
    other = Client()
    other.force_login(user)
    return other


def _leads_with_history(count: int):
    advisor = factories.staff(Role.ADVISOR).user
    for n in range(count):
        lead = factories.lead(
            owner=advisor if n % 2 else None,
            vehicles=[
                {"year": 2026, "make": "Toyota", "model": "RAV4"},
                {"make": "Honda", "interest": "trade-in"},
            ],
        )
        factories.inbound_email(lead=lead)


def _queries(client, url) -> int:
    cache.clear()  # count the queries of a page whose counts are not cached yet
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", ["/leads/", "/leads/?sort=urgent&unanswered=on&q=customer"])
def test_inbox_query_count_does_not_grow_with_the_page(client, url):
    _login(client)
    _leads_with_history(5)
    client.get(url)  # the session keeps the list's filters once, for the leads' way back to it
    few = _queries(client, url)
    _leads_with_history(45)
    assert _queries(client, url) == few
    assert few <= 10


def _attach(message, filename: str) -> Attachment:
    return Attachment.objects.create(
        message=message,
        filename=filename,
        content_type="application/pdf",
        size=3,
        file=ContentFile(b"pdf", "q.pdf"),
    )


def test_lead_page_query_count_does_not_grow_with_the_conversation(client):
    _login(client)
    reply_templates_ensure_defaults()
    lead = factories.lead(vehicles=[{"make": "Toyota"}])
    _attach(factories.inbound_email(lead=lead), "first.pdf")
    factories.inbound_email(lead=lead)
    url = reverse("leads:lead_detail", args=[lead.pk])
    few = _queries(client, url)
    attachments = [_attach(factories.inbound_email(lead=lead), f"quote-{n}.pdf") for n in range(20)]
    assert _queries(client, url) == few
    page = client.get(url).content.decode()
    for attachment in attachments:
        assert f'href="{reverse("leads:attachment_download", args=[attachment.pk])}"' in page
        assert attachment.filename in page


def test_lead_page_links_every_vehicle_to_stock_in_the_same_number_of_queries(client):
    _login(client)
    reply_templates_ensure_defaults()
    first = factories.vehicle()
    lead = factories.lead(vehicles=[{"make": "Toyota", "stock_number": first.stock_number.lower()}])
    url = reverse("leads:lead_detail", args=[lead.pk])
    one = _queries(client, url)
    more = [factories.vehicle() for _ in range(4)]
    for stock in more:
        LeadVehicle.objects.create(lead=lead, make="Toyota", vin=stock.vin.lower())
    assert _queries(client, url) == one
    page = client.get(url).content.decode()
    for stock in [first, *more]:
        assert f'href="{stock.get_absolute_url()}"' in page


def _reply_address_note(page: str) -> str:
    """What the composer says of the address the answer goes to, beside it; "" when nothing."""
    found = re.search(r'id="reply-address-not-on-file">(.*?)</p>', page, re.DOTALL)
    return html.unescape(found[1]) if found else ""


def test_an_answer_to_an_address_given_on_an_offer_form_says_it_is_not_the_address_on_file(client):
    """Someone who knows a customer's name and phone gives their own address on an offer form: it
    joins her record, their mail joins her lead, and the supervisor answering is told the answer
    would not go to her address on file."""
    chloe = factories.customer(
        first_name="Chloe", last_name="Roy", email="chloe@example.com", phone="+15145550123"
    )
    factories.lead(customer_obj=chloe)
    factories.running_promotion(name="Winter sale", landing_slug="winter-sale")
    form = {
        "first_name": "Chloe",
        "last_name": "Roy",
        "phone": "514 555 0123",
        "email": "c.roy@elsewhere.example",
        "language": "en",
        "comments": "Best price?",
    }
    assert Client().post(reverse("offers:landing", args=["winter-sale"]), form).status_code == 302
    raw = factories.raw_mail(
        from_address="c.roy@elsewhere.example", from_name="Chloe Roy", body="Answer me here from now on."
    )
    lead = factories.inbound_mail(raw).lead
    assert lead.customer_id == chloe.pk
    _login(client)
    page = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert "to c.roy@elsewhere.example" in page
    added = formats.date_format(timezone.localdate(), "F j, Y")
    assert _reply_address_note(page) == (
        f"Not the address on file (chloe@example.com): this one was added on {added} from an inquiry."
    )


def _wrote_from(lead, address: str, *, minutes_later: int) -> None:
    written = factories.inbound_email(
        lead=lead, occurred_at=timezone.now() + timezone.timedelta(minutes=minutes_later)
    )
    Message.objects.filter(pk=written.pk).update(from_address=address)


def test_an_answer_to_the_address_on_file_is_not_remarked_and_to_another_costs_one_query(
    client, django_assert_num_queries
):
    supervisor = _login(client, first_name="Sam", last_name="Gagnon")
    customer = factories.customer(email="jean@oldisp.example")
    customer_email_add(customer=customer, email="jean@work.example", actor=supervisor)
    lead = factories.lead(customer_obj=customer)
    factories.inbound_email(lead=lead)
    url = reverse("leads:lead_detail", args=[lead.pk])
    page = client.get(url).content.decode()
    assert "to jean@oldisp.example" in page and _reply_address_note(page) == ""
    with django_assert_num_queries(0):
        assert customer_address_not_on_file(customer=customer, address="jean@oldisp.example") is None
    on_file = _queries(client, url)

    _wrote_from(lead, "jean@work.example", minutes_later=1)
    page = client.get(url).content.decode()
    added = formats.date_format(timezone.localdate(), "F j, Y")
    assert "to jean@work.example" in page
    assert _reply_address_note(page) == (
        f"Not the address on file (jean@oldisp.example): this one was added on {added} by Sam Gagnon."
    )
    assert _queries(client, url) == on_file + 1

    # An address whose coming nothing records (kept from before the audit trail) is only said to
    # be another one.
    CustomerEmail.objects.create(customer=customer, email="jean@home.example")
    _wrote_from(lead, "jean@home.example", minutes_later=2)
    page = client.get(url).content.decode()
    assert _reply_address_note(page) == "Not the address on file (jean@oldisp.example)."


def test_lead_page_says_when_the_stock_vehicle_is_sold_and_links_to_its_stock_page(client):
    _login(client)
    sold = factories.vehicle(status="sold", published=False)
    lead = factories.lead(vehicles=[{"make": "Toyota", "vin": sold.vin}])
    page = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert f'href="{reverse("inventory:vehicle_detail", args=[sold.pk])}"' in page
    assert "sold</span>" in page and "in stock</span>" not in page


def test_inbox_names_customers_and_owners(client):
    _login(client)
    owner = factories.staff(Role.ADVISOR, first_name="Julie", last_name="Roy").user
    factories.lead(customer_obj=factories.customer(first_name="", last_name="", email="nobody@example.net"))
    factories.lead(customer_obj=factories.customer(first_name="Marc", last_name="Ouellet"), owner=owner)
    rows = [
        row.split("</tr>")[0] for row in client.get("/leads/").content.decode().split('class="lead-row"')[1:]
    ]
    assert "Marc Ouellet" in rows[0] and "Julie Roy" in rows[0]
    assert "nobody@example.net" in rows[1] and "—" in rows[1]


def test_inbox_filters_counts_and_htmx_partial(client):
    _login(client)
    now = timezone.now()
    overdue = factories.lead(
        customer_obj=factories.customer(first_name="Late", last_name="Larry"),
        received_at=business_moment_before(now, 60),
    )
    fresh = factories.lead(
        customer_obj=factories.customer(first_name="Fresh", last_name="Fiona"), received_at=now
    )
    page = client.get("/leads/?overdue=on").content.decode()
    assert "Late Larry" in page and "Fresh Fiona" not in page
    assert "clock-overdue" in page
    assert 'data-filter="overdue"' in page
    partial = client.get("/leads/?q=fiona", headers={"HX-Request": "true"}).content.decode()
    assert "Fresh Fiona" in partial and "Late Larry" not in partial
    assert (
        "<html" not in partial
        and 'hx-get="/leads/?q=fiona"' in partial
        and 'hx-trigger="every 15s"' in partial
    )
    assert f'href="/leads/{fresh.pk}/"' in partial and f'href="/leads/{overdue.pk}/"' not in partial


def test_each_chip_counts_what_it_lists_once_clicked_with_the_search_and_filters_kept(client):
    boss = _login(client)
    now = timezone.now()
    french = [factories.lead(language="fr", received_at=business_moment_before(now, 60)) for _ in range(2)]
    contact_log(lead=french[0], author=boss, channel=Channel.TEXT, notes="On my way")
    lost = factories.lead(language="fr", customer_obj=factories.customer(last_name="Zzlost"))
    lead_transition(lead=lost, to_status=LeadStatus.LOST, reason="Bought elsewhere")
    for _ in range(3):
        factories.lead(language="en")
    for url in ("/leads/?language=fr", "/leads/?q=Zzlost", "/leads/?status=sold&language=fr"):
        page = client.get(url).content.decode()
        links = re.findall(
            r'<a class="btn btn-sm [^"]*mb-1" href="([^"]*)"[^>]*>[^<]*<span class="badge[^"]*">(\d+)', page
        )
        assert len(links) == 12, url  # 9 chips and 3 toggles
        for link, count in links:
            listed = client.get("/leads/" + html.unescape(link)).content.decode().count('class="lead-row"')
            assert listed == int(count), (url, link)


def _unanswered_chip(html: str) -> str:
    return html.split('data-filter="unanswered"')[1].split("</a>")[0]


def test_the_inbox_refresh_brings_new_leads_and_the_new_counts(client, django_capture_on_commit_callbacks):
    _login(client)
    _leads_with_history(3)
    page = client.get("/leads/").content.decode()
    assert '<span class="badge text-bg-light">3</span>' in _unanswered_chip(page)
    with django_capture_on_commit_callbacks(execute=True):
        new = factories.lead(customer_obj=factories.customer(first_name="Nadia", last_name="New"))
    partial = client.get("/leads/", headers={"HX-Request": "true"}).content.decode()
    assert partial.count('class="lead-row"') == 4 and f'href="/leads/{new.pk}/"' in partial
    assert 'id="inbox-chips" hx-swap-oob="true"' in partial
    assert '<span class="badge text-bg-light">4</span>' in _unanswered_chip(partial)
    assert "<form" not in partial  # the filters the supervisor may be typing in stay as they are
    # While the counts are fresh, the refresh every 15 s reads only the rows.
    with CaptureQueriesContext(connection) as refresh:
        client.get("/leads/", headers={"HX-Request": "true"})
    assert len(refresh) == 1


def test_inbox_paginates_and_ignores_malformed_filters(client):
    _login(client)
    for _ in range(51):
        factories.lead()
    first = client.get("/leads/?page=1&received_from=not-a-date&owner=999999")
    assert first.status_code == 200
    body = first.content.decode()
    assert body.count('class="lead-row"') == 50 and "page=2" in body
    second = client.get("/leads/?page=2").content.decode()
    assert second.count('class="lead-row"') == 1


def test_an_inbox_owner_of_superscript_digits_is_not_applied_and_says_so(client):
    # "²".isdigit() is True, yet it is no number: the filter is refused, never a server error.
    _login(client)
    factories.lead(customer_obj=factories.customer(first_name="Ada", last_name="Lovelace"))
    response = client.get("/leads/", {"owner": "²"})
    page = response.content.decode()
    assert response.status_code == 200 and "Not applied" in page and "Ada Lovelace" in page


def test_inbox_says_which_filters_it_could_not_apply_and_never_fails_on_them(client):
    _login(client)
    factories.lead(customer_obj=factories.customer(first_name="Ada", last_name="Lovelace"))
    for query, reason in [
        ("page=200000000000000000", "Page: Ensure this value is less than or equal to 100000"),
        ("received_to=9999-12-31", "less than or equal to 9998-12-31"),
        ("received_from=2024-02-30", "Enter a valid date"),
        ("q=" + "x" * 101, "Search: Ensure this value has at most 100 characters"),
    ]:
        response = client.get(f"/leads/?{query}")
        page = response.content.decode()
        assert response.status_code == 200 and "Not applied" in page and reason in page, query
    assert "Not applied" not in client.get("/leads/?q=ada").content.decode()


def test_refiltering_keeps_the_funnel_stage_the_dashboard_linked_to(client):
    _login(client)
    page = client.get("/leads/?reached=contacted").content.decode()
    filters = page.split('id="inbox-filters"')[1].split("</form>")[0]
    assert '<input type="hidden" name="reached" value="contacted">' in filters


def test_the_funnel_stage_from_the_dashboard_shows_and_one_click_removes_it(client):
    boss = _login(client)
    factories.lead(customer_obj=factories.customer(first_name="Nora", last_name="New"))
    called = factories.lead(customer_obj=factories.customer(first_name="Carl", last_name="Called"))
    contact_log(lead=called, author=boss, channel="phone", outcome="reached")
    page = client.get("/leads/?reached=contacted&sort=urgent").content.decode()
    assert "Carl Called" in page and "Nora New" not in page
    removal = html.unescape(re.search(r'href="([^"]*)"[^>]*>Stage reached: Contacted', page).group(1))
    everything = client.get("/leads/" + removal).content.decode()
    assert "Carl Called" in everything and "Nora New" in everything
    assert "Stage reached" not in everything and "sort=urgent" in removal


def test_the_inbox_lists_a_persons_sales_whoever_owns_them_now_and_one_click_removes_the_filter(client):
    from leads.services.leads import lead_assign

    supervisor = _login(client)
    alice = factories.advisor(first_name="Alice", last_name="Seller").user
    bob = factories.advisor(first_name="Bob", last_name="Delivers").user
    sold = factories.lead(owner=alice, customer_obj=factories.customer(first_name="Sam", last_name="Sold"))
    lead_transition(lead=sold, to_status=LeadStatus.CONTACTED)
    lead_transition(lead=sold, to_status=LeadStatus.SOLD, actor=supervisor)  # Alice's sale
    lead_assign(lead=sold, owner=bob, actor=supervisor)  # Bob delivers the car
    factories.lead(owner=alice, customer_obj=factories.customer(first_name="Oona", last_name="Open"))
    page = client.get("/leads/", {"status": "all", "seller": alice.pk, "sort": "urgent"}).content.decode()
    assert "Sam Sold" in page and "Oona Open" not in page and "Not applied" not in page
    assert re.search(r"All <span[^>]*>1</span>", page)  # the chips count her sales only
    filters = page.split('id="inbox-filters"')[1].split("</form>")[0]
    assert f'<input type="hidden" name="seller" value="{alice.pk}">' in filters
    removal = html.unescape(re.search(r'href="([^"]*)"[^>]*>Sold by: Alice Seller', page).group(1))
    everything = client.get("/leads/" + removal).content.decode()
    assert "Sam Sold" in everything and "Oona Open" in everything and "Sold by" not in everything
    assert "sort=urgent" in removal
    assert "Sam Sold" not in client.get("/leads/", {"status": "all", "seller": bob.pk}).content.decode()
    # Gone from the store, she is still named, and her sales still listed.
    alice.is_active = False
    alice.save()
    cache.clear()  # the people offered are read every minute
    page = client.get("/leads/", {"status": "all", "seller": alice.pk}).content.decode()
    assert "Sam Sold" in page and "Not applied" not in page
    assert "Sold by: Alice Seller (no longer takes leads)" in page


def test_an_end_date_before_the_start_date_is_refused_and_no_date_applied(client):
    _login(client)
    factories.lead(customer_obj=factories.customer(first_name="Ada", last_name="Lovelace"))
    today = timezone.localdate()
    start, end = today + timezone.timedelta(days=3), today - timezone.timedelta(days=30)
    page = client.get(f"/leads/?received_from={start}&received_to={end}").content.decode()
    assert "Not applied" in page
    assert "Received to: Earlier than the start date: neither date was applied." in page
    assert "Ada Lovelace" in page


def test_a_search_finding_only_closed_leads_says_so_and_links_to_them(client):
    _login(client)
    lost = factories.lead(customer_obj=factories.customer(first_name="Gilles", last_name="Bérubé"))
    lead_transition(lead=lost, to_status=LeadStatus.LOST, reason="Bought elsewhere")
    page = client.get("/leads/?q=Berube").content.decode()
    assert "No leads match in “Open”; 1 in another status." in page
    show_all = html.unescape(re.search(r'href="([^"]*)">Show all<', page).group(1))
    assert f'href="/leads/{lost.pk}/"' in client.get("/leads/" + show_all).content.decode()
    # Plain browsing lists the open leads, and says so when there is none.
    browsing = client.get("/leads/").content.decode()
    assert "No leads match." in browsing and "Show all" not in browsing


def test_a_page_past_the_end_shows_the_last_page(client):
    _login(client)
    for _ in range(51):
        factories.lead()
    page = client.get("/leads/?page=7&sort=urgent").content.decode()
    assert page.count('class="lead-row"') == 1 and "No leads match." not in page
    assert "There is no page 7: this is the last page, page 2." in page
    assert "There is no page" not in client.get("/leads/?page=2&sort=urgent").content.decode()
    assert 'hx-get="/leads/?page=2&amp;sort=urgent"' in page  # the refresh stays on it
    assert 'href="?sort=urgent&amp;page=1">← Newer page' in page


def test_department_staff_are_told_leads_are_internet_sales_work_and_sent_to_their_mail(client):
    factories.lead()
    _login(client, Role.DEPARTMENT, department_code="service")
    page = client.get("/leads/").content.decode()
    assert "Leads are handled by internet sales." in page
    assert f'href="{reverse("leads:department_mail")}"' in page
    assert "No leads match." not in page and 'id="inbox-filters"' not in page


def test_a_closed_lead_never_answered_has_no_running_clock_and_is_not_waiting(client):
    _login(client)
    lost = factories.lead(
        customer_obj=factories.customer(first_name="Gone", last_name="Elsewhere"),
        received_at=timezone.now() - timezone.timedelta(days=5),
    )
    lead_transition(lead=lost, to_status=LeadStatus.LOST, reason="Bought elsewhere")
    row = client.get("/leads/?status=lost").content.decode().split('class="lead-row"')[1]
    assert "never answered" in row and "waiting" not in row
    page = client.get(reverse("leads:lead_detail", args=[lost.pk])).content.decode()
    assert "never answered" in page and "clock-overdue" not in page
    # "Unanswered" and "Overdue" list what their counts count: open leads waiting for an answer.
    for toggle in ("unanswered", "overdue"):
        assert "Gone Elsewhere" not in client.get(f"/leads/?status=all&{toggle}=on").content.decode()


def test_an_inbox_refresh_after_the_session_ended_sends_the_page_to_the_login(client):
    refresh = client.get(
        "/leads/?q=ada",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/leads/?q=ada&sort=urgent"},
    )
    assert (
        refresh.status_code == 200
        and refresh["HX-Redirect"] == "/login/?next=/leads/%3Fq%3Dada%26sort%3Durgent"
    )
    _login(client)
    page = client.get("/leads/")
    assert "HX-Request" in page["Vary"]  # a cached fragment is never shown as the page


def test_an_advisors_lead_page_offers_no_follow_up_panel_they_would_be_refused(client):
    me = _login(client, Role.ADVISOR)
    mine = reverse("leads:lead_detail", args=[factories.lead(owner=me).pk])
    page = client.get(mine).content.decode()
    assert 'id="followup-panel-slot"' not in page
    _login(client)
    assert 'id="followup-panel-slot"' in client.get(mine).content.decode()


def test_an_advisors_inbox_offers_no_follow_up_tasks_button_they_would_be_refused(client):
    _login(client, Role.ADVISOR)
    tasks = reverse("leads:task_list")
    assert f'href="{tasks}"' not in client.get(reverse("leads:inbox")).content.decode()
    assert client.get(tasks).status_code == 403
    _login(client)
    assert f'href="{tasks}"' in client.get(reverse("leads:inbox")).content.decode()


def test_advisor_cannot_open_another_advisors_lead(client):
    other = factories.staff(Role.ADVISOR).user
    theirs = factories.lead(owner=other)
    me = _login(client, Role.ADVISOR)
    mine = factories.lead(owner=me)
    assert client.get(reverse("leads:lead_detail", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("leads:lead_detail", args=[mine.pk])).status_code == 200
    assert (
        client.post(
            reverse("leads:lead_log", args=[theirs.pk]), {"channel": "note", "notes": "x"}
        ).status_code
        == 404
    )
    inbox = client.get("/leads/?status=all").content.decode()
    assert str(mine.customer) in inbox and str(theirs.customer) not in inbox


def test_department_staff_see_no_leads(client):
    lead = factories.lead()
    _login(client, Role.DEPARTMENT, department_code="service")
    assert client.get(reverse("leads:lead_detail", args=[lead.pk])).status_code == 404
    assert f'href="/leads/{lead.pk}/"' not in client.get("/leads/").content.decode()


def test_attachment_download_checks_lead_visibility(client):
    lead = factories.lead(owner=factories.staff(Role.ADVISOR).user)
    message = factories.inbound_email(lead=lead)
    attachment = Attachment.objects.create(
        message=message,
        filename="trade-in.jpg",
        content_type="image/jpeg",
        size=4,
        file=ContentFile(b"jpeg", "t.jpg"),
    )
    url = reverse("leads:attachment_download", args=[attachment.pk])
    assert client.get(url).status_code == 302  # login first
    _login(client, Role.ADVISOR)
    assert client.get(url).status_code == 404
    _login(client)
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"jpeg"
    assert 'attachment; filename="trade-in.jpg"' in response["Content-Disposition"]


def test_lead_page_shows_card_timeline_and_the_suggested_french_template(client):
    _login(client, first_name="Sophie", last_name="Tremblay")
    reply_templates_ensure_defaults()
    customer = factories.customer(first_name="Chloé", last_name="Gauthier", phone="+14385550144")
    lead = factories.lead(
        customer_obj=customer, inquiry_type="test_drive", vehicles=[{"make": "Hyundai", "model": "Tucson"}]
    )
    factories.inbound_email(
        lead=lead, body="Bonjour, je voudrais faire un essai routier du Tucson s'il vous plaît."
    )
    page = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert "Prefers <strong>email</strong>" in page
    assert '<a href="tel:+14385550144">(438) 555-0144</a>' in page  # dialled as stored, read as written
    assert "Hyundai Tucson" in page and "je voudrais faire un essai" in page
    essai = ReplyTemplate.objects.get(inquiry_type="test_drive", language="fr")
    assert f'<option value="{essai.pk}" selected>' in page
    assert "Bonjour Chloé" in page and "Sophie Tremblay" in page


def test_picking_a_template_refills_the_composer_with_and_without_htmx(client):
    _login(client)
    reply_templates_ensure_defaults()
    lead = factories.lead(customer_obj=factories.customer(first_name="Noah"))
    trade = ReplyTemplate.objects.get(inquiry_type="trade_in", language="en")
    url = reverse("leads:lead_detail", args=[lead.pk]) + f"?template={trade.pk}"
    full = client.get(url).content.decode()
    assert "The value of your trade-in" in full and "<html" in full
    partial = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "The value of your trade-in" in partial and "<html" not in partial and 'id="composer"' in partial


def test_no_template_gives_a_blank_composer(client):
    _login(client)
    reply_templates_ensure_defaults()
    lead = factories.lead(inquiry_type="price")
    url = reverse("leads:lead_detail", args=[lead.pk])
    assert "price" in client.get(url).content.decode().lower()  # the suggested template, filled in
    blank = client.get(url + "?template=", headers={"HX-Request": "true"}).content.decode()
    assert " selected>" not in blank  # "No template" stays chosen
    assert 'name="body" id="id_body" rows="12"></textarea>' in blank


def test_the_composer_offers_a_saved_renamed_or_deleted_template_at_once(client):
    _login(client)
    reply_templates_ensure_defaults()
    url = reverse("leads:lead_detail", args=[factories.lead().pk])
    assert "Spring sale" not in client.get(url).content.decode()  # the offered templates are now cached
    fields = {"inquiry_type": "general", "language": "en", "subject": "Hi", "body": "Hello", "active": "on"}
    client.post(reverse("leads:replytemplate_create"), {"name": "Spring sale", **fields})
    spring = ReplyTemplate.objects.get(name="Spring sale")
    assert f'<option value="{spring.pk}">Spring sale' in client.get(url).content.decode()
    client.post(reverse("leads:replytemplate_edit", args=[spring.pk]), {"name": "Summer sale", **fields})
    page = client.get(url).content.decode()
    assert f'<option value="{spring.pk}">Summer sale' in page and "Spring sale" not in page
    client.post(
        reverse("leads:replytemplate_edit", args=[spring.pk]), {"name": "Summer sale", **fields, "active": ""}
    )
    assert f'<option value="{spring.pk}"' not in _template_picker(client.get(url))
    general = ReplyTemplate.objects.filter(language="en", inquiry_type="general").exclude(pk=spring.pk).get()
    client.post(reverse("leads:replytemplate_delete", args=[general.pk]))
    assert f'<option value="{general.pk}"' not in _template_picker(client.get(url))


def _template_picker(response) -> str:
    """The composer's template select alone: the page's other selects list people by their ids."""
    return re.search(r'<select[^>]*name="template".*?</select>', response.content.decode(), re.S).group(0)


def test_sending_a_reply_with_a_bad_merge_field_keeps_the_text(client):
    _login(client)
    lead = factories.lead()
    response = client.post(
        reverse("leads:lead_reply", args=[lead.pk]),
        {"subject": "Hello", "body": "Dear {{ frist_name }}, my long answer", "language": "en"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "{{ frist_name }}" in page and "my long answer" in page and "Fill in or remove" in page
    assert not Message.objects.filter(direction="out").exists()


def test_a_single_brace_merge_field_is_refused_with_its_spelling_and_the_text_kept(client):
    _login(client)
    lead = factories.lead()
    response = client.post(
        reverse("leads:lead_reply", args=[lead.pk]),
        {"subject": "Hello", "body": "Hello {first_name}, my long answer", "language": "en"},
    )
    page = html.unescape(response.content.decode())
    assert response.status_code == 400 and "Hello {first_name}, my long answer</textarea>" in page
    assert (
        "Fill in or remove: {first_name}. Merge fields take two braces on each side: {{ first_name }}."
        in page
    )
    assert not Message.objects.filter(direction="out").exists()


def test_an_answer_written_while_a_colleague_answered_is_held_until_sent_anyway(client):
    reply_templates_ensure_defaults()
    sophie = _login(client, first_name="Sophie", last_name="Tremblay")
    advisor = factories.staff(Role.ADVISOR, first_name="Marc", last_name="Roy").user
    lead = factories.lead(owner=advisor, inquiry_type="price")
    marc = _client_of(advisor)
    url, reply = reverse("leads:lead_detail", args=[lead.pk]), reverse("leads:lead_reply", args=[lead.pk])
    opened = client.get(url).content.decode()
    assert 'name="send_anyway"' not in opened
    marc_answer = {**composer_fields(marc.get(url).content.decode()), "body": "Best price $33,500 today."}
    assert marc.post(reply, marc_answer).status_code == 302
    assert marc.post(reply, marc_answer).status_code == 302  # his double click: one answer
    response = client.post(reply, {**composer_fields(opened), "body": "It is $34,995, my long answer."})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Not sent: Marc Roy answered this customer on " in page
    assert "It is $34,995, my long answer.</textarea>" in page and "Best price $33,500 today." in page
    assert Message.objects.filter(lead=lead, direction="out").count() == 1
    send_anyway = re.search(r'name="send_anyway" id="id_send_anyway" value="(\d+)"', page).group(1)
    assert client.post(reply, {**composer_fields(page), "send_anyway": send_anyway}).status_code == 302
    authors = (
        Message.objects.filter(lead=lead, direction="out").order_by("pk").values_list("author", flat=True)
    )
    assert list(authors) == [advisor.pk, sophie.pk]


@pytest.mark.parametrize(("status", "said"), [("sold", "sold"), ("on_hold", "on hold")])
def test_the_composer_warns_when_the_vehicle_asked_about_is_sold_or_on_hold(client, status, said):
    _login(client)
    reply_templates_ensure_defaults()
    stock = factories.vehicle(year=2024, make="Toyota", model="RAV4", status=status)
    lead = factories.lead(
        inquiry_type="test_drive",
        vehicles=[{"year": 2024, "make": "Toyota", "model": "RAV4", "stock_number": stock.stock_number}],
    )
    url = reverse("leads:lead_detail", args=[lead.pk])
    warning = f"The 2024 Toyota RAV4 (stock {stock.stock_number}) is {said}: check the draft before sending."
    page = html.unescape(client.get(url).content.decode())
    assert warning in page and "ready for your test drive" not in page and "a similar one" in page
    picked = ReplyTemplate.objects.get(inquiry_type="financing", language="en")
    partial = client.get(url, {"template": picked.pk}, headers={"HX-Request": "true"}).content.decode()
    assert warning in html.unescape(partial)
    in_stock = factories.lead(
        inquiry_type="test_drive", vehicles=[{"stock_number": factories.vehicle().stock_number}]
    )
    assert (
        "check the draft before sending"
        not in client.get(reverse("leads:lead_detail", args=[in_stock.pk])).content.decode()
    )


def test_an_answer_written_before_the_car_was_sold_is_held_until_read_again(client):
    from inventory.services.vehicles import vehicle_transition

    _login(client)
    reply_templates_ensure_defaults()
    stock = factories.vehicle(year=2024, make="Toyota", model="RAV4", price="34995.50")
    lead = factories.lead(inquiry_type="price", vehicles=[{"vin": stock.vin}])
    url, reply = reverse("leads:lead_detail", args=[lead.pk]), reverse("leads:lead_reply", args=[lead.pk])
    opened = composer_fields(client.get(url).content.decode())
    assert "It is available" in opened["body"]
    vehicle_transition(vehicle=stock, to_status="sold", actor=None)
    refused = client.post(reply, opened)
    page = html.unescape(refused.content.decode())
    assert refused.status_code == 400 and not Message.objects.filter(direction="out").exists()
    assert "Not sent: 2024 Toyota RAV4 (sold) changed in stock after this page was opened." in page
    assert (
        f"The 2024 Toyota RAV4 (stock {stock.stock_number}) is sold: check the draft before sending." in page
    )
    assert "It is available" in page  # what was written is kept, to be changed
    # Read again with the warning in view, it goes as its writer decides.
    assert client.post(reply, composer_fields(refused.content.decode())).status_code == 302


def test_picking_another_template_asks_before_replacing_the_text_and_keeps_the_answers_shown(client):
    _login(client)
    reply_templates_ensure_defaults()
    lead = factories.lead(inquiry_type="price")
    url = reverse("leads:lead_detail", args=[lead.pk])
    # The form asks, so that both the select and "Use template" ask.
    picker = re.search(r'<form[^>]*id="template-picker"[^>]*>', client.get(url).content.decode()).group(0)
    assert 'hx-confirm="Replace the subject and message with this template?' in picker
    assert 'hx-include="#id_shown_answer"' in picker
    blank = client.get(
        url, {"template": "", "shown_answer": "0"}, headers={"HX-Request": "true"}
    ).content.decode()
    # A blank composer asks too: what has been typed in it since is not known to the page.
    assert 'hx-confirm="Replace the subject and message with this template?' in blank
    # An answer sent since the page was opened is still news to the composer the picker refills...
    factories.outbound_email(lead=lead, author=factories.staff(Role.ADVISOR).user)
    refilled = client.get(url, {"template": "", "shown_answer": "0"}, headers={"HX-Request": "true"})
    assert 'name="shown_answer" value="0"' in refilled.content.decode()
    # ...while the page reloaded without JS shows it.
    trade = ReplyTemplate.objects.get(inquiry_type="trade_in", language="en")
    reloaded = client.get(url, {"template": trade.pk}).content.decode()
    assert "The value of your trade-in" in reloaded and 'name="shown_answer" value="0"' not in reloaded


def test_a_template_picked_with_a_mangled_shown_answer_refills_the_composer(client):
    _login(client)
    reply_templates_ensure_defaults()
    lead = factories.lead(inquiry_type="price")
    trade = ReplyTemplate.objects.get(inquiry_type="trade_in", language="en")
    response = client.get(
        reverse("leads:lead_detail", args=[lead.pk]),
        {"template": trade.pk, "shown_answer": "²"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and "The value of your trade-in" in response.content.decode()


def test_an_answer_whose_unavailable_vehicles_field_came_back_mangled_is_still_sent(client):
    _login(client)
    lead = factories.lead(customer_obj=factories.customer_with_email_consent())
    response = client.post(
        reverse("leads:lead_reply", args=[lead.pk]),
        {
            "language": "en",
            "subject": "Your RAV4",
            "body": "It is still available.",
            "unavailable_shown": "²",
        },
    )
    assert response.status_code == 302
    assert Message.objects.get(lead=lead, direction="out").subject == "Your RAV4"


def _use_template_without_js(client, page: str, template, **typed):
    """The "Use template" button pressed without JS: the reply form as filled in (`typed`: what was
    written over the draft), with the template picked, sent where the button sends it."""
    select = re.search(r'<select[^>]*name="template"[^>]*>', page).group(0)
    button = re.search(r'<button[^>]*id="use-template"[^>]*>', page).group(0)
    # Without JS the select and the button are the reply form's: what was written goes with them.
    assert 'form="reply-form"' in select and 'form="reply-form"' in button
    drafted_from = re.search(r'name="drafted_from"(?: value="(\d*)")?', page).group(1) or ""
    fields = {
        **composer_fields(page),
        "drafted_from": drafted_from,
        "template": "" if template is None else template.pk,
        **typed,
    }
    return client.post(html.unescape(re.search(r'formaction="([^"]*)"', button).group(1)), fields)


def test_use_template_without_js_keeps_the_words_written_and_says_how_to_replace_them(client):
    _login(client)
    reply_templates_ensure_defaults()
    lead = factories.lead(inquiry_type="price", customer_obj=factories.customer(first_name="Noah"))
    trade = ReplyTemplate.objects.get(inquiry_type="trade_in", language="en")
    url = reverse("leads:lead_detail", args=[lead.pk])
    opened = client.get(url).content.decode()
    shown_answer = composer_fields(opened)["shown_answer"]
    factories.outbound_email(lead=lead, author=factories.staff(Role.ADVISOR).user)  # meanwhile
    response = _use_template_without_js(
        client, opened, trade, subject="About your RAV4", body="My own long answer,\r\nstill being written."
    )
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert re.search(r'name="subject"[^>]*value="About your RAV4"', page)
    assert "My own long answer,\r\nstill being written.</textarea>" in page
    assert "The value of your trade-in" not in page
    assert f'<option value="{trade.pk}" selected>' in page  # the template asked for
    assert (
        "Your subject and message were kept as you wrote them: the template you picked was not put in."
        in page
    )
    # What was written is the person's: with JS, picking a template again asks first.
    assert "data-template-draft" not in re.search(r'<form[^>]*id="reply-form"[^>]*>', page).group(0)
    # Written before the answer sent meanwhile was seen: sending it is still checked against it.
    assert f'name="shown_answer" value="{shown_answer}"' in page
    # Replacing them is asked for in so many words.
    action, replace = re.search(
        r'<form method="get" action="([^"]*)" id="replace-with-template">(.*?)</form>', page, re.S
    ).groups()
    assert "Replace my text with the template" in replace
    picked = re.search(r'name="template" value="(\d*)"', replace).group(1)
    replaced = client.get(action, {"template": picked}).content.decode()
    assert "The value of your trade-in" in replaced and "My own long answer" not in replaced


def test_use_template_without_js_replaces_the_draft_left_as_written_or_an_emptied_composer(client):
    _login(client)
    reply_templates_ensure_defaults()
    lead = factories.lead(inquiry_type="price")
    trade = ReplyTemplate.objects.get(inquiry_type="trade_in", language="en")
    url = reverse("leads:lead_detail", args=[lead.pk])
    opened = client.get(url).content.decode()
    draft = composer_fields(opened)
    assert "\n" in draft["body"]
    # The draft as the page wrote it, sent back by the browser with its lines ended by CRLF.
    response = _use_template_without_js(client, opened, trade, body=draft["body"].replace("\n", "\r\n"))
    assert response.status_code == 302 and response["Location"] == f"{url}?template={trade.pk}"
    page = client.get(response["Location"]).content.decode()
    assert "The value of your trade-in" in page and "kept as you wrote them" not in page
    # An emptied composer has nothing to lose either; "No template" leaves it blank.
    response = _use_template_without_js(client, page, None, subject="", body=" ")
    assert response.status_code == 302 and response["Location"] == f"{url}?template="
    # A draft kept as written but for a few words is the person's.
    response = _use_template_without_js(client, page, None, subject="Your trade-in, Noah")
    assert response.status_code == 200 and 'value="Your trade-in, Noah"' in response.content.decode()


def test_use_template_is_posted_for_a_lead_one_may_see(client):
    advisor = _login(client, Role.ADVISOR)
    theirs = factories.lead(owner=factories.staff(Role.ADVISOR).user)
    fields = {"subject": "Hello", "body": "My long answer", "language": "en", "template": ""}
    assert client.post(reverse("leads:lead_template_use", args=[theirs.pk]), fields).status_code == 404
    mine = reverse("leads:lead_template_use", args=[factories.lead(owner=advisor).pk])
    assert client.get(mine).status_code == 405
    assert client.post(mine, fields).status_code == 200


def test_an_answer_sent_without_js_goes_with_a_template_switched_off_since_in_the_picker(client):
    _login(client)
    reply_templates_ensure_defaults()
    lead = factories.lead(inquiry_type="price")
    url = reverse("leads:lead_detail", args=[lead.pk])
    opened = client.get(url).content.decode()
    suggested = ReplyTemplate.objects.get(inquiry_type="price", language="en")
    client.post(
        reverse("leads:replytemplate_edit", args=[suggested.pk]),
        {
            "name": suggested.name,
            "inquiry_type": "price",
            "language": "en",
            "subject": suggested.subject,
            "body": suggested.body,
            "active": "",
        },
    )
    # Without JS the template select is the reply form's: its choice is sent along, and read no more.
    fields = {**composer_fields(opened), "template": suggested.pk, "drafted_from": suggested.pk}
    assert client.post(reverse("leads:lead_reply", args=[lead.pk]), fields).status_code == 302
    assert Message.objects.filter(lead=lead, direction="out").count() == 1


def test_refused_mail_shows_a_clear_error_on_the_lead_page(
    client, smtp_sink, settings, django_capture_on_commit_callbacks, eager_celery
):
    _login(client)
    lead = factories.lead(customer_obj=factories.customer(email="refused.buyer@example.com"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("leads:lead_reply", args=[lead.pk]),
            {"subject": "Your Civic", "body": "Hello", "language": "en"},
        )
    page = client.get(response["Location"]).content.decode()
    assert "is being sent" in page
    assert "Not sent:" in page and "no such mailbox" in page and "refused.buyer@example.com" in page


def test_logging_a_call_by_htmx_adds_it_to_the_timeline_and_answers_the_lead(client):
    _login(client)
    lead = factories.lead()
    response = client.post(
        reverse("leads:lead_log", args=[lead.pk]),
        {
            "channel": "phone",
            "outcome": "reached",
            "notes": "Coming Saturday",
            "next_step": "Book test drive",
        },
        headers={"HX-Request": "true"},
    )
    page = response.content.decode()
    assert response.status_code == 200 and 'id="timeline"' in page and "Coming Saturday" in page
    assert 'hx-swap-oob="true"' in page and "<html" not in page
    header = page.split('id="lead-header"')[1]
    assert "Contacted" in header and "answered in" in header
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONTACTED and lead.first_response_at is not None
    # The status form follows the call: the next change is taken, not refused as someone else's.
    status_form = page.split('id="status-form-slot" hx-swap-oob="true"')[1]
    shown = re.search(r'name="shown_status" value="(\w+)"', status_form).group(1)
    assert shown == LeadStatus.CONTACTED
    client.post(
        reverse("leads:lead_transition", args=[lead.pk]),
        {"status": LeadStatus.APPOINTMENT_SET, "shown_status": shown},
    )
    lead.refresh_from_db()
    assert lead.status == LeadStatus.APPOINTMENT_SET


def test_logging_without_js_redirects_and_errors_keep_the_input(client):
    _login(client)
    lead = factories.lead()
    url = reverse("leads:lead_log", args=[lead.pk])
    assert client.post(url, {"channel": "note", "notes": "Called back"}).status_code == 302
    bad = client.post(url, {"channel": "phone", "notes": "Half-written"})
    assert bad.status_code == 400 and "Say how the call went." in bad.content.decode()
    assert "Half-written" in bad.content.decode()


def test_logging_by_htmx_shows_what_is_missing_and_adds_nothing(client):
    _login(client)
    lead = factories.lead()
    response = client.post(
        reverse("leads:lead_log", args=[lead.pk]),
        {"channel": "note", "notes": "  ", "next_step": "Call Monday"},
        headers={"HX-Request": "true"},
    )
    page = response.content.decode()
    assert response.status_code == 200 and "Write the note." in page and "Call Monday" in page
    assert not lead.messages.exists()


def test_a_too_long_next_step_is_shown_as_the_reason_nothing_was_logged(client):
    _login(client)
    lead = factories.lead()
    fields = {"channel": "phone", "outcome": "reached", "notes": "Kept", "next_step": "x" * 201}
    for headers in ({}, {"HX-Request": "true"}):
        page = client.post(
            reverse("leads:lead_log", args=[lead.pk]), fields, headers=headers
        ).content.decode()
        assert "at most 200 characters" in page and "Kept" in page
    assert not lead.messages.exists()


def test_a_refused_status_change_says_why(client):
    _login(client)
    lead = factories.lead()
    url = reverse("leads:lead_transition", args=[lead.pk])
    page = client.post(url, {"status": "lost", "reason": "x" * 201}, follow=True).content.decode()
    assert "at most 200 characters" in page
    page = client.post(url, {"status": "sold"}, follow=True).content.decode()  # not offered to a new lead
    assert "Select a valid choice. sold is not one of the available choices." in page
    lead_transition(lead=lead, to_status=LeadStatus.CONTACTED)
    client.post(url, {"status": "appointment_set", "reason": "typed by mistake"})
    lead.refresh_from_db()
    assert lead.status == LeadStatus.APPOINTMENT_SET
    assert lead.events.filter(type="status_changed").last().params["reason"] == ""


def test_the_status_form_starts_with_no_status_chosen_and_a_bare_click_moves_nothing(client):
    _login(client)
    lead = factories.lead()
    page = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    form = page[page.index(reverse("leads:lead_transition", args=[lead.pk])) :]
    assert '<option value="" selected>—</option>' in form[: form.index("</select>")]
    url = reverse("leads:lead_transition", args=[lead.pk])
    page = client.post(url, {"status": "", "reason": ""}, follow=True).content.decode()
    assert "Choose the new status." in page
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW


def test_a_status_chosen_on_a_page_left_open_never_reopens_a_lead_someone_closed(client):
    user = _login(client)
    lead = factories.lead()
    contact_log(lead=lead, author=user, channel="phone", outcome="reached")
    page = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert 'name="shown_status" value="contacted"' in page
    lead_transition(lead=lead, to_status=LeadStatus.LOST, reason="Bought elsewhere")  # another supervisor
    url = reverse("leads:lead_transition", args=[lead.pk])
    page = client.post(
        url, {"status": "appointment_set", "shown_status": "contacted"}, follow=True
    ).content.decode()
    assert "Someone changed this lead meanwhile: it is lost now. Check it, then choose again." in page
    lead.refresh_from_db()
    assert (lead.status, lead.lost_reason) == (LeadStatus.LOST, "Bought elsewhere")
    client.post(url, {"status": "contacted", "shown_status": "lost"})  # chosen on the page as it is now
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONTACTED


def test_a_lost_lead_nobody_reached_reopens_as_contacted_only_once_someone_has(client):
    user = _login(client)
    lead = lead_transition(lead=factories.lead(), to_status=LeadStatus.LOST, reason="No answer")
    url = reverse("leads:lead_transition", args=[lead.pk])
    page = client.post(url, {"status": "contacted", "shown_status": "lost"}, follow=True).content.decode()
    assert "Nobody has reached this customer yet: log the call, text or visit that does, then reopen" in page
    lead.refresh_from_db()
    assert lead.status == LeadStatus.LOST
    contact_log(lead=lead, author=user, channel="phone", outcome="reached")
    client.post(url, {"status": "contacted", "shown_status": "lost"})
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONTACTED and lead.first_response_at is not None


def test_status_change_lost_needs_a_reason(client):
    _login(client)
    lead = factories.lead()
    url = reverse("leads:lead_transition", args=[lead.pk])
    page = client.post(url, {"status": "lost", "reason": ""}, follow=True).content.decode()
    assert "Say why the lead was lost." in page
    client.post(url, {"status": "lost", "reason": "Bought elsewhere"})
    lead.refresh_from_db()
    assert lead.status == LeadStatus.LOST and lead.lost_reason == "Bought elsewhere"
    assert client.post(url, {"status": "sold"}, follow=True).status_code == 200
    lead.refresh_from_db()
    assert lead.status == LeadStatus.LOST


def test_spam_closed_as_not_a_lead_leaves_the_inbox_and_its_waiting_counts_and_can_be_found_again(
    client, django_capture_on_commit_callbacks
):
    _login(client)
    spam = factories.lead(
        received_at=business_moment_before(timezone.now(), 120),
        customer_obj=factories.customer(last_name="Zzspam"),
    )
    inbox = client.get("/leads/").content.decode()
    assert f'href="/leads/{spam.pk}/"' in inbox
    assert '<span class="badge text-bg-light">1</span>' in _unanswered_chip(inbox)

    page = client.get(reverse("leads:lead_detail", args=[spam.pk])).content.decode()
    form = _status_form(page)
    assert '<option value="not_a_lead">Not a lead</option>' in form and 'name="reason"' in form
    url = reverse("leads:lead_transition", args=[spam.pk])
    page = client.post(url, {"status": "not_a_lead", "reason": ""}, follow=True).content.decode()
    assert "Say why this inquiry is not a lead." in page
    with django_capture_on_commit_callbacks(execute=True):  # the inbox's counts are recounted
        client.post(url, {"status": "not_a_lead", "reason": "Spam"})
    spam.refresh_from_db()
    assert (spam.status, spam.lost_reason) == (LeadStatus.NOT_A_LEAD, "Spam")

    for listed in ("/leads/", "/leads/?unanswered=on", "/leads/?overdue=on", "/leads/?status=all"):
        assert f'href="/leads/{spam.pk}/"' not in client.get(listed).content.decode(), listed
    inbox = client.get("/leads/").content.decode()
    assert '<span class="badge text-bg-light">0</span>' in _unanswered_chip(inbox)
    # The status chips offer it: the supervisor finds the inquiry, and can reopen it.
    assert (
        'href="?status=not_a_lead"' in inbox
        and 'Not a lead <span class="badge text-bg-light">1</span>' in inbox
    )
    found = client.get("/leads/?status=not_a_lead&q=Zzspam").content.decode()
    assert f'href="/leads/{spam.pk}/"' in found
    page = client.get(reverse("leads:lead_detail", args=[spam.pk])).content.decode()
    assert '<option value="new">New</option>' in _status_form(page)
    client.post(url, {"status": "new", "shown_status": "not_a_lead"})
    assert f'href="/leads/{spam.pk}/"' in client.get("/leads/").content.decode()


def test_an_advisor_is_not_offered_to_close_an_inquiry_as_not_a_lead(client):
    advisor = _login(client, Role.ADVISOR)
    lead = factories.lead(owner=advisor)
    page = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert 'value="lost"' in _status_form(page) and 'value="not_a_lead"' not in _status_form(page)
    url = reverse("leads:lead_transition", args=[lead.pk])
    page = client.post(url, {"status": "not_a_lead", "reason": "Spam"}, follow=True).content.decode()
    assert "Only a supervisor or a manager" in html.unescape(page)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW


def test_a_leads_way_back_to_the_inbox_keeps_the_filters_sort_and_page_it_was_opened_from(client):
    _login(client)
    lead = factories.lead()
    page = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert 'href="/leads/" id="back-to-inbox"' in page  # nothing listed yet: the inbox as it opens
    client.get(reverse("leads:inbox"), {"overdue": "on", "sort": "urgent", "language": "fr"})
    # Another tab's inbox refreshing itself is not the list this person left.
    client.get(reverse("leads:inbox"), {"status": "all"}, headers={"HX-Request": "true"})
    page = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    back = re.search(r'href="([^"]*)" id="back-to-inbox"', page)
    assert parse_qs(urlsplit(html.unescape(back.group(1))).query) == {
        "overdue": ["on"],
        "sort": ["urgent"],
        "language": ["fr"],
    }
    # Still so once a call is logged from the page (its header is sent again).
    logged = client.post(
        reverse("leads:lead_log", args=[lead.pk]),
        {"channel": "phone", "outcome": "reached"},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert back.group(0) in logged


def test_a_sale_is_confirmed_apart_so_a_slip_in_the_list_sells_nothing(client):
    _login(client)
    lead = lead_transition(lead=factories.lead(), to_status=LeadStatus.CONTACTED)
    page = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert "The deal is signed (for Sold)" in page.split('id="status-form"')[1].split("</form>")[0]
    url = reverse("leads:lead_transition", args=[lead.pk])
    page = client.post(url, {"status": "sold", "shown_status": "contacted"}, follow=True).content.decode()
    assert (
        "Tick “The deal is signed” to mark the lead sold: only a supervisor or a manager can take a sale back."
        in html.unescape(page)
    )
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONTACTED and not lead.customer.history_items.exists()
    client.post(url, {"status": "sold", "deal_signed": "on", "shown_status": "contacted"})
    lead.refresh_from_db()
    assert lead.status == LeadStatus.SOLD and lead.customer.history_items.get().kind == "purchase"
    # Nothing to confirm on a lead that cannot be sold yet.
    new = client.get(reverse("leads:lead_detail", args=[factories.lead().pk])).content.decode()
    assert "The deal is signed" not in new


def _sold_lead(**fields):
    lead = lead_transition(lead=factories.lead(**fields), to_status=LeadStatus.CONTACTED)
    return lead_transition(lead=lead, to_status=LeadStatus.SOLD)


# A supervisor's "the deal fell through", confirmed, on a sold lead's page.
SALE_TAKEN_BACK = {
    "status": "lost",
    "reason": "Financing refused",
    "shown_status": "sold",
    "deal_fell_through": "on",
}


def _status_form(page: str) -> str:
    return page.split('id="status-form"')[1].split("</form>")[0] if 'id="status-form"' in page else ""


def test_a_supervisor_takes_back_a_sale_whose_deal_fell_through_confirmed_apart(client):
    _login(client)
    lead = _sold_lead()
    url = reverse("leads:lead_detail", args=[lead.pk])
    page = html.unescape(client.get(url).content.decode())
    form = _status_form(page)
    assert '<option value="lost">Lost</option>' in form and "The deal fell through (for Lost)" in form
    assert (
        "The deal fell through: the sale is taken off the figures and the customer's history, and the "
        "purchase's implied consent ends." in form
    )
    assert "allowed (implied: purchase or lease (two years)" in page
    status_url = reverse("leads:lead_transition", args=[lead.pk])
    asked = {"status": "lost", "reason": "Financing refused", "shown_status": "sold"}
    page = html.unescape(client.post(status_url, asked, follow=True).content.decode())
    assert "Tick “The deal fell through” to mark a sold lead lost" in page
    lead.refresh_from_db()
    assert lead.status == LeadStatus.SOLD and lead.customer.history_items.exists()
    page = html.unescape(
        client.post(status_url, {**asked, "deal_fell_through": "on"}, follow=True).content.decode()
    )
    lead.refresh_from_db()
    assert (lead.status, lead.sold_at, lead.customer.history_items.exists()) == (LeadStatus.LOST, None, False)
    assert "Status: Sold → Lost (Financing refused)" in page
    # The customer card is back to the inquiry's six months, which the sale had outlasted.
    assert "allowed (implied: inquiry (six months)" in page
    # The customer's history no longer lists the purchase; their audit trail says it came off, and why.
    history = client.get(reverse("leads:customer_detail", args=[lead.customer_id])).content.decode()
    assert "Purchase" not in history
    audit = html.unescape(
        client.get(reverse("leads:customer_audit", args=[lead.customer_id])).content.decode()
    )
    assert "Taken off the history: it did not happen" in audit and "Financing refused" in audit
    assert "Consent ended: the purchase did not happen" in audit


def test_an_advisor_is_not_offered_to_take_back_a_sale_and_is_told_who_may(client):
    advisor = _login(client, Role.ADVISOR)
    lead = _sold_lead(owner=advisor)
    page = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert _status_form(page) == "" and "The deal fell through" not in page
    url = reverse("leads:lead_transition", args=[lead.pk])
    page = client.post(url, SALE_TAKEN_BACK, follow=True).content.decode()
    assert "Only a supervisor or a manager can record that a deal fell through: ask one of them." in page
    lead.refresh_from_db()
    assert lead.status == LeadStatus.SOLD and lead.sold_at is not None


def test_after_the_deal_fell_through_the_customer_card_allows_email_only_on_what_else_the_customer_gave(
    client,
):
    _login(client)
    lead = _sold_lead(received_at=timezone.now() - timezone.timedelta(days=220))  # its six months are over
    status_url = reverse("leads:lead_transition", args=[lead.pk])
    page = html.unescape(client.post(status_url, SALE_TAKEN_BACK, follow=True).content.decode())
    assert "not allowed: implied: purchase or lease (two years) ended on " in page
    # Another customer had said yes to the store's mail after buying: that stands whatever the sale.
    other = _sold_lead(received_at=timezone.now() - timezone.timedelta(days=220))
    consent_grant(
        customer=other.customer,
        channels=["email"],
        basis="express",
        at=timezone.now(),
        source="Told staff",
        wording="Yes, send me your offers.",
    )
    status_url = reverse("leads:lead_transition", args=[other.pk])
    page = html.unescape(client.post(status_url, SALE_TAKEN_BACK, follow=True).content.decode())
    assert "allowed (express consent)" in page and "ended on" not in page


def test_an_answer_or_log_refused_on_a_page_left_open_keeps_the_text_and_says_why(client):
    """The lead was merged, or the customer's address removed, while the page was open."""
    _login(client)
    merged = factories.lead()
    lead_merge(target=factories.lead(customer_obj=merged.customer), duplicate=merged)
    for url, fields in [
        (
            reverse("leads:lead_reply", args=[merged.pk]),
            {"subject": "Hi", "body": "Long answer", "language": "en"},
        ),
        (reverse("leads:lead_log", args=[merged.pk]), {"channel": "note", "notes": "Long answer"}),
    ]:
        page = client.post(url, fields).content.decode()
        assert "was merged into lead" in page and ">Long answer</textarea>" in page, url
    no_email = factories.lead(customer_obj=factories.customer(email="", phone="+14165550123"))
    fields = {"subject": "Hi", "body": "Long answer", "language": "en"}
    page = client.post(reverse("leads:lead_reply", args=[no_email.pk]), fields).content.decode()
    assert "Not sent: " in page and ">Long answer</textarea>" in page


def test_the_conversation_shows_what_the_customer_just_wrote_and_the_quote_on_demand(client):
    _login(client)
    lead = factories.lead()
    factories.inbound_email(
        lead=lead,
        body="Saturday at 10 works.\n\nOn Mon, Nov 30, 2026 Maple Motors wrote:\n> The RAV4 is here.",
    )
    page = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    shown, quoted = page.split('timeline-message"')[1].split("<details", 1)
    assert "Saturday at 10 works." in shown and "The RAV4 is here." not in shown
    assert "The RAV4 is here." in quoted.split("</details>")[0]


def test_merge_from_the_lead_page(client):
    _login(client)
    received = factories.inbound_mail(factories.raw_mail(subject="First inquiry about the Tucson"))
    duplicate = received.lead
    target = factories.lead(customer_obj=duplicate.customer)
    page = client.get(reverse("leads:lead_detail", args=[target.pk])).content.decode()
    assert f"Lead {duplicate.pk}" in page and "Mail received" not in page
    response = client.post(
        reverse("leads:lead_merge", args=[target.pk]), {"duplicate": duplicate.pk}, follow=True
    )
    page = response.content.decode()
    assert "merged into this one" in page
    # The mail the duplicate came in by is now listed, with its original, on the surviving lead.
    assert "First inquiry about the Tucson" in page
    assert reverse("leads:inbound_mail_original", args=[received.pk]) in page
    duplicate.refresh_from_db()
    assert duplicate.lost_reason == f"Merged into lead {target.pk}"
    page = client.get(reverse("leads:lead_detail", args=[duplicate.pk])).content.decode()
    assert f'merged into <a href="{reverse("leads:lead_detail", args=[target.pk])}">' in page
    # A merged lead is worked on the lead it went into: no status, answer, log or merge here.
    for form in ("status-form", "reply-form", "log-form", "merge-form"):
        assert f'id="{form}"' not in page
    # Its lead is listed instead, under every status: the chips' counts add up to All.
    duplicate_row = f'href="{reverse("leads:lead_detail", args=[duplicate.pk])}"'
    for status in ("lost", "all"):
        assert duplicate_row not in client.get(reverse("leads:inbox"), {"status": status}).content.decode()
    listed = client.get(reverse("leads:inbox"), {"status": "all"}).content.decode()
    assert f'href="{reverse("leads:lead_detail", args=[target.pk])}"' in listed


def test_merging_is_offered_only_with_another_lead_of_the_customer_the_person_may_see(client):
    advisor = _login(client, Role.ADVISOR)
    other_advisor = factories.staff(Role.ADVISOR).user
    mine = factories.lead(owner=advisor)
    url = reverse("leads:lead_detail", args=[mine.pk])
    assert 'id="merge-form"' not in client.get(url).content.decode()
    factories.lead(customer_obj=mine.customer, owner=other_advisor)
    assert 'id="merge-form"' not in client.get(url).content.decode()
    also_mine = factories.lead(customer_obj=mine.customer, owner=advisor)
    page = client.get(url).content.decode()
    assert 'id="merge-form"' in page and f"Lead {also_mine.pk}" in page


def test_reply_templates_are_managed_by_supervisors_only(client):
    _login(client, Role.ADVISOR)
    assert client.get(reverse("leads:replytemplate_list")).status_code == 403
    _login(client, Role.MANAGER)
    create = reverse("leads:replytemplate_create")
    bad = client.post(
        create,
        {
            "name": "Bad",
            "inquiry_type": "general",
            "language": "en",
            "subject": "Hi",
            "body": "{{ nope }}",
            "active": "on",
        },
    )
    assert "Not a merge field: {{ nope }}" in bad.content.decode()
    assert not ReplyTemplate.objects.filter(name="Bad").exists()
    client.post(
        create,
        {
            "name": "Spring",
            "inquiry_type": "general",
            "language": "en",
            "subject": "Hi {{ first_name }}",
            "body": "Hello",
            "active": "on",
        },
    )
    template = ReplyTemplate.objects.get(name="Spring")
    client.post(
        reverse("leads:replytemplate_edit", args=[template.pk]),
        {
            "name": "Spring sale",
            "inquiry_type": "general",
            "language": "fr",
            "subject": "Bonjour",
            "body": "Salut",
        },
    )
    template.refresh_from_db()
    assert (template.name, template.language, template.active) == ("Spring sale", "fr", False)
    assert "Spring sale" in client.get(reverse("leads:replytemplate_list")).content.decode()
    client.post(reverse("leads:replytemplate_delete", args=[template.pk]))
    assert not ReplyTemplate.objects.filter(pk=template.pk).exists()


def test_a_template_a_follow_up_step_sends_cannot_be_deleted(client):
    """Deleting it would leave the step sending customers an empty email."""
    _login(client)
    reply_templates_ensure_defaults()
    template = ReplyTemplate.objects.get(inquiry_type="general", language="en")
    plan = FollowUpPlan.objects.create(name="Thirty days")
    FollowUpStep.objects.create(plan=plan, kind=FollowUpStep.Kind.AUTO_EMAIL, reply_template=template)
    url = reverse("leads:replytemplate_delete", args=[template.pk])

    confirm = client.get(url).content.decode()
    assert "“Thirty days”" in confirm and ">Delete</button>" not in confirm
    answer = client.post(url, follow=True).content.decode()
    assert "Not deleted: the follow-up plan “Thirty days” sends it" in answer
    assert ReplyTemplate.objects.filter(pk=template.pk).exists()
    assert FollowUpStep.objects.get().reply_template == template


def test_no_email_means_no_composer_and_advisors_see_no_template_admin(client):
    advisor = _login(client, Role.ADVISOR)
    lead = factories.lead(owner=advisor, customer_obj=factories.customer(email="", phone="+14165550177"))
    page = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert "No email address for this customer" in page and 'id="reply-form"' not in page
    assert "Reply templates" not in client.get("/leads/").content.decode()
    _login(client)
    assert "Reply templates" in client.get("/leads/").content.decode()


def test_inbox_shows_the_vehicle_asked_about_not_the_trade_in(client):
    _login(client)
    factories.lead(
        vehicles=[
            {"make": "Honda", "model": "Civic", "interest": "trade-in"},
            {"year": 2026, "make": "Toyota", "model": "RAV4", "trim": "XLE"},
        ]
    )
    row = client.get("/leads/").content.decode().split('class="lead-row"')[1]
    assert "2026 Toyota RAV4 XLE" in row and "Civic" not in row


def test_lead_page_badges_a_car_to_sell_as_a_trade_in(client):
    _login(client)
    lead = factories.lead(
        vehicles=[
            {"make": "Honda", "model": "Civic", "interest": "sell"},
            {"make": "Toyota", "model": "RAV4", "interest": "lease"},
        ]
    )
    page = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    civic, rav4 = page.split('<h2 class="h6">Vehicles</h2>')[1].split("</ul>")[0].split("<li")[1:]
    assert "Honda Civic" in civic and ">Trade-in<" in civic
    assert "Toyota RAV4" in rav4 and ">Lease<" in rav4 and "Trade-in" not in rav4


def test_the_lead_page_says_when_the_customer_asked_not_to_be_called(client):
    from leads.services.consent import consent_withdraw

    _login(client)
    lead = factories.lead()
    url = reverse("leads:lead_detail", args=[lead.pk])
    assert 'id="do-not-call"' not in client.get(url).content.decode()
    consent_withdraw(customer=lead.customer, channels=["phone"], source="unsubscribe link")
    assert "Asked not to be called" in client.get(url).content.decode()


def test_a_new_lead_moves_on_by_the_answer_logged_or_the_appointment_booked_not_by_hand(client):
    from leads.services.leads import TransitionError

    _login(client)
    lead = factories.lead()
    page = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    status_form = page.split('id="status-form"')[1].split("</form>")[0]
    assert 'value="contacted"' not in status_form and 'value="appointment_set"' not in status_form
    assert 'value="lost"' in status_form
    with pytest.raises(TransitionError, match="Log the call, text or visit"):
        lead_transition(lead=lead, to_status=LeadStatus.CONTACTED, by_hand=True)
    # Set by hand, it would leave the lead unanswered and overdue behind an "appointment set".
    with pytest.raises(TransitionError, match="Book the appointment from this page"):
        lead_transition(lead=lead, to_status=LeadStatus.APPOINTMENT_SET, by_hand=True)
    client.post(reverse("leads:lead_log", args=[lead.pk]), {"channel": "phone", "outcome": "reached"})
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONTACTED and lead.first_response_at is not None


def test_the_source_filter_offers_the_sources_leads_came_from(client):
    _login(client)
    factories.lead(source="Kijiji Autos")
    factories.lead(source="AutoTrader")
    page = client.get(reverse("leads:inbox")).content.decode()
    offered = re.findall(
        r'<option value="([^"]*)">', page.split('<datalist id="lead-sources">')[1].split("</datalist>")[0]
    )
    assert offered == ["AutoTrader", "Kijiji Autos"]
    listed = client.get(reverse("leads:inbox"), {"source": "Kijiji Autos"}).content.decode()
    assert listed.count('class="lead-row"') == 1


def test_the_supervisor_gives_a_new_lead_an_owner_from_its_page_and_that_advisor_can_then_work_it(client):
    boss = _login(client, first_name="Sophie", last_name="Tremblay")
    marc = factories.advisor(first_name="Marc", last_name="Roy").user
    lead = factories.lead()
    url, assign_url = (
        reverse("leads:lead_detail", args=[lead.pk]),
        reverse("leads:lead_assign", args=[lead.pk]),
    )
    advisor_client = _client_of(marc)
    assert advisor_client.get(url).status_code == 404
    page = client.get(url).content.decode()
    assert 'id="lead-owner">unassigned<' in page
    form = page.split('id="assign-form"')[1].split("</form>")[0]
    assert f'action="{assign_url}" class="d-flex gap-2 mt-2" id="assign-form"' in page
    offered = re.findall(r'<option value="(\d*)"[^>]*>([^<]*)<', form)
    assert offered == [("", "Unassigned"), (str(marc.pk), "Marc Roy"), (str(boss.pk), "Sophie Tremblay")]

    page = client.post(assign_url, {"owner": marc.pk}, follow=True).content.decode()
    assert "The lead is assigned to Marc Roy: it is in their inbox." in page
    assert 'id="lead-owner">Marc Roy<' in page and "<strong>Assigned to Marc Roy</strong>" in page
    assert re.search(rf'<option value="{marc.pk}" selected>Marc Roy<', page)
    assert advisor_client.get(url).status_code == 200
    assert url in advisor_client.get(reverse("leads:inbox")).content.decode()

    page = client.post(assign_url, {"owner": ""}, follow=True).content.decode()
    assert "The lead is unassigned: no advisor sees it now." in page
    assert "<strong>No longer assigned to Marc Roy</strong>" in page
    assert advisor_client.get(url).status_code == 404


def test_a_lead_goes_only_to_someone_who_takes_leads(client):
    _login(client)
    department = factories.staff(Role.DEPARTMENT, first_name="Dana", last_name="Parts").user
    lead = factories.lead()
    url = reverse("leads:lead_assign", args=[lead.pk])
    page = client.post(url, {"owner": department.pk}, follow=True).content.decode()
    assert "Dana Parts does not take leads: choose a sales advisor, a supervisor or a manager." in page
    assert "Choose the owner from the list." in client.post(url, {"owner": "x"}, follow=True).content.decode()
    lead.refresh_from_db()
    assert lead.owner is None and not lead.events.filter(type="assigned").exists()
    page = client.post(url, {"owner": ""}, follow=True).content.decode()  # Assign pressed as it is
    assert "Nothing changed: the lead already had that owner." in page


def test_an_advisor_sees_who_owns_the_lead_but_cannot_give_it_to_someone_else(client):
    marc = _login(client, Role.ADVISOR, first_name="Marc", last_name="Roy")
    lina = factories.advisor().user
    lead = factories.lead(owner=marc)
    page = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert 'id="lead-owner">Marc Roy<' in page and 'id="assign-form"' not in page
    assert client.post(reverse("leads:lead_assign", args=[lead.pk]), {"owner": lina.pk}).status_code == 403
    lead.refresh_from_db()
    assert lead.owner == marc


def test_the_advisor_booked_for_a_test_drive_on_a_new_lead_can_open_it(client):
    marc = factories.advisor(first_name="Marc", last_name="Roy")
    lead = factories.lead()
    factories.test_drive(lead, marc, hour=10)
    client.force_login(marc.user)
    response = client.get(reverse("leads:lead_detail", args=[lead.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="lead-owner">Marc Roy<' in page and "<strong>Assigned to Marc Roy</strong>" in page


def test_an_advisor_opens_the_lead_of_a_customer_booked_with_them_whoever_owns_it(client):
    from leads.services.leads import lead_assign

    anne, ben = factories.advisor(first_name="Anne"), factories.advisor(first_name="Ben")
    lead = factories.lead(owner=anne.user)
    factories.test_drive(lead, ben, hour=10)  # the supervisor booked Ben on Anne's lead
    url = reverse("leads:lead_detail", args=[lead.pk])
    client.force_login(ben.user)
    assert client.get(url).status_code == 200
    assert f'data-lead="{lead.pk}"' in client.get(reverse("leads:inbox")).content.decode()
    # Given to Ben, Anne no longer has it.
    lead_assign(lead=lead, owner=ben.user, actor=None)
    client.force_login(anne.user)
    assert client.get(url).status_code == 404
    # Another advisor's lead without an appointment with them stays out of reach.
    client.force_login(factories.advisor(first_name="Cleo").user)
    assert client.get(url).status_code == 404


def test_an_advisor_opens_the_lead_she_sold_after_a_colleague_takes_it_for_the_delivery(client):
    from leads.services.leads import lead_assign

    alice, bob = factories.advisor(first_name="Alice"), factories.advisor(first_name="Bob")
    supervisor = factories.staff(Role.SUPERVISOR).user
    lead = factories.lead(owner=alice.user)
    lead_transition(lead=lead, to_status=LeadStatus.CONTACTED)
    lead_transition(lead=lead, to_status=LeadStatus.SOLD, actor=supervisor)  # Alice's sale
    lead_assign(lead=lead, owner=bob.user, actor=supervisor)  # Bob delivers the car
    client.force_login(alice.user)
    assert client.get(reverse("leads:lead_detail", args=[lead.pk])).status_code == 200
    assert f'data-lead="{lead.pk}"' in client.get(reverse("leads:inbox"), {"status": "all"}).content.decode()
    # Bob's leads she did not sell stay out of her reach.
    unrelated = factories.lead(owner=bob.user)
    assert client.get(reverse("leads:lead_detail", args=[unrelated.pk])).status_code == 404


def test_an_appointment_booked_by_mistake_and_cancelled_leaves_the_advisor_no_way_into_the_lead(client):
    from leads.models import Appointment
    from leads.services.appointments import appointment_transition

    anne, ben = factories.advisor(first_name="Anne"), factories.advisor(first_name="Ben")
    lead = factories.lead(owner=anne.user)
    booked = factories.test_drive(lead, ben, hour=10)  # Ben booked by mistake on Anne's lead...
    appointment_transition(appointment=booked, to_status=Appointment.Status.CANCELLED, now=timezone.now())
    client.force_login(ben.user)  # ...and called off at once: the lead is Anne's alone
    lead.refresh_from_db()
    status = lead.status
    assert client.get(reverse("leads:lead_detail", args=[lead.pk])).status_code == 404
    assert f'data-lead="{lead.pk}"' not in client.get(reverse("leads:inbox")).content.decode()
    response = client.post(
        reverse("leads:lead_transition", args=[lead.pk]), {"status": "lost", "reason": "x"}
    )
    assert response.status_code == 404
    lead.refresh_from_db()
    assert lead.status == status != LeadStatus.LOST


def test_a_lead_whose_owner_left_still_names_them_and_assign_pressed_as_is_keeps_it_theirs(client):
    _login(client)
    gone = factories.advisor(first_name="Robin", last_name="Gone")
    lead = factories.lead(owner=gone.user)
    gone.user.is_active = False
    gone.user.save(update_fields=["is_active"])
    cache.clear()  # the owners offered are read every minute
    page = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    form = page.split('id="assign-form"')[1].split("</form>")[0]
    assert f'<option value="{gone.user.pk}" selected>Robin Gone (no longer takes leads)</option>' in form
    client.post(reverse("leads:lead_assign", args=[lead.pk]), {"owner": gone.user.pk})
    lead.refresh_from_db()
    assert lead.owner == gone.user and not lead.events.filter(type="assigned").exists()


def _minute(moment) -> str:
    """A time as the log form's "When" field takes it: the store's, to the minute."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_a_call_logged_later_counts_from_when_it_was_made_and_a_time_ahead_or_before_the_lead_is_refused(
    client,
):
    from datetime import timedelta

    _login(client)
    received = timezone.now() - timedelta(days=2)
    lead = factories.lead(received_at=received)
    url = reverse("leads:lead_log", args=[lead.pk])
    yesterday = _minute(timezone.now() - timedelta(days=1))
    fields = {"channel": "phone", "outcome": "reached", "notes": "Called from the lot"}
    response = client.post(url, {**fields, "occurred_at": yesterday}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "Called from the lot" in response.content.decode()
    lead.refresh_from_db()
    assert _minute(lead.first_response_at) == _minute(lead.messages.get().occurred_at) == yesterday

    ahead = _minute(timezone.now() + timedelta(hours=2))
    page = client.post(url, {**fields, "occurred_at": ahead}, headers={"HX-Request": "true"}).content.decode()
    assert "That time is still to come: give the time it happened, or leave it empty for now." in page
    before = _minute(received - timedelta(hours=1))
    response = client.post(url, {"channel": "note", "notes": "Checked stock", "occurred_at": before})
    page = response.content.decode()
    came_in = formats.date_format(timezone.localtime(received), "DATETIME_FORMAT")
    assert response.status_code == 400 and f"The lead came in on {came_in}:" in html.unescape(page)
    assert f'value="{before}"' in page and "Checked stock" in page  # what was typed is kept
    assert lead.messages.count() == 1


def test_an_empty_text_is_refused_and_does_not_answer_the_lead(client):
    _login(client)
    lead = factories.lead()
    url = reverse("leads:lead_log", args=[lead.pk])
    page = client.post(
        url, {"channel": "text", "notes": "  "}, headers={"HX-Request": "true"}
    ).content.decode()
    assert "Write what you texted: the text counts as an answer to the customer." in page
    lead.refresh_from_db()
    assert lead.first_response_at is None and not lead.messages.exists()
    client.post(url, {"channel": "text", "notes": "Sent the price"}, headers={"HX-Request": "true"})
    lead.refresh_from_db()
    assert lead.first_response_at is not None and lead.messages.get().body_text == "Sent the price"


def _log_channel_chosen(page: str) -> str:
    channels = page.split('id="log-form"')[1].split('name="channel"')[1].split("</select>")[0]
    return re.search(r'<option value="(\w+)" selected>', channels).group(1)


def test_the_customer_card_shows_every_number_and_address_the_texts_refused_and_links_to_the_customer(
    client,
):
    from leads.services.consent import consent_withdraw
    from leads.services.customers import customer_email_add, customer_phone_add

    _login(client)
    customer = factories.customer(phone="4165550101")
    customer.preferred_channel = "text"
    customer.save(update_fields=["preferred_channel"])
    customer_phone_add(customer=customer, phone="647-555-0188", kind="work")
    customer_email_add(customer=customer, email="dana.work@example.com", label="office")
    lead = factories.lead(customer_obj=customer)
    url = reverse("leads:lead_detail", args=[lead.pk])
    page = client.get(url).content.decode()
    assert _log_channel_chosen(page) == "text" and 'id="no-texts"' not in page
    consent_withdraw(customer=customer, channels=["text"], source="STOP")
    page = client.get(url).content.decode()
    card = page.split('id="customer-card"')[1].split("</div></div>")[0]
    assert "(416) 555-0101</a>" in card and "(647) 555-0188</a> (work)" in card
    assert customer.email in card and "dana.work@example.com</a> (office)" in card
    assert "Asked for no texts" in card and "Asked not to be called" not in card
    assert (
        f'<a class="link-body-emphasis" href="{reverse("leads:customer_detail", args=[customer.pk])}"' in page
    )
    # The log form no longer starts on a text, and says what to know before logging one.
    assert _log_channel_chosen(page) == "note"
    log_form = page.split('id="log-form"')[1].split("</form>")[0]
    assert "This customer asked for no texts: log a text only if they texted the store" in log_form
    assert 'id="log-do-not-call"' not in log_form


def test_the_log_form_warns_when_the_customer_asked_not_to_be_called_and_the_call_logged_says_so(client):
    from leads.services.consent import consent_withdraw

    _login(client)
    lead = factories.lead()
    consent_withdraw(customer=lead.customer, channels=["phone"], source="Told staff")
    page = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    warning = (
        "This customer asked not to be called: log a call only if they called the store or asked you to call."
    )
    assert warning in page.split('id="log-form"')[1].split("</form>")[0]
    response = client.post(
        reverse("leads:lead_log", args=[lead.pk]),
        {"channel": "phone", "outcome": "reached", "notes": "They called about the RAV4"},
        headers={"HX-Request": "true"},
    )
    page = response.content.decode()
    assert "They called about the RAV4\n\nThe customer had asked not to be called." in page
    assert warning in page.split('id="log-form"')[1]  # the fresh form still warns
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONTACTED


def test_a_next_step_left_with_nobody_still_shows_on_the_lead_page(client):
    user = _login(client)
    lead = factories.lead()
    today = timezone.localdate()
    contact_log(
        lead=lead, author=user, channel="note", notes="Asked", next_step="Call back", next_step_on=today
    )
    Task.objects.update(assignee=None)  # its person taken off the staff, nobody left in sales
    page = client.get(reverse("leads:lead_detail", args=[lead.pk]))
    assert page.status_code == 200
    assert f"Call back · due {formats.date_format(today)} · unassigned" in html.unescape(
        page.content.decode()
    )


@pytest.mark.parametrize("shown", [{"shown_status": ""}, {}])
def test_a_sale_is_not_taken_back_without_its_confirm_whatever_the_shown_status(client, shown):
    _login(client)
    lead = _sold_lead()
    asked = {"status": "lost", "reason": "Financing refused", **shown}
    client.post(reverse("leads:lead_transition", args=[lead.pk]), asked)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.SOLD and lead.customer.history_items.exists()


def test_every_page_of_the_desk_counts_the_leads_waiting_for_an_answer_in_its_menu(
    client, django_capture_on_commit_callbacks
):
    user = _login(client)
    with django_capture_on_commit_callbacks(execute=True):
        waiting = [factories.lead() for _ in range(2)]
        answered, replied = factories.lead(), factories.lead()
        for lead in (answered, replied):
            contact_log(lead=lead, author=user, channel="phone", outcome="reached", notes="Called")
        lead_customer_wrote(lead=replied, at=timezone.now())
    # Any page's menu asks for the count once shown, so no page waits for it.
    page = client.get(reverse("dealership:directory")).content.decode()
    link = page.split('id="nav-leads"')[1].split("</a>")[0]
    assert f'hx-get="{reverse("leads:inbox_waiting")}"' in link and 'hx-trigger="load"' in link
    assert "badge" not in link

    menu = client.get(reverse("leads:inbox_waiting"), headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 30s"' in menu and 'data-waiting="3"' in menu
    assert (
        '<span class="badge text-bg-danger">3<span class="visually-hidden">: 2 new leads waiting for a first answer, 1 customer who wrote again</span></span>'
        in menu
    )

    with django_capture_on_commit_callbacks(execute=True):
        for lead in waiting:
            contact_log(lead=lead, author=user, channel="phone", outcome="reached", notes="Called")
    menu = client.get(reverse("leads:inbox_waiting"), headers={"HX-Request": "true"}).content.decode()
    assert 'data-waiting="1"' in menu and ": 1 customer who wrote again" in menu


def test_the_waiting_count_is_the_desks(client):
    department = factories.staff(Role.DEPARTMENT, department_code="service")
    client.force_login(department.user)
    assert client.get(reverse("leads:inbox_waiting")).status_code == 403
    assert "nav-leads" not in client.get(reverse("dealership:directory")).content.decode()
