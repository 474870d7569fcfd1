"""Importing a dealer-management-system export: mapping, dry run, bad rows, all-or-nothing; CSV export."""

import csv
import io
from datetime import date, datetime, time, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from leads.models import AuditEntry, Customer, CustomerHistoryItem, CustomerImport, HistoryKind
from leads.selectors.consent import consent_check
from leads.services.customer_import import (
    ImportRejected,
    import_apply,
    import_create,
    import_run,
    import_start,
    row_clean,
)
from leads.services.customers import customer_email_add, history_item_add
from tests import factories

pytestmark = pytest.mark.django_db

MAPPING = {
    "Customer Name": "full_name",
    "E-mail": "email",
    "Home Phone": "phone",
    "Address": "street",
    "City": "city",
    "Postal": "postal_code",
    "Lang": "language",
    "Type": "kind",
    "Deal Date": "date",
    "Vehicle": "vehicle",
    "Sale Price": "price",
    "Term End": "term_ends_on",
    "Deal #": "reference",
}
HEADER = "Customer Name,E-mail,Home Phone,Address,City,Postal,Lang,Type,Deal Date,Vehicle,Sale Price,Term End,Deal #\n"
GOOD = (
    HEADER
    + '"Gauthier, Chloé",chloe@example.com,514-555-0144,12 Rue Saint-Denis,Montréal,H2X 1K4,FR,Lease,2024-05-02,2024 Honda CR-V,"$41,200.00",2028-05-01,D1001\n'
    + "Emma Johnson,EMMA@example.com,416 555 0111,,Toronto,,en,Service,2025/11/03,2019 Ford Escape,,,RO5501\n"
)


def batch(content: str) -> CustomerImport:
    return import_create(filename="dms.csv", data=content.encode("utf-8-sig"), actor=None)


def test_a_file_with_bad_rows_reports_each_line_and_imports_nothing(supervisor):
    existing = factories.customer(first_name="Emma", last_name="Johnson", email="emma@example.com", phone="")
    content = (
        GOOD
        + "Bad Email,not-an-email,416 555 0177,,,,en,Sale,2025-01-01,,,,D1002\n"
        + '"Multi\nLine",ok@example.com,12,,,,klingon,Sale,01/13/2025,,12x,,D1003\n'
        + "Fine Person,fine@example.com,,,,,en,,,,,,\n"
    )
    with pytest.raises(ImportRejected) as rejected:
        import_apply(batch=batch(content), mapping=MAPPING, actor=supervisor.user, dry_run=False)
    lines = dict(rejected.value.errors)
    assert sorted(lines) == [4, 5]  # header is line 1; the quoted newline keeps line 5's number right
    assert "not-an-email" in lines[4]
    assert "“12” is not a phone number with its area code" in lines[5] and "klingon" in lines[5]
    assert "01/13/2025" in lines[5] and "“12x” is not a number" in lines[5]
    # Nothing of the good rows was written.
    assert list(Customer.objects.all()) == [existing]
    assert CustomerHistoryItem.objects.count() == 0 and not existing.extra_phones.exists()


def test_dry_run_previews_exactly_and_writes_nothing_then_apply_imports_everything(supervisor):
    existing = factories.customer(first_name="Emma", last_name="Johnson", email="emma@example.com", phone="")
    upload = batch(GOOD)
    preview = import_apply(batch=upload, mapping=MAPPING, actor=supervisor.user, dry_run=True)
    assert (preview.rows, preview.customers_created, preview.customers_updated, preview.history_added) == (
        2,
        1,
        1,
        2,
    )
    assert (
        Customer.objects.count() == 1
        and CustomerHistoryItem.objects.count() == 0
        and not AuditEntry.objects.filter(action__startswith="import_").exists()
    )

    summary = import_apply(batch=upload, mapping=MAPPING, actor=supervisor.user, dry_run=False)
    assert vars(summary) == vars(preview)
    chloe = Customer.objects.get(email="chloe@example.com")
    assert (chloe.first_name, chloe.last_name, chloe.language, chloe.phone) == (
        "Chloé",
        "Gauthier",
        "fr",
        "+15145550144",
    )
    lease = chloe.history_items.get()
    assert (
        lease.kind == HistoryKind.LEASE
        and lease.term_ends_on == date(2028, 5, 1)
        and str(lease.price) == "41200.00"
    )
    assert consent_check(customer=chloe, channel="email", at=lease.occurred_at).basis == "implied_purchase"
    existing.refresh_from_db()
    assert existing.phone == "+14165550111" and existing.history_items.get().department == "service"
    # One audit entry per customer the import created or changed, with before and after.
    entries = AuditEntry.objects.filter(action__startswith="import_")
    assert entries.count() == 2
    assert entries.get(customer=existing).changes["phone"] == ["", "+14165550111"]
    # Importing the same file again adds no history twice.
    again = import_apply(batch=batch(GOOD), mapping=MAPPING, actor=supervisor.user, dry_run=False)
    assert (
        again.history_added == 0
        and again.history_already_there == 2
        and CustomerHistoryItem.objects.count() == 2
    )


