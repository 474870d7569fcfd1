"""The staff's promotion pages in French for a browser that asks for it (Accept-Language), English
otherwise, as before. The public offer pages are bilingual side by side and stay as they are."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from promotions.models import InfoShare, Promotion, PromotionStatus
from promotions.services.promotions import promotion_transition, promotions_advance
from tests import factories
from tests.french import ENGLISH, FRENCH, NBSP, flash_text, page_text

pytestmark = pytest.mark.django_db


def test_promotion_list_in_french_for_a_french_browser_in_english_otherwise(supervisor_client):
    factories.promotion(name="Civic days", channels=["website", "radio_tv"], is_advertising=True)
    url = reverse("promotions:index")
    page = page_text(supervisor_client, url, FRENCH)
    for text in (
        "Promotions et publicité</h1>",
        ">Nouvelle promotion</a>",
        ">Imprimés</a>",
        ">Information partagée</a>",
        ">Tous les statuts</option>",
        ">Brouillon</option>",  # the statuses
        "<th>Canaux</th>",
        "<th>Statut</th>",
        "Site Web, Radio / télé",  # the channels
        ">publicité</span>",
        "<td>Brouillon</td>",
    ):
        assert text in page, text
    for english in ("Promotions and advertising", "Every status", "Website, Radio / TV", ">Draft<"):
        assert english not in page, english
    for headers in (ENGLISH, {}):
        page = page_text(supervisor_client, url, headers)
        for text in (
            "Promotions and advertising</h1>",
            ">Every status</option>",
            "<th>Channels</th>",
            "Website, Radio / TV",
            ">advertising</span>",
            "<td>Draft</td>",
        ):
            assert text in page, text


def test_promotion_form_in_french_with_its_labels_errors_and_flash(supervisor_client):
    url = reverse("promotions:new")
    page = page_text(supervisor_client, url, FRENCH)
    for text in (
        "Nouvelle promotion ou campagne publicitaire</h1>",
        "Canaux",
        "Site Web",
        "Réseaux sociaux",
        "Modèles visés",
        "Un par ligne",
        "Type d’offre",
        "Taux de financement",  # the offer kinds, translated on the staff's form
        "Prix annoncé",
        "Transport et préparation inclus dans le prix annoncé",
        "Adresse de la page d’atterrissage",
        ">Enregistrer</button>",
    ):
        assert text in page, text
    assert "Models covered" not in page and "Financing rate" not in page
    english = page_text(supervisor_client, url, ENGLISH)
    for text in ("Models covered", "Financing rate", "Freight and PDI included in the advertised price"):
        assert text in english, text
    data = {
        "name": "Été",
        "starts_on": "2026-07-10",
        "ends_on": "2026-07-01",
        "channels": ["website"],
        "department": factories.department("sales").pk,
        "landing_slug": "ete",
        "models_text": "Toyota; Corolla",
        "stock_text": "NOPE1",
    }
    html = supervisor_client.post(url, data, headers=FRENCH).content.decode()
    assert "La promotion ne peut pas se terminer avant de commencer." in html
    assert f"Écrivez chaque modèle ainsi{NBSP}: marque, modèle, année{NBSP}: Toyota; Corolla" in html
    assert f"Pas dans l’inventaire{NBSP}: NOPE1" in html
    data |= {"ends_on": "2026-07-20", "models_text": "", "stock_text": ""}
    response = supervisor_client.post(url, data, headers=FRENCH, follow=True)
    promotion = Promotion.objects.get()
    assert flash_text(response) == f"Promotion créée avec le code de suivi {promotion.tracking_code}."


def test_promotion_page_in_french_with_the_all_in_price_refusal(supervisor_client, settings):
    settings.STORE = {**settings.STORE, "province": "QC"}
    promotion = factories.promotion(
        name="Civic days",
        offer_kind="financing",
        rate="3.9",
        advertised_price="27995",
        fees={"freight_pdi": {"amount": "1995", "included": False}},
    )
    url = reverse("promotions:detail", args=[promotion.pk])
    page = page_text(supervisor_client, url, FRENCH)
    for text in (
        ">Modifier</a>",
        ">Nouvelle campagne par courriel</a>",
        f"Ne peut pas être publiée telle quelle{NBSP}:",
        # The problem, with the amount as French writes it and the province with its preposition.
        f"Transport et préparation (1{NBSP}995,00{NBSP}$) doit être inclus dans le prix annoncé{NBSP}: au Québec (OPC)",
        "Période</dt>",
        "Taux de financement",
        f"3,90{NBSP}%",
        f"27{NBSP}995{NBSP}$",
        f"Transport et préparation{NBSP}: 1{NBSP}995{NBSP}$ (non inclus)",
        "Code de suivi</dt>",
        "(publique pendant la promotion)",
        ">Changer le statut</button>",
        "Aucune demande pour l’instant.",
        "Rendez-vous (0)",
        "Chronologie",
    ):
        assert text in page, text
    assert ">Dépliant (PDF)</a>" not in page  # not printed with such a price
    materials = page_text(supervisor_client, reverse("promotions:print"), FRENCH)
    assert (
        'Civic days</a> · Brouillon · <span class="text-danger">pas de dépliant tant que son prix n’est pas tout compris'
        in materials
    )
    english = page_text(supervisor_client, url, ENGLISH)
    for text in (
        "Cannot be published as it is:",
        "Freight and PDI ($1,995.00) must be included in the advertised price: in Quebec (OPC) only",
        "Financing rate",
        " · 3.90%",
        "$27,995",
        "Freight and PDI: $1,995 (not included)",
        "No lead yet.",
    ):
        assert text in english, text
    response = supervisor_client.post(
        reverse("promotions:transition", args=[promotion.pk]),
        {"status": "scheduled"},
        headers=FRENCH,
        follow=True,
    )
    assert flash_text(response).startswith(
        f"Cette promotion ne peut pas être publiée{NBSP}: Transport et préparation"
    )
    promotion.fees = {}
    promotion.save()
    response = supervisor_client.post(
        reverse("promotions:transition", args=[promotion.pk]),
        {"status": "scheduled"},
        headers=FRENCH,
        follow=True,
    )
    assert flash_text(response) == "Statut modifié."
    assert '<span class="badge text-bg-info">Planifiée</span>' in response.content.decode()


def test_a_promotion_set_running_before_its_start_is_refused_in_french(supervisor_client):
    promotion = factories.promotion(starts_on=date(2099, 3, 2), ends_on=date(2099, 3, 9))
    response = supervisor_client.post(
        reverse("promotions:transition", args=[promotion.pk]),
        {"status": "running"},
        headers=FRENCH,
        follow=True,
    )
    assert flash_text(response) == (
        f"Cette promotion commence le 2 mars 2099{NBSP}: choisissez Planifiée, et elle sera en cours dès ce jour-là."
    )


def test_the_public_offer_page_gives_a_rate_in_english_and_in_french(client):
    promotion = factories.promotion(offer_kind="financing", rate="3.90")
    promotion_transition(promotion=promotion, to_status=PromotionStatus.RUNNING)
    page = page_text(client, reverse("offers:landing", args=[promotion.landing_slug]), FRENCH)
    assert f"Financing rate: 3.9% / Taux de financement{NBSP}: 3,9{NBSP}%" in page


def test_calendar_in_french(supervisor_client):
    day = date(2026, 5, 11)
    factories.crossing_cr_v_offers(day, names=("Prix CR-V", "Location CR-V"))
    url = reverse("promotions:calendar")
    page = page_text(supervisor_client, url + "?view=month&date=2026-05-20", FRENCH)
    for text in (
        "mai 2026</h1>",
        ">Aujourd’hui</a>",
        ">Semaine</a>",
        "Chevauchements à régler",
        f"Mêmes modèles (Honda CR-V){NBSP}: <a",
        "<th>lun</th>",
        "<th>dim</th>",
        "Commencent cette semaine (pour le webmestre)",
    ):
        assert text in page, text
    page = page_text(supervisor_client, url + "?view=week&date=2026-05-20", FRENCH)
    assert "Semaine du 18 mai 2026</h1>" in page
    english = page_text(supervisor_client, url + "?view=week&date=2026-05-20", ENGLISH)
    assert "Week of May 18, 2026</h1>" in english and "<th>Mon</th>" in english


def test_campaign_pages_in_french(supervisor_client, django_capture_on_commit_callbacks):
    promotion = factories.running_promotion(name="Civic days")
    url = reverse("promotions:campaign_new", args=[promotion.pk])
    page = page_text(supervisor_client, url, FRENCH)
    for text in (
        "Nouvelle campagne par courriel pour Civic days</h1>",
        "Seuls les clients dont le concessionnaire détient le consentement",
        "A acheté un (marque)",
        ">Toutes</option>",
        "Objet en français",
        "{first_name} est remplacé par le prénom du client.",
        ">Enregistrer le brouillon</button>",
    ):
        assert text in page, text
    data = {
        "name": "Envoi",
        "send_on": timezone.localdate().isoformat(),
        "subject_en": "Hi",
        "body_en": "Hello",
        "subject_fr": "Salut",
        "body_fr": "Bonjour",
        "audience_language": "fr",
    }
    response = supervisor_client.post(url, data, headers=FRENCH, follow=True)
    assert (
        flash_text(response)
        == f"Campagne enregistrée comme brouillon{NBSP}; vérifiez l’auditoire, puis lancez-la."
    )
    page = response.content.decode()
    for text in (
        "Brouillon</span>",
        "Pour <a href=",
        f"auditoire{NBSP}:",
        ">Lancer l’envoi</button>",
        "<th>Envoyés</th>",
    ):
        assert text in page, text
    campaign = promotion.campaigns.get()
    factories.customer(language="fr")
    with django_capture_on_commit_callbacks(execute=False):
        response = supervisor_client.post(
            reverse("promotions:campaign_start", args=[campaign.pk]), headers=FRENCH, follow=True
        )
    assert flash_text(response) == f"Envoi à 0 client(s){NBSP}; 1 écarté(s) (voir pourquoi ci-dessous)."
    page = response.content.decode()
    assert "<td>Écarté</td>" in page and "<td>Français</td>" in page
    assert f"auditoire{NBSP}: Français</p>" in page and "language = fr" not in page
    timeline = page_text(supervisor_client, reverse("promotions:detail", args=[promotion.pk]), FRENCH)
    assert (
        "Campagne par courriel créée" in timeline
        and f"Campagne par courriel{NBSP}: Brouillon → Envoi" in timeline
    )
    assert "status_changed" not in timeline and "campaign_created" not in timeline
    english = page_text(supervisor_client, reverse("promotions:campaign_detail", args=[campaign.pk]), ENGLISH)
    assert "<th>Sent</th>" in english and "<td>Skipped</td>" in english and "Recipients</h2>" in english


def test_sharing_information_and_print_materials_in_french(supervisor_client):
    page = page_text(supervisor_client, reverse("promotions:infoshare_new"), FRENCH)
    assert "Partager de l’information avec des collègues</h1>" in page and "Personnes" in page
    response = supervisor_client.post(
        reverse("promotions:infoshare_new"), {"subject": "Offre rivale", "text": ""}, headers=FRENCH
    )
    assert "Choisissez au moins une personne ou un service." in response.content.decode()
    page = page_text(supervisor_client, reverse("promotions:infoshare_list"), FRENCH)
    assert (
        "Information partagée avec des collègues</h1>" in page and "Rien de partagé pour l’instant." in page
    )
    jean = factories.staff("advisor", first_name="Jean", last_name="Sanscourriel", email="")
    InfoShare.objects.create(subject="Vieille nouvelle", text="…").staff.set([jean])
    page = page_text(supervisor_client, reverse("promotions:infoshare_list"), FRENCH)
    assert (
        f"Non prévenu, sans adresse courriel{NBSP}: Jean Sanscourriel" in page
        and "envoi en cours" not in page
    )
    page = page_text(supervisor_client, reverse("promotions:print"), FRENCH)
    assert "Imprimés</h1>" in page and "Dépliants (format lettre)" in page and "Aucune promotion." in page
    english = page_text(supervisor_client, reverse("promotions:print"), ENGLISH)
    assert "Print materials</h1>" in english and "Leaflets (letter)" in english


def test_an_offers_price_reads_in_english_and_in_french_as_the_page_does(client):
    promotion = factories.promotion(
        landing_slug="crv-prix", advertised_price=Decimal("34995"), offer_kind="price",
        fees={"freight_pdi": {"amount": "2100", "included": True}},
    )  # fmt: skip
    promotion_transition(promotion=promotion, to_status="running")
    page = page_text(client, reverse("offers:landing", args=["crv-prix"]), FRENCH)
    assert (
        "$34,995.00 — all fees included, plus taxes and licensing / "
        f"34{NBSP}995,00{NBSP}$ — tous frais inclus, taxes et immatriculation en sus"
    ) in page
    assert "$34995" not in page


def test_a_french_page_s_date_fields_show_their_dates_to_the_browser_s_date_picker(supervisor_client):
    """A date picker takes only 2026-06-01: a French 01/06/2026 would show it empty."""
    promotion = factories.promotion(starts_on=date(2026, 6, 1), ends_on=date(2026, 6, 30))
    page = page_text(supervisor_client, reverse("promotions:edit", args=[promotion.pk]), FRENCH)
    assert 'type="date" name="starts_on" value="2026-06-01"' in page
    assert 'type="date" name="ends_on" value="2026-06-30"' in page


def test_a_customer_s_offer_page_is_titled_with_the_store_s_name_not_its_crm_s(client):
    promotion = factories.running_promotion(name="Civic days", landing_slug="civic-days")
    page = client.get(reverse("offers:landing", args=["civic-days"])).content.decode()
    title = page.split("<title>")[1].split("</title>")[0]
    assert title.startswith(promotion.name) and "CRM" not in title


def test_the_calendar_s_reasons_for_a_status_change_read_in_french(supervisor_client):
    promotion = factories.promotion(starts_on=date(2020, 3, 2), ends_on=date(2020, 3, 9))
    promotion_transition(promotion=promotion, to_status=PromotionStatus.RUNNING, today=date(2020, 3, 3))
    promotions_advance()  # its end date has passed
    page = page_text(supervisor_client, reverse("promotions:detail", args=[promotion.pk]), FRENCH)
    assert "En cours → Terminée (date de fin passée)" in page
    assert "end date passed" not in page
