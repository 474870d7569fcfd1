"""Importing a dealer-management-system export: mapping, dry run, bad rows, all-or-nothing; CSV export."""

import csv
import io
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from leads.models import AuditEntry, Customer, CustomerHistoryItem, CustomerImport, HistoryKind
from leads.selectors.consent import consent_check
from leads.services.customer_import import ImportRejected, import_apply, import_create
from leads.services.customers import customer_email_add
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
    assert "“12” is not a phone number" in lines[5] and "klingon" in lines[5]
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
        and not AuditEntry.objects.exists()
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


def test_import_pages_map_preview_and_apply(supervisor_client):
    page = supervisor_client.post(
        reverse("leads:customer_import"), {"file": SimpleUploadedFile("export.csv", GOOD.encode("cp1252"))}
    )
    upload = CustomerImport.objects.get()
    assert page["Location"] == reverse("leads:customer_import_mapping", args=[upload.pk])
    assert upload.content.startswith("Customer Name") and "Montréal" in upload.content  # Windows-1252 decoded
    mapping_page = supervisor_client.get(page["Location"]).content.decode()
    assert "Which column is which" in mapping_page
    form = {f"col_{i}": MAPPING[column] for i, column in enumerate(HEADER.strip().split(","))}
    preview = supervisor_client.post(page["Location"], {**form, "action": "preview"}).content.decode()
    assert "2 rows → 2 new customers" in preview and Customer.objects.count() == 0
    done = supervisor_client.post(page["Location"], {**form, "action": "apply"}, follow=True).content.decode()
    assert "Imported 2 rows" in done and Customer.objects.count() == 2


def test_import_page_shows_bad_lines(supervisor_client):
    upload = batch(HEADER + "X,bad@,,,,,en,,,,,,\n")
    form = {f"col_{i}": MAPPING[column] for i, column in enumerate(HEADER.strip().split(","))}
    page = supervisor_client.post(
        reverse("leads:customer_import_mapping", args=[upload.pk]), {**form, "action": "apply"}
    )
    assert "Line 2: “bad@” is not an email address." in page.content.decode()
    assert Customer.objects.count() == 0


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