def test_a_row_on_someone_elses_phone_with_another_name_is_a_new_customer(supervisor):
    """François Bélanger has no email and the number Olivier Côté once gave: his visit and address
    are his own, and Olivier's record is left as it was."""
    olivier = factories.customer(
        first_name="Olivier", last_name="Côté", email="olivier@example.com", phone="514 555 0122"
    )
    content = (
        HEADER
        + "François Bélanger,,514.555.0122,45 boul. René-Lévesque,Québec,,fr,Service,2025-06-02,Corolla 2019,,,\n"
    )
    summary = import_apply(batch=batch(content), mapping=MAPPING, actor=supervisor.user, dry_run=False)
    assert (summary.customers_created, summary.customers_updated) == (1, 0)
    francois = Customer.objects.get(last_name="Bélanger")
    assert francois.phone == "+15145550122" and francois.street == "45 boul. René-Lévesque"
    assert francois.history_items.get().summary == "Service visit Corolla 2019"
    olivier.refresh_from_db()
    assert olivier.street == "" and not olivier.history_items.exists()


def test_a_second_person_on_a_familys_shared_email_is_a_customer_of_their_own(supervisor):
    """A DMS gives a family one address: Marie's RAV4 and phone are hers, not Jean's. The address
    stays Jean's (an email is one customer's), the two are linked as a household, and the file imported
    again finds each of them. The same name typed without accents or capitals is the address's owner."""
    helene = factories.customer(first_name="Hélène", last_name="Côté", email="helene@example.com", phone="")
    content = (
        "Name,Email,Phone,Type,Date,Vehicle\r\n"
        "Jean Roy,famille.roy@example.com,514-555-0101,Sale,2025-05-02,2025 Honda Civic\r\n"
        "Marie Tremblay,famille.roy@example.com,514-555-0199,Sale,2025-06-03,2025 Toyota RAV4\r\n"
        "MARIE TREMBLAY,famille.roy@example.com,,Service,2025-07-03,2025 Toyota RAV4\r\n"
        "helene cote,helene@example.com,514-555-0177,Service,2025-07-04,2019 Mazda 3\r\n"
    )
    mapping = {"Name": "full_name", "Email": "email", "Phone": "phone", "Type": "kind", "Date": "date",
               "Vehicle": "vehicle"}  # fmt: skip
    summary = import_apply(batch=batch(content), mapping=mapping, actor=supervisor.user, dry_run=False)
    assert (summary.customers_created, summary.customers_updated, summary.errors) == (2, 1, [])
    jean = Customer.objects.get(email="famille.roy@example.com")
    marie = Customer.objects.get(first_name="Marie", last_name="Tremblay")
    assert (jean.first_name, jean.phone) == ("Jean", "+15145550101") and not jean.extra_phones.exists()
    assert list(jean.history_items.values_list("vehicle", flat=True)) == ["2025 Honda Civic"]
    assert (marie.email, marie.phone) == ("", "+15145550199")
    assert marie.history_items.filter(vehicle="2025 Toyota RAV4").count() == 2
    assert marie.household is not None and marie.household == jean.household
    helene.refresh_from_db()
    assert helene.phone == "+15145550177" and helene.history_items.count() == 1
    again = import_apply(batch=batch(content), mapping=mapping, actor=supervisor.user, dry_run=False)
    assert (again.customers_created, again.history_added, Customer.objects.count()) == (0, 0, 3)


@pytest.mark.parametrize(
    "name", ["Marie Tremblay-Gagnon", "Marie-Ève Tremblay Gagnon", "Tremblay Marie", "MARIE ROY"]
)
def test_the_owner_of_the_email_under_a_name_written_otherwise_is_not_duplicated(supervisor, name):
    """The DMS writes the email's owner with a fuller family name, a compound first name, family name
    first, or only the same first name: the sale is hers, with no email-less copy in a household."""
    marie = factories.customer(first_name="Marie", last_name="Tremblay", email="marie@example.com", phone="")
    content = f"Name,Email,Type,Date,Vehicle\r\n{name},marie@example.com,Sale,2025-05-02,2025 Honda Civic\r\n"
    mapping = {"Name": "full_name", "Email": "email", "Type": "kind", "Date": "date", "Vehicle": "vehicle"}
    import_apply(batch=batch(content), mapping=mapping, actor=supervisor.user, dry_run=False)
    assert Customer.objects.count() == 1
    assert marie.history_items.count() == 1


