"""Customer list with search, the card with its cross-department timeline, contacts, duplicates page."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from leads.models import ConsentRecord, Customer, HistoryKind
from leads.services.customers import customer_email_add, customer_merge, customer_phone_add, history_item_add
from tests import factories
from tests.french import flash_text

pytestmark = pytest.mark.django_db


def test_search_by_name_without_accents_email_or_phone(supervisor_client):
    factories.customer(
        first_name="Chloé", last_name="Gauthier", email="chloe@example.com", phone="438 555 0144"
    )
    factories.customer(
        first_name="Noah", last_name="Williams", email="noah@example.com", phone="647 555 0133"
    )
    url = reverse("leads:customer_list")
    for query in (
        "gauthier",
        "chloe gauthier",
        "CHLOÉ",
        "Chloe",
        "chloe@EXAMPLE",
        "(438) 555-0144",
        "5550144",
    ):
        page = supervisor_client.get(url, {"q": query}).content.decode()
        assert "Gauthier" in page and "Williams" not in page, query
    fragment = supervisor_client.get(url, {"q": "noah"}, HTTP_HX_REQUEST="true").content.decode()
    assert fragment.strip().startswith('<div id="customer-table">') and "Williams" in fragment


@pytest.mark.parametrize(
    ("first", "last", "query"),
    [
        ("Sylvie", "D’Amours", "d'amours"),  # stored as a Mac or Word writes it, typed on a keyboard
        ("Sylvie", "D'Amours", "D’Amours"),
        ("Marie Ève", "Côté", "marie-eve cote"),
        ("Marie-Ève", "Côté", "marie eve"),
        ("Jean", "Tremblay", "Tremblay, Jean"),  # as the DMS writes names
    ],
)
def test_search_finds_a_name_whatever_its_apostrophe_hyphens_and_commas(
    supervisor_client, first, last, query
):
    factories.customer(first_name=first, last_name=last)
    factories.customer(first_name="Noah", last_name="Williams")
    page = supervisor_client.get(reverse("leads:customer_list"), {"q": query}).content.decode()
    assert f"{first} " in page and "Williams" not in page


def test_a_search_with_a_nul_character_is_not_applied_and_the_page_says_why(supervisor_client):
    factories.customer(first_name="Marc", last_name="Roy")
    response = supervisor_client.get(reverse("leads:customer_list"), {"q": "Roy\x00"})  # pasted in
    page = response.content.decode()
    assert response.status_code == 200 and "Roy" in page
    assert "Not applied:" in page and "Null characters are not allowed." in page


def test_the_customer_list_pages_through_the_whole_file(supervisor_client):
    Customer.objects.bulk_create(
        Customer(first_name=f"Client{n:03}", last_name="Roy", email=f"client{n}@example.com")
        for n in range(105)
    )
    url = reverse("leads:customer_list")
    first = supervisor_client.get(url).content.decode()
    assert first.count("Client") == 100 and "Client104" not in first
    assert '?page=2">Next page' in first
    second = supervisor_client.get(url, {"page": 2}).content.decode()
    assert "Client104" in second and "Client000" not in second
    assert '?page=1">' in second and "Next page" not in second
    narrowed = supervisor_client.get(url, {"q": "Client104", "page": "x"}).content.decode()
    assert "Client104" in narrowed and "Next page" not in narrowed
    # "²".isdigit() is True, yet it is no page number: the first page, never a server error.
    mangled = supervisor_client.get(url, {"page": "²"})
    assert mangled.status_code == 200 and mangled.content.decode().count("Client") == 100


def test_card_shows_every_department_on_one_timeline_and_the_consent(supervisor_client):
    customer = factories.customer(first_name="Emma", last_name="Johnson")
    factories.lead(customer_obj=customer, source="AutoTrader")
    history_item_add(
        customer=customer, kind=HistoryKind.BODY_SHOP_JOB, occurred_at=timezone.now(), summary="Rear bumper repair",
        department="body_shop",
    )  # fmt: skip
    history_item_add(
        customer=customer, kind=HistoryKind.PURCHASE, occurred_at=timezone.now(), summary="2025 Honda Civic Sport",
        department="sales", price="31500.00",
    )  # fmt: skip
    page = supervisor_client.get(reverse("leads:customer_detail", args=[customer.pk])).content.decode()
    assert "Rear bumper repair" in page and "Body shop" in page
    assert "2025 Honda Civic Sport" in page and "AutoTrader" in page
    assert "Implied: purchase or lease (two years)" in page  # the purchase implied consent


def test_the_card_shows_phones_as_staff_dial_them_and_no_missing_phone_beside_another_one(supervisor_client):
    customer = factories.customer(phone="416 555 0100")
    customer_phone_add(customer=customer, phone="647 555 0177", kind="work")
    card = _shown_text(supervisor_client.get(reverse("leads:customer_detail", args=[customer.pk])))
    assert "(416) 555-0100" in card and "(647) 555-0177 (work)" in card
    assert "+1416" not in card and "+1647" not in card
    emailed_only = factories.customer(email="first@example.com")
    Customer.objects.filter(pk=emailed_only.pk).update(email="")
    customer_phone_add(customer=emailed_only, phone="514 555 0199")
    customer_email_add(customer=emailed_only, email="second@example.com")
    card = _shown_text(supervisor_client.get(reverse("leads:customer_detail", args=[emailed_only.pk])))
    assert "(514) 555-0199 (mobile)" in card and "second@example.com" in card
    assert "no phone" not in card and "no email" not in card


def _shown_text(response) -> str:
    """The page as people read it: its text without the markup (links' addresses included)."""
    return re.sub(r"<[^>]+>", "", response.content.decode())


def test_the_card_offers_every_phone_to_tap_and_every_email_to_write(supervisor_client):
    customer = factories.customer(email="first@example.com", phone="416 555 0100")
    customer_phone_add(customer=customer, phone="647 555 0177", kind="work")
    customer_email_add(customer=customer, email="second@example.com")
    card = supervisor_client.get(reverse("leads:customer_detail", args=[customer.pk])).content.decode()
    assert '<a href="tel:+14165550100">(416) 555-0100</a>' in card
    assert '<a href="tel:+16475550177">(647) 555-0177</a> (work)' in card
    assert '<a href="mailto:first@example.com">first@example.com</a>' in card
    assert '<a href="mailto:second@example.com">second@example.com</a>' in card


def test_the_consent_table_scrolls_by_itself_on_a_phone_rather_than_widening_the_card(supervisor_client):
    customer = factories.customer()
    for url in (
        reverse("leads:customer_detail", args=[customer.pk]),
        reverse("leads:customer_consent", args=[customer.pk]),
    ):
        page = supervisor_client.get(url).content.decode()
        assert re.search(
            r'<div class="table-responsive">\s*<table class="table table-sm" id="consent-status">', page
        ), url


def test_the_customer_list_and_the_duplicates_show_phones_as_staff_dial_them(supervisor_client):
    factories.customer(first_name="Chloé", last_name="Gauthier", email="c1@example.com", phone="438 555 0144")
    second = factories.customer(first_name="Chloe", last_name="Gauthier", email="c2@example.com", phone="")
    Customer.objects.filter(pk=second.pk).update(phone="+14385550144")
    for url in (reverse("leads:customer_list"), reverse("leads:customer_duplicates")):
        page = _shown_text(supervisor_client.get(url))
        assert "(438) 555-0144" in page and "+1438" not in page, url


def test_the_menu_and_the_customers_own_pages_are_two_navigations_told_apart_by_name(supervisor_client):
    customer = factories.customer()
    page = supervisor_client.get(reverse("leads:customer_detail", args=[customer.pk])).content.decode()
    names = re.findall(r'<nav [^>]*aria-label="([^"]+)"', page)
    assert names == ["Main menu", "Customer"]
    assert page.count("<nav ") == 2


def test_adding_another_email_and_phone_and_refusing_bad_ones(supervisor_client):
    customer = factories.customer()
    url = reverse("leads:customer_contact_add", args=[customer.pk])
    supervisor_client.post(
        url, {"email": "Second@Example.com", "phone": "416-555-0188", "phone_kind": "work"}
    )
    assert list(customer.extra_emails.values_list("email", flat=True)) == ["second@example.com"]
    assert list(customer.extra_phones.values_list("phone", "kind")) == [("+14165550188", "work")]
    page = supervisor_client.post(url, {"phone": "99"}, follow=True).content.decode()
    assert "“99” is not a phone number with its area code." in page and customer.extra_phones.count() == 1


def test_adding_an_email_and_a_bad_phone_adds_neither_and_says_so(supervisor_client):
    customer = factories.customer(phone="514 555 0100")
    url = reverse("leads:customer_contact_add", args=[customer.pk])
    response = supervisor_client.post(url, {"email": "second@example.com", "phone": "12345"})
    assert response.status_code == 400 and flash_text(response) == "Nothing was added."
    assert response.context["contact_form"].errors == {
        "phone": ["“12345” is not a phone number with its area code."]
    }
    assert not customer.extra_emails.exists()
    response = supervisor_client.post(
        url, {"email": "second@example.com", "phone": "416-555-0188"}, follow=True
    )
    assert flash_text(response) == "Added: second@example.com, (416) 555-0188."
    response = supervisor_client.post(url, {"phone": "+1 514 555 0100"}, follow=True)  # the main number
    assert flash_text(response) == "The customer already has these contact details."


def test_a_refused_email_and_phone_come_back_as_typed_with_the_reason(supervisor_client):
    """A second address typed with a work number and its extension: the refusal said why, and wiped both."""
    customer = factories.customer(email="pat@example.com")
    response = supervisor_client.post(
        reverse("leads:customer_contact_add", args=[customer.pk]),
        {"email": "pat.work@example.com", "phone": "514 555-0123 poste 12", "phone_kind": "work"},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "“514 555-0123 poste 12” has an extension (12)" in page
    assert 'value="pat.work@example.com"' in page and 'value="514 555-0123 poste 12"' in page
    assert not customer.extra_emails.exists() and not customer.extra_phones.exists()
    response = supervisor_client.post(
        reverse("leads:customer_contact_add", args=[customer.pk]), {"phone_kind": "work"}
    )
    assert response.status_code == 400 and "Enter an email or a phone number." in response.content.decode()


def test_duplicates_page_offers_the_pair_and_merges_it(supervisor_client):
    first = factories.customer(
        first_name="Chloé", last_name="Gauthier", email="c1@example.com", phone="438 555 0144"
    )
    second = factories.customer(first_name="Chloe", last_name="Gauthier", email="c2@example.com", phone="")
    Customer.objects.filter(pk=second.pk).update(phone="+14385550144")
    page = supervisor_client.get(reverse("leads:customer_duplicates")).content.decode()
    assert "Same name and phone" in page
    supervisor_client.post(reverse("leads:customer_merge"), {"target": first.pk, "duplicate": second.pk})
    assert (
        "No likely duplicates."
        in supervisor_client.get(reverse("leads:customer_duplicates")).content.decode()
    )


def test_customer_pages_need_login(client):
    customer = factories.customer()
    for name in ("customer_detail", "customer_consent", "customer_audit", "customer_export_json"):
        assert client.get(reverse(f"leads:{name}", args=[customer.pk])).status_code == 302


def test_every_customer_page_renders_for_a_supervisor(supervisor_client):
    customer = factories.customer()
    for name, args in (
        ("customer_list", []), ("customer_detail", [customer.pk]), ("customer_edit", [customer.pk]),
        ("customer_consent", [customer.pk]), ("customer_audit", [customer.pk]), ("customer_duplicates", []),
        ("customer_import", []), ("loyalty_rules", []), ("my_tasks", []),
    ):  # fmt: skip
        response = supervisor_client.get(reverse(f"leads:{name}", args=args))
        assert response.status_code == 200, name
        assert "style=" not in response.content.decode(), name  # the CSP forbids inline styles


def test_linking_two_people_to_a_new_household(supervisor_client):
    marc = factories.customer(first_name="Marc", last_name="Roy", phone="416 555 0199")
    julie = factories.customer(first_name="Julie", last_name="Roy", phone="")
    form = {"first_name": "Marc", "last_name": "Roy", "email": marc.email, "phone": marc.phone,
            "preferred_channel": "email", "language": "en", "new_household": "Roy family",
            "new_household_kind": "household"}  # fmt: skip
    supervisor_client.post(reverse("leads:customer_edit", args=[marc.pk]), form)
    marc.refresh_from_db()
    assert str(marc.household) == "Roy family (household)"
    form.update(
        first_name="Julie", email=julie.email, phone="", new_household="", household=marc.household_id
    )
    supervisor_client.post(reverse("leads:customer_edit", args=[julie.pk]), form)
    julie.refresh_from_db()
    assert julie.household == marc.household
    assert marc.audit_entries.get(action="edit").changes["household"] == [None, marc.household_id]


def test_a_merged_record_is_changed_nowhere_and_says_which_record_to_change(supervisor, supervisor_client):
    """A page left open on a record merged since (an old link, another tab): saving it, adding a
    contact or recording a withdrawal there would be lost on the tombstone, where no sender looks."""
    kept = factories.customer(first_name="Emma", last_name="Kept")
    merged = factories.customer(first_name="Emma", last_name="Gone")
    customer_merge(target=kept, duplicate=merged, actor=supervisor.user)
    form = {"first_name": "Emma", "last_name": "Edited", "email": merged.email, "phone": "",
            "preferred_channel": "email", "language": "en"}  # fmt: skip
    for name, data in (
        ("customer_edit", form),
        ("customer_contact_add", {"email": "another@example.com"}),
        ("customer_consent_withdraw", {"channels": ["email"], "source": "Told staff"}),
        ("customer_consent_grant", {"channels": ["email"], "basis": "express", "at": "2026-11-01 10:00",
                                    "source": "Showroom", "wording": "Yes, send me offers."}),
    ):  # fmt: skip
        response = supervisor_client.post(reverse(f"leads:{name}", args=[merged.pk]), data)
        assert response.status_code == 403, name
        assert "merged into Emma Kept" in response.content.decode(), name
    merged.refresh_from_db()
    assert merged.last_name == "Gone" and not merged.extra_emails.exists()
    assert not ConsentRecord.objects.filter(customer=merged).exists()
    page = supervisor_client.get(reverse("leads:customer_detail", args=[merged.pk])).content.decode()
    assert reverse("leads:customer_edit", args=[merged.pk]) not in page
    assert reverse("leads:customer_contact_add", args=[merged.pk]) not in page
    consent_page = supervisor_client.get(reverse("leads:customer_consent", args=[merged.pk])).content.decode()
    assert reverse("leads:customer_consent_withdraw", args=[merged.pk]) not in consent_page


def test_a_phone_with_an_extension_is_refused_instead_of_losing_the_extension(supervisor_client):
    """Stored as E.164, "514 555 0100 ext. 23" became +15145550100: whoever called got the switchboard."""
    customer = factories.customer(first_name="Liam", last_name="Brown", phone="905 555 0155")
    form = {"first_name": "Liam", "last_name": "Brown", "email": customer.email, "phone": "514 555 0100 ext. 23",
            "preferred_channel": "email", "language": "en"}  # fmt: skip
    page = supervisor_client.post(reverse("leads:customer_edit", args=[customer.pk]), form).content.decode()
    assert "“514 555 0100 ext. 23” has an extension (23)" in page
    form["phone"] = "(514) 555-0123 poste 12"  # longer than the number it would be stored as
    page = supervisor_client.post(reverse("leads:customer_edit", args=[customer.pk]), form).content.decode()
    assert "“(514) 555-0123 poste 12” has an extension (12)" in page
    page = supervisor_client.post(
        reverse("leads:customer_contact_add", args=[customer.pk]),
        {"phone": "+1 514-555-0199 x7"},
        follow=True,
    ).content.decode()
    assert "“+1 514-555-0199 x7” has an extension (7)" in page
    customer.refresh_from_db()
    assert customer.phone == "+19055550155" and not customer.extra_phones.exists()


def test_a_phone_without_its_area_code_is_refused_instead_of_matching_someone_elsewhere(supervisor_client):
    """ "555-0100" was stored as +15550100: no one can dial it, and it matched any 555-0100."""
    customer = factories.customer(first_name="Liam", last_name="Brown", phone="905 555 0155")
    form = {"first_name": "Liam", "last_name": "Brown", "email": customer.email, "phone": "555-0100",
            "preferred_channel": "email", "language": "en"}  # fmt: skip
    page = supervisor_client.post(reverse("leads:customer_edit", args=[customer.pk]), form).content.decode()
    assert "“555-0100” is not a phone number with its area code." in page
    customer.refresh_from_db()
    assert customer.phone == "+19055550155"


def test_an_email_another_customer_has_is_refused_and_points_to_the_merge(supervisor_client):
    """Matching takes an email as the person: a second record with it would never get their mail."""
    owner = factories.customer(first_name="Ann", last_name="Lee", email="ann@example.com")
    other = factories.customer(first_name="Bob", last_name="Roy", email="bob@example.com")
    form = {"first_name": "Bob", "last_name": "Roy", "email": "ANN@example.com", "phone": "",
            "preferred_channel": "email", "language": "en"}  # fmt: skip
    page = supervisor_client.post(reverse("leads:customer_edit", args=[other.pk]), form).content.decode()
    assert "ann@example.com is the address of Ann Lee" in page
    page = supervisor_client.post(
        reverse("leads:customer_contact_add", args=[other.pk]), {"email": "ann@example.com"}, follow=True
    ).content.decode()
    assert "ann@example.com is the address of Ann Lee" in page
    other.refresh_from_db()
    assert other.email == "bob@example.com" and not other.extra_emails.exists()
    assert owner.email == "ann@example.com"


def test_an_edit_that_empties_the_last_email_and_phone_is_refused(supervisor_client):
    customer = factories.customer(first_name="Liam", last_name="Brown", email="liam@example.com", phone="")
    url = reverse("leads:customer_edit", args=[customer.pk])
    form = {"first_name": "Liam", "last_name": "Brown", "email": "", "phone": "",
            "preferred_channel": "email", "language": "en"}  # fmt: skip
    page = supervisor_client.post(url, form).content.decode()
    assert "Keep at least one email or phone" in page
    customer.refresh_from_db()
    assert customer.email == "liam@example.com"
    # With another address on the card, the main one may be emptied.
    supervisor_client.post(
        reverse("leads:customer_contact_add", args=[customer.pk]), {"email": "l.b@example.com"}
    )
    assert supervisor_client.post(url, form).status_code == 302
    customer.refresh_from_db()
    assert customer.email == "" and customer.extra_emails.get().email == "l.b@example.com"


def test_two_households_of_one_name_are_told_apart_on_the_edit_page(supervisor_client):
    from leads.models import Household

    for first, city in (("Jean", "Lévis"), ("Luc", "Gatineau")):
        household = Household.objects.create(name="Tremblay")
        member = factories.customer(first_name=first, last_name="Tremblay")
        Customer.objects.filter(pk=member.pk).update(city=city, household=household)
    page = supervisor_client.get(
        reverse("leads:customer_edit", args=[factories.customer().pk])
    ).content.decode()
    assert "Tremblay (household) — Jean · Lévis" in page and "Tremblay (household) — Luc · Gatineau" in page
