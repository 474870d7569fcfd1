"""What the system writes and stores in English (send errors, refusals, sources, notes) stays stored
as written for the audit trail, and reads in the reader's language on the staff's pages."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from leads.consent_links import unsubscribe_url
from leads.models import ConsentChannel, FollowUpStepRun, Message
from leads.services.consent import consent_record_inquiry, consent_withdraw
from leads.services.followup import (
    SENDING_FAILED,
    followup_dispatch_due,
    followup_enroll,
    followup_plans_ensure_defaults,
)
from leads.services.replies import MailServerUnavailable, message_deliver, reply_queue
from leads.tasks import message_send
from promotions.services.campaigns import campaign_batch_send, campaign_start
from tests import factories
from tests.conftest import unreachable_smtp
from tests.french import ENGLISH, FRENCH, NBSP, page_text

pytestmark = pytest.mark.django_db


def _lead_page(client, lead, headers) -> str:
    return page_text(client, f"/leads/{lead.pk}/", headers)


# 1. Why mail did not reach the customer


def test_a_refusal_by_the_mail_server_reads_in_french_with_the_servers_own_words(
    smtp_sink, sophie, sophie_client
):
    lead = factories.lead(customer_obj=factories.customer(email="refused-me@example.com"))
    message = reply_queue(lead=lead, author=sophie, subject="Votre RAV4", body="Bonjour")
    assert message_send.apply(args=[message.pk]).get() == "failed"
    page = _lead_page(sophie_client, lead, FRENCH)
    assert f"Le serveur de courriel l’a refusé{NBSP}: refused-me@example.com: 550" in page
    assert "The mail server refused it" not in page
    assert "The mail server refused it: refused-me@example.com: 550" in _lead_page(
        sophie_client, lead, ENGLISH
    )


def test_an_unreachable_mail_server_reads_in_french_while_retrying_and_once_given_up(
    settings, sophie, sophie_client
):
    settings.MAILERS = unreachable_smtp()
    lead = factories.lead()
    message = reply_queue(lead=lead, author=sophie, subject="Votre RAV4", body="Bonjour")
    with pytest.raises(MailServerUnavailable):
        message_deliver(message_id=message.pk)
    page = _lead_page(sophie_client, lead, FRENCH)
    assert f"Nouvel essai prévu{NBSP}: " in page and "Will try again" not in page
    message_deliver(message_id=message.pk, final_attempt=True)
    page = _lead_page(sophie_client, lead, FRENCH)
    assert f"Le serveur de courriel était injoignable{NBSP}: " in page and "could not be reached" not in page
    assert "The mail server could not be reached: " in _lead_page(sophie_client, lead, ENGLISH)


def test_a_send_cut_short_after_the_hand_over_reads_in_french(smtp_sink, sophie, sophie_client):
    lead = factories.lead()
    message = reply_queue(lead=lead, author=sophie, subject="Votre RAV4", body="Bonjour")
    Message.objects.filter(pk=message.pk).update(send_status=Message.SendStatus.SENDING)
    message_deliver(message_id=message.pk)
    page = _lead_page(sophie_client, lead, FRENCH)
    assert f"L’envoi a été interrompu après la remise du message au serveur de courriel{NBSP};" in page
    assert "may or may not have received it" not in page


def test_mail_returned_undelivered_and_the_address_it_marks_read_in_french(sophie_client):
    lead = factories.lead(customer_obj=factories.customer(email="gone@example.com"))
    factories.outbound_email(
        lead=lead,
        subject="Votre RAV4",
        message_id="<lead12.0123abcd@maplemotors.example>",  # the one the sample bounce returns
    )
    bounce = factories.inbound_mail(factories.sample_mail("dsn_bounce.eml"))
    page = _lead_page(sophie_client, lead, FRENCH)
    assert f"Retourné sans être livré à gone@example.com (courriel reçu {bounce.pk}){NBSP}: " in page
    assert (
        f"Cette adresse est invalide (retour){NBSP}: Échec de livraison définitif signalé le "
        f"{timezone.localdate():%Y-%m-%d} (courriel reçu {bounce.pk})." in page
    )
    assert "Returned undelivered" not in page and "Permanent delivery failure" not in page
    english = _lead_page(sophie_client, lead, ENGLISH)
    assert "Returned undelivered to gone@example.com" in english and "Permanent delivery failure" in english


# 2. Why a campaign or the store's mail left a customer out


def test_the_campaigns_why_column_and_the_customers_timeline_read_in_french(sophie_client):
    factories.customer(first_name="Olivia")  # never asked anything
    lapsed = factories.customer(first_name="Old")
    consent_record_inquiry(customer=lapsed, at=timezone.now() - timedelta(days=400), source="web inquiry")
    withdrawn = factories.customer_with_email_consent(first_name="Léa", language="fr")
    campaign = factories.campaign()
    campaign_start(campaign=campaign)
    # Léa withdraws once the campaign has started: the send itself refuses, and says so on her timeline.
    consent_withdraw(customer=withdrawn, channels=[ConsentChannel.EMAIL], source="Told staff")
    campaign_batch_send(campaign=campaign, limit=10)
    page = page_text(sophie_client, reverse("promotions:campaign_detail", args=[campaign.pk]), FRENCH)
    assert f"<td>Aucun consentement valide{NBSP}: aucun consentement consigné.</td>" in page
    assert (
        f"<td>Aucun consentement valide{NBSP}: tacite{NBSP}: demande de renseignements (six mois), expiré le "
        in page
    )
    assert f"<td>Aucun consentement valide{NBSP}: retiré le " in page
    assert "No valid consent" not in page and "expired on" not in page
    english = page_text(sophie_client, reverse("promotions:campaign_detail", args=[campaign.pk]), ENGLISH)
    assert "<td>No valid consent: no consent recorded.</td>" in english

    customer_page = page_text(sophie_client, f"/leads/customers/{withdrawn.pk}/", FRENCH)
    assert f"Non envoyé{NBSP}: Léa, une offre pour vous" in customer_page
    assert "Not sent:" not in customer_page


# 3. The consent ledger and the audit trail


def test_the_consent_ledger_reads_the_systems_sources_in_french(client, sophie_client):
    customer = factories.customer(language="fr", email="lea@example.com")
    consent_record_inquiry(customer=customer, at=timezone.now() - timedelta(days=1), source="inquiry")
    factories.financed_rav4_2023(customer)
    client.post(unsubscribe_url(customer), {"channels": ["email"]})  # the link in a commercial email
    url = reverse("leads:customer_consent", args=[customer.pk])
    page = page_text(sophie_client, url, FRENCH)
    assert "<td>demande de renseignements</td>" in page
    assert f"<td>Achat{NBSP}: 2023 Toyota RAV4 purchase</td>" in page
    assert "<td>lien de désabonnement</td>" in page and "(lien de désabonnement)" in page
    assert 'value="Dit au personnel"' in page  # the withdrawal form, pre-filled in the page's language
    for english in ("unsubscribe link", "<td>inquiry</td>", "Purchase:", "Told staff"):
        assert english not in page, english
    english = page_text(sophie_client, url, ENGLISH)
    assert "<td>unsubscribe link</td>" in english and 'value="Told staff"' in english


def test_the_audit_trail_names_its_actions_fields_and_consent_standings_in_french(client, sophie_client):
    customer = factories.customer(first_name="Léa", email="lea@example.com")
    consent_record_inquiry(customer=customer, at=timezone.now() - timedelta(days=1), source="inquiry")
    client.post(unsubscribe_url(customer), {"channels": ["email"]})
    page = page_text(sophie_client, reverse("leads:customer_audit", args=[customer.pk]), FRENCH)
    page = re.sub(r"[ \n]+", " ", page)
    assert "<td>Consentement retiré</td> <td>Courriel</td>" in page
    assert "<td>Fiche créée</td> <td>Prénom</td><td>—</td><td>Léa</td>" in page
    assert f"<td>Tacite{NBSP}: demande de renseignements (six mois)</td>" in page
    assert "<td>aucun (retiré le " in page and " (lien de désabonnement))</td>" in page
    assert "<td>Consentement donné</td>" in page and "<td>aucun (aucun consentement consigné)</td>" in page
    for english in ("consent_withdraw", "implied_inquiry", "none (", "unsubscribe link"):
        assert english not in page, english


# 4. Follow-up tasks


def test_the_follow_up_tasks_read_in_french_whichever_process_wrote_their_notes(sophie_client):
    plan = followup_plans_ensure_defaults()
    # Within the field's 200 characters as written, longer once the customer's name fills it in.
    plan.steps.filter(position=0).update(subject_en="{{ customer_name }} " + "x" * 180)
    lead = factories.lead(
        customer_obj=factories.customer(first_name="Marie-Ève", last_name="Beauchemin-Lachapelle")
    )
    now = timezone.now()
    followup_enroll(lead=lead, plan=plan, now=now)
    with translation.override("fr"):  # the worker had just served a French page
        followup_dispatch_due(now=now + timedelta(days=1), enqueue_send=lambda run_id: None)
    too_long = lead.followups.get().runs.get(step__position=0)
    assert too_long.note.startswith("Once filled in, the subject is longer than 200 characters")  # stored
    failed = lead.followups.get().runs.get(step__position=2)
    FollowUpStepRun.objects.filter(pk=failed.pk).update(
        status="needs_review", note=SENDING_FAILED % {"error": "(421, b'Too busy')"}
    )
    page = page_text(sophie_client, reverse("leads:task_list"), FRENCH)
    assert f"Une fois rempli, l’objet dépasse 200 caractères{NBSP}: raccourcissez l’objet de l’étape." in page
    assert f"L’envoi a échoué{NBSP}: (421, b&#x27;Too busy&#x27;)" in page
    assert f"Appelez le client{NBSP}: confirmez le véhicule, proposez un essai routier." in page
    assert " · Nouvelles demandes Internet" in page
    for english in ("Once filled in", "Sending failed", "Call the customer", "New internet leads"):
        assert english not in page, english
    english = page_text(sophie_client, reverse("leads:task_list"), ENGLISH)
    for text in ("Once filled in", "Sending failed: ", "Call the customer: confirm", " · New internet leads"):
        assert text in english, text


def test_a_campaign_row_a_dead_worker_left_reads_in_french(sophie_client):
    from promotions.models import CampaignRecipient
    from promotions.services.campaigns import STALE_CLAIM, _claim

    factories.customer_with_email_consent()
    campaign = factories.campaign()
    campaign_start(campaign=campaign)
    _claim(campaign=campaign, limit=1, interval=0)  # its worker died with the row in hand
    CampaignRecipient.objects.update(claimed_at=timezone.now() - STALE_CLAIM * 2)
    campaign_batch_send(campaign=campaign, limit=10)
    page = page_text(sophie_client, reverse("promotions:campaign_detail", args=[campaign.pk]), FRENCH)
    assert "Sending was interrupted" not in page and "L’envoi a été interrompu" in page