def test_a_repair_order_numbered_like_an_earlier_deal_is_imported(supervisor):
    """A DMS numbers deals and repair orders apart: RO 10452 is not deal 10452 imported again."""
    sales = (
        "Name,Email,Type,Date,Vehicle,Number\nAnn Walker,ann@example.com,Sale,2025-05-01,2025 RAV4,10452\n"
    )
    service = (
        "Name,Email,Type,Date,Summary,Number\nMei Chen,mei@example.com,Service,2025-06-10,Brake pads,10452\n"
    )
    mapping = {"Name": "full_name", "Email": "email", "Type": "kind", "Date": "date", "Vehicle": "vehicle",
               "Summary": "summary", "Number": "reference"}  # fmt: skip
    import_apply(batch=batch(sales), mapping=mapping, actor=supervisor.user, dry_run=False)
    summary = import_apply(batch=batch(service), mapping=mapping, actor=supervisor.user, dry_run=False)
    assert (summary.history_added, summary.history_already_there) == (1, 0)
    mei = Customer.objects.get(email="mei@example.com")
    assert list(mei.history_items.values_list("kind", "summary")) == [("service_visit", "Brake pads")]
    again = import_apply(batch=batch(service), mapping=mapping, actor=supervisor.user, dry_run=False)
    assert (again.history_added, again.history_already_there) == (0, 1)


def test_repeated_rows_and_a_file_imported_again_without_numbers_add_nothing_twice(supervisor):
    """No repair-order numbers in the export: the same visit of the same customer on the same day is
    there already, inside the file or from its earlier upload; so is the customer known by name alone."""
    content = (
        "First,Last,Email,Postal,Type,Date,Description\n"
        "Ann,Walker,ann@example.com,,Service,2025-06-11,Oil change\n"
        "Ann,Walker,ann@example.com,,Service,2025-06-11,Oil change\n"
        "Ann,Walker,ann@example.com,,Service,2025-06-12,Oil change\n"
        "Bea,Lamarre,,,Service,2025-06-12,Tire swap\n"
        "Bea,Lamarre,,,Service,2025-06-12,Tire swap\n"
        "Carl,Roy,,G6V 1A1,Service,2025-06-12,Tire swap\n"
    )
    mapping = {"First": "first_name", "Last": "last_name", "Email": "email", "Postal": "postal_code",
               "Type": "kind", "Date": "date", "Description": "summary"}  # fmt: skip
    preview = import_apply(batch=batch(content), mapping=mapping, actor=supervisor.user, dry_run=True)
    assert (preview.customers_created, preview.history_added, preview.history_already_there) == (3, 4, 2)
    import_apply(batch=batch(content), mapping=mapping, actor=supervisor.user, dry_run=False)
    again = import_apply(
        batch=batch(content.replace(",G6V 1A1,", ",g6v1a1,")),
        mapping=mapping,
        actor=supervisor.user,
        dry_run=False,
    )
    assert (again.customers_created, again.history_added, again.history_already_there) == (0, 0, 6)
    assert Customer.objects.count() == 3
    assert Customer.objects.get(email="ann@example.com").history_items.count() == 2
    bea = Customer.objects.get(last_name="Lamarre")
    assert list(bea.history_items.values_list("summary", flat=True)) == ["Tire swap"]
    # A namesake known by an address or a contact is someone else until the row says more.
    factories.customer(first_name="Dan", last_name="Roy", email="dan@example.com")
    other = import_apply(
        batch=batch("First,Last,Type,Date\nDan,Roy,Service,2025-06-12\n"), mapping=mapping,
        actor=supervisor.user, dry_run=False,
    )  # fmt: skip
    assert other.customers_created == 1


