"""Customer pages (list, card, edit, consent, audit, duplicates, import, loyalty rules) in French
for a browser that asks for it; English otherwise, as before."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from dealership.models import Role
from leads.models import AuditEntry, Customer, CustomerImport, HistoryKind, LoyaltyRule
from leads.services.consent import consent_withdraw
from leads.services.customers import history_item_add
from tests import factories
from tests.french import ENGLISH, FRENCH, NBSP, flash_text, page_text

pytestmark = pytest.mark.django_db


def test_customer_list_in_french_for_a_french_browser_in_english_otherwise(supervisor_client):
    factories.customer(first_name="Josée", last_name="Tremblay", language="fr")
    url = reverse("leads:customer_list")
    page = page_text(supervisor_client, url, FRENCH)
    for text in (
        "<title>Clients",
        '<h1 class="h3 mb-0">Clients</h1>',
        ">Doublons possibles</a>",
        ">Importer du système de gestion</a>",
        ">Exporter en CSV</a>",
        'placeholder="Nom, courriel ou téléphone"',
        'aria-label="Chercher des clients"',
        "<th>Nom</th><th>Courriel</th><th>Téléphone</th><th>Ville</th><th>Langue</th>",
        "<td>Français</td>",
    ):
        assert text in page, text
    assert "Possible duplicates" not in page and "<th>City</th>" not in page
    empty = page_text(supervisor_client, url + "?q=nobody-at-all", FRENCH)
    assert "Aucun client trouvé." in empty
    for headers in (ENGLISH, {}):
        page = page_text(supervisor_client, url, headers)
        assert (
            ">Possible duplicates</a>" in page
            and "<th>Name</th><th>Email</th><th>Phone</th><th>City</th>" in page
        )
        assert "Doublons possibles" not in page


def test_customer_card_in_french_with_its_timeline_and_consent(supervisor_client):
    customer = factories.customer(first_name="Josée", last_name="Tremblay", email="josee@example.test")
    factories.lead(customer_obj=customer, source="AutoTrader")
    history_item_add(
        customer=customer, kind=HistoryKind.SERVICE_VISIT, occurred_at=timezone.now(), summary="Oil change",
        department="service",
    )  # fmt: skip
    consent_withdraw(customer=customer, channels=["text"], source="Told staff")
    url = reverse("leads:customer_detail", args=[customer.pk])
    page = page_text(supervisor_client, url, FRENCH)
    for text in (
        ">Fiche et chronologie</a>",
        ">Modifier</a>",
        ">Rapport de consentement</a>",
        ">Journal des modifications</a>",
        ">Exporter ses données (JSON)</a>",
        f"Moyen préféré{NBSP}: courriel · Langue{NBSP}: Anglais",
        "aucun téléphone",
        '<h2 class="h5">Consentement</h2>',
        '<h2 class="h5">Chronologie</h2>',
        f"<th>Moyen</th><th>Pouvons-nous écrire{NBSP}?</th><th>Pourquoi</th><th>Jusqu’au</th>",
        "<td>Courriel</td>",
        "<td>Texto</td>",
        '<span class="badge text-bg-danger">Non</span>',
        "Aucun consentement consigné",
        "Retiré le ",  # the text channel's withdrawal, with when and how
        "<strong>Demande</strong> · Ventes",
        "<strong>Visite au service</strong>",
        "Oil change",  # what was written stays as written
        "Autre courriel",
        "Type de téléphone",
        ">Ajouter</button>",
    ):
        assert text in page, text
    for english in ("Card and timeline", "May we write?", "No consent recorded", "Timeline", "Service visit"):
        assert english not in page, english
    english = page_text(supervisor_client, url, ENGLISH)
    assert "Prefers email, English" in english and "No consent recorded" in english
    assert "Withdrawn on " in english and "<strong>Lead</strong> · Sales" in english
    assert "<strong>Service visit</strong>" in english and "<td>Text</td>" in english


def test_editing_a_customer_in_french_labels_flash_and_refusal(supervisor_client):
    customer = factories.customer(first_name="Josée", last_name="Tremblay", email="josee@example.test")
    url = reverse("leads:customer_edit", args=[customer.pk])
    page = page_text(supervisor_client, url, FRENCH)
    for text in (
        "<title>Modifier Josée Tremblay",
        "Prénom",
        "Code postal",
        "Moyen préféré",
        ">Enregistrer</button>",
    ):
        assert text in page, text
    assert "First name" not in page and ">Save</button>" not in page
    data = {"first_name": "Josée", "last_name": "Tremblay", "email": "josee@example.test", "phone": "12",
            "preferred_channel": "email", "language": "fr"}  # fmt: skip
    refused = supervisor_client.post(url, data, headers=FRENCH).content.decode()
    assert f"«{NBSP}12{NBSP}» n’est pas un numéro de téléphone avec son indicatif régional." in refused
    saved = supervisor_client.post(url, data | {"phone": ""}, headers=FRENCH, follow=True)
    assert flash_text(saved) == "Client enregistré."
    saved = supervisor_client.post(url, data | {"phone": ""}, headers=ENGLISH, follow=True)
    assert flash_text(saved) == "Customer saved."


def test_a_customer_page_refused_in_french(client):
    customer = factories.customer(first_name="Josée", last_name="Tremblay")
    advisor = factories.staff(Role.ADVISOR)
    client.force_login(advisor.user)
    refused = client.get(reverse("leads:customer_edit", args=[customer.pk]), headers=FRENCH)
    assert refused.status_code == 403
    assert "Seuls un superviseur, un directeur ou le conseiller responsable" in refused.content.decode()
    refused = client.get(reverse("leads:customer_edit", args=[customer.pk]), headers=ENGLISH)
    assert "Only a supervisor, a manager or the advisor assigned" in refused.content.decode()


def test_consent_report_in_french_with_its_forms_flash_and_refusal(supervisor_client):
    customer = factories.customer(first_name="Josée", last_name="Tremblay", email="josee@example.test")
    url = reverse("leads:customer_consent", args=[customer.pk])
    page = page_text(supervisor_client, url, FRENCH)
    for text in (
        "<title>Rapport de consentement · Josée Tremblay",
        f"Rapport de consentement{NBSP}: Josée Tremblay",
        "Ce que nous détenons et pourquoi nous pouvons écrire",
        f"Registre (jamais modifié{NBSP}; le plus récent en dernier)",
        "<th>Quand</th><th>Moyen</th><th>Action</th><th>Fondement</th><th>Expiration</th><th>Source</th>"
        "<th>Libellé</th><th>Preuve</th><th>Consigné par</th>",
        "Aucun consentement consigné.",
        "Consentement exprès",
        "Donné le",
        "Les mots auxquels le client a consenti",
        ">Consigner un consentement</button>",
        ">Consigner le retrait</button>",
    ):
        assert text in page, text
    assert "Record consent" not in page and "Given at" not in page
    grant = {"channels": ["email"], "basis": "express", "at": "2026-01-05 10:00", "source": "Showroom"}
    refused = supervisor_client.post(
        reverse("leads:customer_consent_grant", args=[customer.pk]), grant, headers=FRENCH
    ).content.decode()
    assert "Un consentement exprès exige le libellé auquel le client a consenti." in refused
    done = supervisor_client.post(
        reverse("leads:customer_consent_grant", args=[customer.pk]),
        grant | {"wording": "Yes, send me offers."},
        headers=FRENCH,
        follow=True,
    )
    page = done.content.decode()
    assert flash_text(done) == "Consentement consigné."
    assert "<td>Consentement donné</td>" in page and "<td>Courriel</td>" in page
    withdrawn = supervisor_client.post(
        reverse("leads:customer_consent_withdraw", args=[customer.pk]),
        {"channels": ["email"], "source": "Told staff"},
        headers=FRENCH,
        follow=True,
    )
    assert flash_text(withdrawn) == f"Retrait consigné{NBSP}; il prend effet immédiatement."
    assert "Retiré (désabonnement)" in withdrawn.content.decode()
    english = page_text(supervisor_client, url, ENGLISH)
    assert "Ledger (never edited; newest last)" in english and "<td>Withdrawn (unsubscribe)</td>" in english


def test_audit_and_duplicates_in_french_with_the_merge_flash_and_refusal(supervisor_client):
    first = factories.customer(
        first_name="Josée", last_name="Tremblay", email="josee@example.test", phone="438 555 0144"
    )
    second = factories.customer(first_name="Josee", last_name="Tremblay", email="jt@example.test", phone="")
    Customer.objects.filter(pk=second.pk).update(phone="+14385550144")
    page = page_text(supervisor_client, reverse("leads:customer_duplicates"), FRENCH)
    for text in (
        "<title>Doublons possibles",
        "<th>À garder</th><th>À y fusionner</th><th>Pourquoi</th>",
        "<td>Même nom et même téléphone</td>",
        ">Fusionner</button>",
    ):
        assert text in page, text
    assert "Same name and phone" not in page and ">Merge</button>" not in page
    refused = supervisor_client.post(
        reverse("leads:customer_merge"),
        {"target": first.pk, "duplicate": first.pk},
        headers=FRENCH,
        follow=True,
    )
    assert flash_text(refused) == "Un client ne peut pas être fusionné avec lui-même."
    merged = supervisor_client.post(
        reverse("leads:customer_merge"),
        {"target": first.pk, "duplicate": second.pk},
        headers=FRENCH,
        follow=True,
    )
    assert flash_text(merged) == "Josee Tremblay fusionné avec Josée Tremblay."
    assert "Fusion du client" in merged.content.decode()
    audit = page_text(supervisor_client, reverse("leads:customer_audit", args=[first.pk]), FRENCH)
    for text in (
        f"Journal des modifications{NBSP}: Josée Tremblay",
        "<th>Quand</th><th>Qui</th><th>Action</th><th>Champ</th><th>Avant</th><th>Après</th>",
        f"(client {second.pk})",
    ):
        assert text in audit, text
    merged_page = page_text(supervisor_client, reverse("leads:customer_detail", args=[second.pk]), FRENCH)
    assert "Cette fiche a été fusionnée avec <a href=" in merged_page
    english = page_text(supervisor_client, reverse("leads:customer_audit", args=[first.pk]), ENGLISH)
    assert "Audit: Josée Tremblay" in english and f"(customer {second.pk})" in english


BAD_FILE = (
    "Customer Name,E-mail,Lang,Type,Deal Date\n"
    "Josée Tremblay,josee@example.test,fr,Purchase,2025-03-01\n"
    "Bad Row,not-an-email,klingon,Purchase,13/01/2025\n"
)


def test_customer_import_in_french_with_each_bad_line_explained(
    supervisor_client, eager_celery, django_capture_on_commit_callbacks
):
    page = page_text(supervisor_client, reverse("leads:customer_import"), FRENCH)
    for text in (
        "<title>Importer des clients",
        "Importer depuis le système de gestion du concessionnaire",
        "Exportation CSV du système de gestion du concessionnaire",
        ">Téléverser</button>",
    ):
        assert text in page, text
    supervisor_client.post(
        reverse("leads:customer_import"),
        {"file": SimpleUploadedFile("dms.csv", BAD_FILE.encode())},
        headers=FRENCH,
    )
    upload = CustomerImport.objects.get()
    url = reverse("leads:customer_import_mapping", args=[upload.pk])
    page = page_text(supervisor_client, url, FRENCH)
    for text in (
        "Importation de dms.csv",
        "Téléversé</span>",
        "Premières lignes",
        "<th>Ligne</th>",
        "Quelle colonne contient quoi",
        "— ignorer —",
        "Nom complet",
        ">Aperçu (essai à blanc)</button>",
    ):
        assert text in page, text
    mapping = {"col_0": "full_name", "col_1": "email", "col_2": "language", "col_3": "kind", "col_4": "date"}
    refused = supervisor_client.post(url, mapping | {"action": "apply"}, headers=FRENCH).content.decode()
    assert "Faites d’abord l’aperçu de cette association" in refused
    with django_capture_on_commit_callbacks(execute=True):
        supervisor_client.post(url, mapping | {"action": "preview"}, headers=FRENCH)
    page = page_text(supervisor_client, url, FRENCH)
    for text in (
        f"1 ligne erronée{NBSP}; rien ne sera importé tant qu’elle ne sera pas corrigée.",
        f"Ligne 3{NBSP}: «{NBSP}not-an-email{NBSP}» n’est pas une adresse courriel.",
        f"la langue «{NBSP}klingon{NBSP}» n’est ni l’anglais ni le français",
        f"historique{NBSP}: date{NBSP}: «{NBSP}13/01/2025{NBSP}» n’est pas une date (utilisez AAAA-MM-JJ)",
        "Aperçu fait</span>",
    ):
        assert text in page, text
    assert "bad row" not in page and "is not a date" not in page
    with translation.override("en"):
        english = page_text(supervisor_client, url, ENGLISH)
    assert "1 bad row; nothing will be imported until it is fixed." in english and "First rows" in english


def test_an_import_previewed_from_an_english_page_reports_in_english(
    supervisor_client, eager_celery, django_capture_on_commit_callbacks
):
    supervisor_client.post(
        reverse("leads:customer_import"), {"file": SimpleUploadedFile("dms.csv", BAD_FILE.encode())}
    )
    url = reverse("leads:customer_import_mapping", args=[CustomerImport.objects.get().pk])
    mapping = {"col_0": "full_name", "col_1": "email", "col_2": "language", "col_3": "kind", "col_4": "date"}
    with django_capture_on_commit_callbacks(execute=True):
        supervisor_client.post(url, mapping | {"action": "preview"}, headers=ENGLISH)
    page = page_text(supervisor_client, url, ENGLISH)
    assert "Line 3: “not-an-email” is not an email address." in page
    assert "history: date: “13/01/2025” is not a date (use YYYY-MM-DD)" in page


def test_loyalty_rules_in_french_with_the_switch_flash(supervisor_client):
    url = reverse("leads:loyalty_rules")
    page = page_text(supervisor_client, url, FRENCH)
    for text in (
        "<title>Règles de fidélisation",
        "Chaque matin, les règles activées transforment les moments de fidélisation en tâches",
        "<th>Moment</th><th>Quand</th><th>Pour</th><th>Activée</th>",
        "<td>Anniversaire d’achat</td>",
        " jours",
        ">Activée — désactiver</button>",
    ):
        assert text in page, text
    assert "Loyalty rules" not in page and "On — switch off" not in page
    rule = LoyaltyRule.objects.get(kind="purchase_anniversary")
    switched = supervisor_client.post(
        reverse("leads:loyalty_rule_toggle", args=[rule.pk]), {}, headers=FRENCH, follow=True
    )
    assert flash_text(switched) == f"Anniversaire d’achat{NBSP}: désactivée."
    assert ">Désactivée — activer</button>" in switched.content.decode()
    english = page_text(supervisor_client, url, ENGLISH)
    assert "<td>Purchase anniversary</td>" in english and ">Off — switch on</button>" in english


def test_consent_reasons_read_in_french_but_stored_in_english(supervisor_client):
    customer = factories.customer(email="josee@example.test")
    supervisor_client.post(
        reverse("leads:customer_consent_withdraw", args=[customer.pk]),
        {"channels": ["email"], "source": "Told staff"},
        headers=FRENCH,
    )
    page = page_text(supervisor_client, reverse("leads:customer_consent", args=[customer.pk]), FRENCH)
    assert "Retiré le " in page and "(Dit au personnel)" in page and "Withdrawn on" not in page
    entry = AuditEntry.objects.filter(customer=customer).latest("pk")
    assert "none (withdrawn on" in str(entry.changes)  # the audit keeps one language