def test_the_files_language_replaces_a_guess_but_not_what_staff_set_on_the_record(supervisor):
    from leads.services.customers import customer_update

    # Chloé first wrote in English; the store's file says she asked for French.
    guessed = factories.customer(
        first_name="Chloé", last_name="Gauthier", email="chloe@example.com", language="en"
    )
    # Emma told a salesperson she prefers French, who set it on her record; the file is out of date.
    chosen = factories.customer(
        first_name="Emma", last_name="Johnson", email="emma@example.com", language="en"
    )
    customer_update(customer=chosen, actor=supervisor.user, language="fr")
    content = GOOD.replace(",Toronto,,en,", ",Toronto,,EN,")
    import_apply(batch=batch(content), mapping=MAPPING, actor=supervisor.user, dry_run=False)
    guessed.refresh_from_db()
    chosen.refresh_from_db()
    assert (guessed.language, chosen.language) == ("fr", "fr")
    assert AuditEntry.objects.get(customer=guessed, action="import_updated").changes["language"] == [
        "en",
        "fr",
    ]


@pytest.fixture
def worker(eager_celery, django_capture_on_commit_callbacks):
    """Run what the pages enqueue, as the Celery worker would, when the request commits."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


MAPPING_FORM = {f"col_{i}": MAPPING[column] for i, column in enumerate(HEADER.strip().split(","))}


def test_import_pages_map_preview_and_apply_in_the_background(supervisor_client, worker):
    page = supervisor_client.post(
        reverse("leads:customer_import"), {"file": SimpleUploadedFile("export.csv", GOOD.encode("cp1252"))}
    )
    upload = CustomerImport.objects.get()
    url = reverse("leads:customer_import_mapping", args=[upload.pk])
    assert page["Location"] == url
    assert upload.content.startswith("Customer Name") and "Montréal" in upload.content  # Windows-1252 decoded
    assert "Which column is which" in supervisor_client.get(url).content.decode()
    # Importing before a preview is refused.
    refused = supervisor_client.post(url, {**MAPPING_FORM, "action": "apply"}).content.decode()
    assert "Preview this mapping first" in refused and Customer.objects.count() == 0
    with worker():
        supervisor_client.post(url, {**MAPPING_FORM, "action": "preview"})
    preview = supervisor_client.get(url).content.decode()
    assert "2 rows → 2 new customers" in preview and Customer.objects.count() == 0
    # A changed mapping needs its own preview.
    changed = supervisor_client.post(url, {**MAPPING_FORM, "col_5": "", "action": "apply"}).content.decode()
    assert "Preview this mapping first" in changed
    with worker():
        supervisor_client.post(url, {**MAPPING_FORM, "action": "apply"})
    done = supervisor_client.get(url).content.decode()
    assert "2 new customers, 0 updated, 2 history items" in done and Customer.objects.count() == 2
    upload.refresh_from_db()
    assert upload.state == "applied" and upload.run_by.username == "sup"


def test_while_the_worker_runs_the_page_says_so_and_refreshes_when_done(supervisor_client):
    upload = batch(GOOD)
    url = reverse("leads:customer_import_mapping", args=[upload.pk])
    supervisor_client.post(url, {**MAPPING_FORM, "action": "preview"})  # enqueued, not run
    assert "Checking every row" in supervisor_client.get(url).content.decode()
    assert supervisor_client.get(url, HTTP_HX_REQUEST="true").status_code == 204  # still working: no change
    import_run(batch_id=upload.pk)
    assert supervisor_client.get(url, HTTP_HX_REQUEST="true")["HX-Refresh"] == "true"


def test_import_page_shows_bad_lines_and_offers_no_import(supervisor_client, worker):
    upload = batch(HEADER + "X,bad@,,,,,en,,,,,,\n")
    url = reverse("leads:customer_import_mapping", args=[upload.pk])
    with worker():
        supervisor_client.post(url, {**MAPPING_FORM, "action": "preview"})
    page = supervisor_client.get(url).content.decode()
    assert "Line 2: “bad@” is not an email address." in page and 'value="apply"' not in page
    assert Customer.objects.count() == 0


def test_running_the_same_import_twice_imports_once(supervisor):
    upload = batch(GOOD)
    import_start(batch=upload, mapping=MAPPING, apply=False, actor=supervisor.user)
    import_run(batch_id=upload.pk)
    import_start(batch=upload, mapping=MAPPING, apply=True, actor=supervisor.user)
    first = import_run(batch_id=upload.pk)
    second = import_run(batch_id=upload.pk)  # a redelivered task
    assert first["customers_created"] == 2 and second == first
    assert Customer.objects.count() == 2 and CustomerHistoryItem.objects.count() == 2


def test_a_deal_dated_after_today_is_a_bad_row_and_the_preview_finishes(supervisor):
    next_week = (timezone.localdate() + timedelta(days=7)).isoformat()
    upload = batch(HEADER + f"Carl Walker,carl@example.com,,,,,en,Sale,{next_week},2025 Camry,,,D9\n")
    import_start(batch=upload, mapping=MAPPING, apply=False, actor=supervisor.user)
    import_run(batch_id=upload.pk)
    upload.refresh_from_db()
    assert upload.state == CustomerImport.State.PREVIEWED
    assert upload.summary["errors"] == [[2, f"history: date: “{next_week}” is later than today"]]


def test_a_deal_of_this_morning_imports_before_noon_with_its_consent(supervisor, monkeypatch):
    nine = timezone.make_aware(datetime.combine(timezone.localdate(), time(9)))
    monkeypatch.setattr(timezone, "now", lambda: nine)
    content = HEADER + f"Carl Walker,carl@example.com,,,,,en,Sale,{nine.date()},2025 Camry,,,D9\n"
    upload = batch(content)
    import_start(batch=upload, mapping=MAPPING, apply=False, actor=supervisor.user)
    import_run(batch_id=upload.pk)
    import_start(batch=upload, mapping=MAPPING, apply=True, actor=supervisor.user)
    import_run(batch_id=upload.pk)
    upload.refresh_from_db()
    assert upload.state == CustomerImport.State.APPLIED
    carl = Customer.objects.get(email="carl@example.com")
    assert carl.history_items.get().occurred_at == nine
    assert consent_check(customer=carl, channel="email", at=nine).basis == "implied_purchase"


def test_advisors_may_not_import(client):
    advisor = factories.staff("advisor")
    client.force_login(advisor.user)
    assert client.get(reverse("leads:customer_import")).status_code == 403


def test_export_csv_lists_active_customers_with_all_their_contacts(supervisor_client):
    customer = factories.customer(
        first_name="Léa", last_name="Morin", email="lea@example.com", phone="819 555 0166"
    )
    customer_email_add(customer=customer, email="lea@work.example")
    rows = list(
        csv.DictReader(
            io.StringIO(supervisor_client.get(reverse("leads:customers_export_csv")).content.decode())
        )
    )
    assert (
        rows == [rows[0]]
        and rows[0]["last_name"] == "Morin"
        and rows[0]["other_emails"] == "lea@work.example"
    )


def test_a_french_excel_export_keeps_its_decimal_comma_prices(supervisor):
    """Semicolons, Windows-1252 accents and prices written 29 995,50 $: the sale is $29,995.50, not a
    hundred times more; a price that reads two ways (29.995) is refused rather than rounded."""
    content = (
        "Nom;Courriel;Type;Date;Prix;Adresse\r\n"
        "Côté, Hélène;helene@example.com;Sale;2024-05-02;29 995,50 $;12, rue Saint-Denis\r\n"
        'Roy, Marc;marc@example.com;Sale;2024-06-03;"$41,200.00";\r\n'
    )
    mapping = {"Nom": "full_name", "Courriel": "email", "Type": "kind", "Date": "date", "Prix": "price",
               "Adresse": "street"}  # fmt: skip
    upload = import_create(filename="dms.csv", data=content.encode("cp1252"), actor=None)
    import_apply(batch=upload, mapping=mapping, actor=supervisor.user, dry_run=False)
    helene = Customer.objects.get(email="helene@example.com")
    assert (helene.first_name, helene.last_name, helene.street) == ("Hélène", "Côté", "12, rue Saint-Denis")
    assert str(helene.history_items.get().price) == "29995.50"
    assert str(Customer.objects.get(email="marc@example.com").history_items.get().price) == "41200.00"
    ambiguous = import_create(
        filename="dms.csv",
        data=(content.split("\r\n")[0] + "\r\nA B;ab@example.com;Sale;2024-05-02;29.995;\r\n").encode(),
        actor=None,
    )
    with pytest.raises(ImportRejected) as rejected:
        import_apply(batch=ambiguous, mapping=mapping, actor=supervisor.user, dry_run=False)
    assert "price: “29.995”" in rejected.value.errors[0][1]


def test_a_quebec_export_in_french_words_is_read(supervisor):
    content = (
        "Nom;Courriel;Type;Date;Type de transaction\n"
        "Luc Dubé;luc@example.com;Achat;2025-04-01;Financement\n"
        "Zoé Roy;zoe@example.com;location;2025-04-02;LOCATION\n"
        "Ève Roy;eve@example.com;Vente;2025-04-03;Comptant\n"
        "Léo Roy;leo@example.com;Entretien;2025-04-04;\n"
        "Léa Roy;lea@example.com;Pieces;2025-04-05;\n"
        "Noé Roy;noe@example.com;Carrosserie;2025-04-06;\n"
    )
    mapping = {"Nom": "full_name", "Courriel": "email", "Type": "kind", "Date": "date",
               "Type de transaction": "deal_type"}  # fmt: skip
    import_apply(batch=batch(content), mapping=mapping, actor=supervisor.user, dry_run=False)
    assert list(CustomerHistoryItem.objects.order_by("occurred_at").values_list("kind", "deal_type")) == [
        ("purchase", "finance"),
        ("lease", "lease"),
        ("purchase", "cash"),
        ("service_visit", ""),
        ("parts_order", ""),
        ("body_shop_job", ""),
    ]


def test_a_department_column_is_read_in_english_and_french_and_an_unknown_one_is_refused(supervisor):
    """A body-shop job from a Québec export is the body shop's, not the service department's."""
    words = ["Body Shop", "carrosserie", "Pièces", "Parts", "Ventes", "Sales", "Finance", "Financement",
             "SERVICE", "body_shop", ""]  # fmt: skip
    rows = [f"Ann Lee,ann@example.com,Repair,2025-04-{day:02},{word}" for day, word in enumerate(words, 1)]
    mapping = {"Name": "full_name", "Email": "email", "Type": "kind", "Date": "date", "Dept": "department"}
    import_apply(batch=batch("Name,Email,Type,Date,Dept\n" + "\n".join(rows) + "\n"), mapping=mapping,
                 actor=supervisor.user, dry_run=False)  # fmt: skip
    assert list(CustomerHistoryItem.objects.order_by("occurred_at").values_list("department", flat=True)) == [
        "body_shop", "body_shop", "parts", "parts", "sales", "sales", "finance", "finance", "service",
        "body_shop", "service",  # a blank cell: the department of a service visit
    ]  # fmt: skip
    unknown = "Name,Email,Type,Date,Dept\nBob Lee,bob@example.com,Repair,2025-05-02,Garage\n"
    with pytest.raises(ImportRejected) as rejected:
        import_apply(batch=batch(unknown), mapping=mapping, actor=supervisor.user, dry_run=False)
    assert rejected.value.errors == [
        (2, "department “Garage” is none of sales, service, parts, finance, body shop")
    ]


ACCEPTED_WORDS = {
    "en": (
        "purchase, sale, sold, cash, finance, lease, service, repair, ro, parts, body shop, body, collision",
        "cash, finance, financing, lease",
    ),
    "fr": (
        "achat, vente, vendu, comptant, financement, location, entretien, service, réparation, pièces, "
        "carrosserie, collision",
        "comptant, financement, location",
    ),
}


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_refused_kind_or_deal_type_is_told_the_words_that_are_accepted(supervisor, language):
    content = "Name,Email,Type,Date,Deal\nAnn Lee,ann@example.com,Rental,2025-04-01,Barter\n"
    mapping = {"Name": "full_name", "Email": "email", "Type": "kind", "Date": "date", "Deal": "deal_type"}
    with translation.override(language), pytest.raises(ImportRejected) as rejected:
        import_apply(batch=batch(content), mapping=mapping, actor=supervisor.user, dry_run=False)
    [(_line, problems)] = rejected.value.errors
    kinds, deal_types = ACCEPTED_WORDS[language]
    assert f"{kinds};" in problems and problems.endswith(deal_types)
    # Every word the refusal names is one the import reads.
    rows = [f"Ann Lee,ann@example.com,{kind},2025-04-01,cash" for kind in kinds.split(", ")]
    rows += [f"Ann Lee,ann@example.com,sale,2025-04-01,{deal_type}" for deal_type in deal_types.split(", ")]
    upload = batch("Name,Email,Type,Date,Deal\n" + "\n".join(rows) + "\n")
    assert import_apply(batch=upload, mapping=mapping, actor=supervisor.user, dry_run=True).errors == []


def test_a_cell_too_long_or_too_large_for_its_field_is_a_bad_row_not_a_stuck_import(supervisor):
    """PostgreSQL refuses text longer than its column: the preview named no line and never ended.
    A VIN copied with spaces is taken as its 17 characters."""
    header = "Name,Email,Type,Date,VIN,Province,Odometer,Term\n"
    content = (
        header
        + "Ann Lee,ann@example.com,Service,2024-05-02,2T3W1RFV 8RC-123456,ON,120 000,\n"
        + f"Bob Roy,bob@example.com,Service,2024-05-02,,{'Ontario ' * 8},3000000000,40000\n"
    )
    mapping = {"Name": "full_name", "Email": "email", "Type": "kind", "Date": "date", "VIN": "vin",
               "Province": "province", "Odometer": "odometer_km", "Term": "term_months"}  # fmt: skip
    with pytest.raises(ImportRejected) as rejected:
        import_apply(batch=batch(content), mapping=mapping, actor=supervisor.user, dry_run=False)
    [(line, problems)] = rejected.value.errors
    assert line == 3
    assert "province: longer than 50 characters" in problems
    assert "odometer (km): “3000000000” is too large" in problems and "term (months): “40000”" in problems
    # Kilometres are read as the stock import reads them, with its ceiling: 9,999,999.
    with pytest.raises(ValueError, match=r"odometer \(km\): “50 000 000” is too large"):
        row_clean({"email": "ann@example.com", "odometer_km": "50 000 000"})
    import_apply(batch=batch(content.splitlines()[0] + "\n" + content.splitlines()[1]), mapping=mapping,
                 actor=supervisor.user, dry_run=False)  # fmt: skip
    visit = CustomerHistoryItem.objects.get()
    assert (visit.vin, visit.odometer_km) == ("2T3W1RFV8RC123456", 120000)


def test_a_history_summary_longer_than_its_column_is_a_bad_row_not_cut(supervisor):
    """A repair order's description as the DMS exports it: its end was cut off unsaid, and lost
    with the file once discarded."""
    summary = "RO 55012: " + "replaced front brake pads and rotors, " * 9 + "road tested"
    upload = batch(
        f'Name,Email,Type,Date,Description\nEmma Johnson,emma@example.com,Service,2025-11-03,"{summary}"\n'
    )
    mapping = {
        "Name": "full_name",
        "Email": "email",
        "Type": "kind",
        "Date": "date",
        "Description": "summary",
    }
    import_start(batch=upload, mapping=mapping, apply=False, actor=supervisor.user)
    import_run(batch_id=upload.pk)
    upload.refresh_from_db()
    assert upload.summary["errors"] == [[2, "history: summary: longer than 300 characters"]]
    assert not CustomerHistoryItem.objects.exists()
    # Whoever else writes one is refused too, never cut.
    with pytest.raises(ValueError, match="300 characters at most"):
        history_item_add(customer=factories.customer(), kind=HistoryKind.SERVICE_VISIT, occurred_at=timezone.now(),
                         summary=summary)  # fmt: skip
    assert not CustomerHistoryItem.objects.exists()


def upload(client, data: bytes):
    return client.post(reverse("leads:customer_import"), {"file": SimpleUploadedFile("export.csv", data)})


def test_excels_unicode_text_export_is_read(supervisor_client):
    """Excel's "Unicode text": UTF-16 with a byte-order mark, tab separated."""
    data = "Name\tEmail\r\nJosé Núñez\tjose@example.com\r\n".encode("utf-16")
    assert upload(supervisor_client, data).status_code == 302
    batch = CustomerImport.objects.get()
    assert batch.mapping == {"Name": "full_name", "Email": "email"} and "José Núñez" in batch.content


def test_a_utf8_export_with_a_line_pasted_from_windows_is_refused_naming_the_line(supervisor_client):
    """Read as Windows-1252, every UTF-8 accent of the file would be stored garbled (HÃ©lÃ¨ne)."""
    data = (
        "Name,City\r\nHélène Côté,Montréal\r\nJérôme Bérubé,Québec\r\n".encode()
        + "Noël Gagné,Lévis\r\n".encode("cp1252")
    )
    response = upload(supervisor_client, data)
    assert response.status_code == 200 and not CustomerImport.objects.exists()
    assert "These lines are not UTF-8 like the rest of the file" in response.content.decode()
    assert "come out wrong: 4." in response.content.decode()


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + bytes(range(256)) * 20,
        b"Name,Email\nAnn\x00Lee,a@b.c\n",
    ],
    ids=["workbook", "nul"],
)
def test_an_upload_that_is_not_csv_text_is_refused_clearly(supervisor_client, data):
    """A workbook uploaded as it is, or a file with NUL characters (PostgreSQL stores no NUL)."""
    response = upload(supervisor_client, data)
    assert response.status_code == 200 and not CustomerImport.objects.exists()
    assert "Save it as CSV" in response.content.decode()


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b"\n\n\n", "The file is empty."),
        (b",,,\n,,,\n", "The file is empty."),
        (b"\xef\xbb\xbf\r\n", "The file is empty."),  # Excel's "CSV UTF-8" of an empty sheet
        (b"\nName,Email\nAnn Lee,ann@example.com\n", "The first line must name the columns."),
    ],
    ids=["blank-lines", "delimiters", "excel-empty", "header-not-first"],
)
def test_a_file_without_any_column_is_refused_clearly(supervisor_client, data, said):
    """The wrong (empty) export gave a mapping page with nothing to map, and no word why."""
    response = upload(supervisor_client, data)
    assert response.status_code == 200 and not CustomerImport.objects.exists()
    assert response.context["form"].errors["file"] == [said]
    assert said in response.content.decode()


def test_a_quebec_export_with_french_headers_and_a_trailing_delimiter_is_mapped(supervisor):
    content = "Prénom;Nom;Courriel;Téléphone;Ville;Code postal;Langue;\nLéa;Morin;lea@example.com;514 555 0166;Laval;H7N 1A1;fr;\n"
    batch = import_create(filename="clients.csv", data=content.encode("utf-8"), actor=supervisor.user)
    assert batch.mapping == {
        "Prénom": "first_name", "Nom": "last_name", "Courriel": "email", "Téléphone": "phone",
        "Ville": "city", "Code postal": "postal_code", "Langue": "language",
    }  # fmt: skip
    alone = import_create(
        filename="c.csv", data=b"Nom,Courriel\nLea Morin,lea@example.com\n", actor=supervisor.user
    )
    assert alone.mapping["Nom"] == "full_name"  # no first name beside it: the whole name


def test_a_row_with_more_values_than_columns_is_a_bad_row_not_shifted(supervisor):
    """An unquoted comma in "12, rue Principale" makes one value too many: the city would be stored
    as the street, the postal code as the city. A delimiter ending a line only adds a blank cell."""
    content = (
        "Name,Email,Street,City,Postal Code\r\n"
        "Marc Roy,marc@example.com,12, rue Principale,Montréal,H2X 1K4\r\n"
        "Ann Lee,ann@example.com,3 Elm St,Toronto,M5V 2T6,\r\n"
    )
    mapping = {"Name": "full_name", "Email": "email", "Street": "street", "City": "city",
               "Postal Code": "postal_code"}  # fmt: skip
    with pytest.raises(ImportRejected) as rejected:
        import_apply(batch=batch(content), mapping=mapping, actor=supervisor.user, dry_run=False)
    assert rejected.value.errors == [(2, "6 values for 5 columns: is a comma inside a value not in quotes?")]
    assert not Customer.objects.exists()
    fixed = content.replace("12, rue Principale", '"12, rue Principale"')
    import_apply(batch=batch(fixed), mapping=mapping, actor=supervisor.user, dry_run=False)
    assert list(Customer.objects.order_by("email").values_list("street", "city", "postal_code")) == [
        ("3 Elm St", "Toronto", "M5V 2T6"),
        ("12, rue Principale", "Montréal", "H2X 1K4"),
    ]


def test_a_cell_column_beside_the_home_phone_is_guessed_as_the_other_phone(supervisor):
    content = b"Name,Home Phone,Cell,Work Phone\nAnn Lee,416 555 0111,416 555 0112,416 555 0113\n"
    upload = import_create(filename="c.csv", data=content, actor=supervisor.user)
    assert upload.mapping == {"Name": "full_name", "Home Phone": "phone", "Cell": "phone_2"}
    import_apply(batch=upload, mapping=upload.mapping, actor=supervisor.user, dry_run=False)
    ann = Customer.objects.get()
    assert ann.phone == "+14165550111"
    assert list(ann.extra_phones.values_list("phone", flat=True)) == ["+14165550112"]


def test_kilometres_are_read_as_the_stock_import_reads_them(supervisor):
    rows = [
        "Ann Lee,ann@example.com,Service,2024-05-02,61.200",
        "Bob Roy,bob@example.com,Service,2024-05-03,61 200 km",
    ]
    rows.append("Cy Roy,cy@example.com,Service,2024-05-04,61.5")
    mapping = {
        "Name": "full_name",
        "Email": "email",
        "Type": "kind",
        "Date": "date",
        "Odometer": "odometer_km",
    }
    with pytest.raises(ImportRejected) as rejected:
        import_apply(batch=batch("Name,Email,Type,Date,Odometer\n" + "\n".join(rows) + "\n"), mapping=mapping,
                     actor=supervisor.user, dry_run=False)  # fmt: skip
    [(line, problems)] = rejected.value.errors
    assert line == 4 and "“61.5” is not a number" in problems  # a decimal, not a group of thousands
    import_apply(batch=batch("Name,Email,Type,Date,Odometer\n" + "\n".join(rows[:2]) + "\n"), mapping=mapping,
                 actor=supervisor.user, dry_run=False)  # fmt: skip
    assert sorted(CustomerHistoryItem.objects.values_list("odometer_km", flat=True)) == [61200, 61200]
