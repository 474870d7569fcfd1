"""Mail in and the settings pages (reply templates, mail rules, follow-up plans and tasks) in French
for a browser that asks for it; English otherwise, as before."""

import pytest
from django.urls import reverse

from dealership.models import Department, Role
from leads.models import FollowUpPlan, FollowUpStep, InboundStatus, MailKind, ReplyTemplate, RoutingRule
from leads.services.followup import followup_plans_ensure_defaults
from leads.services.mail import MAX_TRIES, InboundRetry, inbound_process
from leads.services.replies import reply_templates_ensure_defaults
from tests import factories
from tests.french import ENGLISH, FRENCH, NBSP, flash_text, page_text

pytestmark = pytest.mark.django_db


def _quarantined_mail():
    """Service mail while the service department has no forward address: it cannot be routed."""
    factories.department("service")
    Department.objects.filter(code="service").update(forward_email="")
    inbound = factories.inbound_mail(factories.raw_mail(subject="Oil change", body="I need an oil change and new brakes, can I book a service appointment?"), process=False)  # fmt: skip
    for _ in range(MAX_TRIES):
        try:
            inbound_process(inbound_id=inbound.pk)
        except InboundRetry:
            pass
    inbound.refresh_from_db()
    assert inbound.status == InboundStatus.QUARANTINED
    return inbound


# a. Mail in


def test_mail_in_list_in_french_for_a_french_browser_in_english_otherwise(supervisor_client):
    factories.inbound_mail(factories.raw_mail(subject="Price of the 2024 RAV4"))
    _quarantined_mail()
    url = reverse("leads:inbound_mail_list")
    page = page_text(supervisor_client, url, FRENCH)
    for text in (
        "<title>Courriels reçus",
        '<h1 class="h3">Courriels reçus</h1>',
        f"maildir:///test/mailbox{NBSP}: pas encore lue",
        ">Tous</a>",
        ">Quarantaine <span",
        ">En attente <span",
        ">Laissés sans réponse</a>",
        "<th>Reçu</th><th>De</th><th>Objet</th><th>Type</th><th>Service</th><th>Langue</th><th>Règle</th>"
        "<th>Résultat</th>",
        "Nouvelle demande",
        '<span class="badge text-bg-danger">En quarantaine</span>',
    ):
        assert text in page, text
    assert "Not answered" not in page and "New lead" not in page
    assert "Aucun courriel." in page_text(supervisor_client, url + "?status=ignored", FRENCH)
    for headers in (ENGLISH, {}):
        page = page_text(supervisor_client, url, headers)
        for text in (
            '<h1 class="h3">Mail in</h1>',
            "maildir:///test/mailbox: not read yet",
            ">Not answered</a>",
            "<th>Received</th><th>From</th><th>Subject</th><th>Kind</th><th>Department</th><th>Language</th>"
            "<th>Rule</th><th>Result</th>",
            "New lead",
            '<span class="badge text-bg-danger">Quarantined</span>',
        ):
            assert text in page, text
        assert "Courriels reçus" not in page


def test_what_each_message_became_and_why_reads_in_french(supervisor_client):
    factories.department("service")
    service = factories.inbound_mail(factories.raw_mail(subject="Freins", body="Je voudrais faire réparer mes freins."))
    lead = factories.inbound_mail(factories.raw_mail(subject="Bonjour", body="Bonjour"))
    page = page_text(supervisor_client, reverse("leads:inbound_mail_list"), FRENCH)
    for text in (
        ">Transfert à un service<", ">Service<", f">mots désignant le service{NBSP}: Service<",
        ">Nouvelle demande<", ">Ventes<", ">aucun mot ne désigne un autre service<",
    ):  # fmt: skip
        assert text in page, text
    detail = page_text(supervisor_client, reverse("leads:inbound_mail_detail", args=[lead.pk]), FRENCH)
    assert ">Ventes<" in detail and ">aucun mot ne désigne un autre service<" in detail
    english = page_text(supervisor_client, reverse("leads:inbound_mail_detail", args=[service.pk]), ENGLISH)
    assert ">Forward to a department<" in english and ">words about Service<" in english


def test_mail_in_detail_replay_and_its_refusal_in_french(supervisor_client):
    inbound = _quarantined_mail()
    url = reverse("leads:inbound_mail_detail", args=[inbound.pk])
    page = page_text(supervisor_client, url, FRENCH)
    for text in (
        ">← Courriels reçus</a>",
        '<dt class="col-sm-4">De</dt>',
        '<dt class="col-sm-4">Taille</dt>',
        f"En quarantaine après {MAX_TRIES} tentatives",
        '<dt class="col-sm-4">Décidé par</dt>',
        ">Voir l’original</a>",
        '<button class="btn btn-primary" type="submit">Traiter de nouveau</button>',
        "Le traiter de nouveau (après avoir corrigé ce qui l’a arrêté).",
    ):
        assert text in page, text
    english = page_text(supervisor_client, url)
    assert f"Quarantined after {MAX_TRIES} attempts" in english and ">Replay</button>" in english
    assert ">View original</a>" in english and "Traiter" not in english

    Department.objects.filter(code="service").update(forward_email="service@store.test")
    replay = reverse("leads:inbound_mail_replay", args=[inbound.pk])
    response = supervisor_client.post(replay, headers=FRENCH, follow=True)
    assert flash_text(response) == "Le message a été remis en file d’attente pour être traité de nouveau."

    done = factories.inbound_mail()
    response = supervisor_client.post(
        reverse("leads:inbound_mail_replay", args=[done.pk]), headers=FRENCH, follow=True
    )
    assert flash_text(response) == "Seuls les courriels en quarantaine peuvent être traités de nouveau."
    detail = page_text(supervisor_client, reverse("leads:inbound_mail_detail", args=[done.pk]), FRENCH)
    assert "Traité" in detail and "Nouvelle demande" in detail and "demande de " in detail
    response = supervisor_client.post(reverse("leads:inbound_mail_replay", args=[done.pk]), follow=True)
    assert flash_text(response) == "Only quarantined mail can be replayed."


# b. Reply templates


def test_reply_templates_list_and_form_in_french_for_a_french_browser(supervisor_client):
    reply_templates_ensure_defaults()
    url = reverse("leads:replytemplate_list")
    page = page_text(supervisor_client, url, FRENCH)
    for text in (
        "<title>Modèles de réponse",
        '<h1 class="h3 mb-0">Modèles de réponse</h1>',
        ">Nouveau modèle</a>",
        "<th>Nom</th><th>Type de demande</th><th>Langue</th><th>Objet</th><th>Actif</th><th></th>",
        "<td>oui</td>",
        ">Supprimer</a>",
    ):
        assert text in page, text
    english = page_text(supervisor_client, url)
    assert "<th>Name</th><th>Inquiry</th><th>Language</th><th>Subject</th><th>Active</th>" in english
    assert ">New template</a>" in english and "<td>yes</td>" in english and "Supprimer" not in english

    form = page_text(supervisor_client, reverse("leads:replytemplate_create"), FRENCH)
    for text in (
        '<h1 class="h3">Nouveau modèle de réponse</h1>',
        "Nom<span",
        "Type de demande<span",
        "Texte<span",
        f"Champs de fusion{NBSP}: {{{{ first_name }}}}",
        "Actif",
        ">Enregistrer</button>",
        ">Annuler</a>",
    ):
        assert text in form, text
    english = page_text(supervisor_client, reverse("leads:replytemplate_create"))
    assert '<h1 class="h3">New reply template</h1>' in english and "Merge fields: {{ first_name }}" in english
    assert "Inquiry type<span" in english and "Body<span" in english and ">Save</button>" in english

    data = {
        "name": "Printemps",
        "inquiry_type": "general",
        "language": "fr",
        "subject": "Bonjour",
        "body": "Salut",
    }
    response = supervisor_client.post(
        reverse("leads:replytemplate_create"), data, headers=FRENCH, follow=True
    )
    assert flash_text(response) == f"Modèle «{NBSP}Printemps{NBSP}» enregistré."
    refused = supervisor_client.post(
        reverse("leads:replytemplate_create"),
        {**data, "name": "Autre", "body": "Salut {{ prix }}"},
        headers=FRENCH,
    ).content.decode()
    assert f"Champ de fusion inconnu{NBSP}: {{{{ prix }}}}." in refused
    template = ReplyTemplate.objects.get(name="Printemps")
    edit = page_text(supervisor_client, reverse("leads:replytemplate_edit", args=[template.pk]), FRENCH)
    assert f'<h1 class="h3">Modifier «{NBSP}Printemps{NBSP}»</h1>' in edit
    delete = reverse("leads:replytemplate_delete", args=[template.pk])
    confirm = page_text(supervisor_client, delete, FRENCH)
    assert (
        f'<h1 class="h3">Supprimer «{NBSP}Printemps{NBSP}»{NBSP}?</h1>' in confirm
        and ">Le garder</a>" in confirm
    )
    response = supervisor_client.post(delete, headers=FRENCH, follow=True)
    assert flash_text(response) == f"Modèle «{NBSP}Printemps{NBSP}» supprimé."
    response = supervisor_client.post(
        reverse("leads:replytemplate_create"), {**data, "name": "Summer"}, headers=ENGLISH, follow=True
    )
    assert flash_text(response) == "Template “Summer” saved."


def test_a_template_the_shipped_plan_sends_names_that_plan_in_french(supervisor_client):
    reply_templates_ensure_defaults()
    template = ReplyTemplate.objects.get(inquiry_type="general", language="en")
    plan = followup_plans_ensure_defaults()
    plan.steps.filter(kind=FollowUpStep.Kind.AUTO_EMAIL).update(reply_template=template)
    url = reverse("leads:replytemplate_delete", args=[template.pk])
    confirm = page_text(supervisor_client, url, FRENCH)
    assert f"Le plan de relance «{NBSP}Nouvelles demandes Internet{NBSP}» envoie ce modèle" in confirm
    response = supervisor_client.post(url, headers=FRENCH, follow=True)
    assert f"(«{NBSP}Nouvelles demandes Internet{NBSP}»)" in flash_text(response)
    assert "The follow-up plan “New internet leads” sends this template" in page_text(supervisor_client, url, ENGLISH)


def test_a_template_a_plan_sends_is_refused_deletion_in_french(supervisor_client, client):
    reply_templates_ensure_defaults()
    template = ReplyTemplate.objects.get(inquiry_type="general", language="en")
    for name in ("Trente jours", "Soixante jours"):
        plan = FollowUpPlan.objects.create(name=name)
        FollowUpStep.objects.create(plan=plan, kind=FollowUpStep.Kind.AUTO_EMAIL, reply_template=template)
    url = reverse("leads:replytemplate_delete", args=[template.pk])
    confirm = page_text(supervisor_client, url, FRENCH)
    assert (
        f"Les plans de relance «{NBSP}Soixante jours{NBSP}», «{NBSP}Trente jours{NBSP}» envoient ce modèle"
        in confirm
    )
    assert ">Retour aux modèles</a>" in confirm
    english = page_text(supervisor_client, url)
    assert "The follow-up plans “Soixante jours”, “Trente jours” send this template" in english
    response = supervisor_client.post(url, headers=FRENCH, follow=True)
    assert flash_text(response).startswith(f"Non supprimé{NBSP}: des étapes de relance l’envoient («{NBSP}")
    assert ReplyTemplate.objects.filter(pk=template.pk).exists()

    advisor = factories.staff(Role.ADVISOR)
    client.force_login(advisor.user)
    refusal = page_text(client, reverse("leads:replytemplate_list"), FRENCH, status=403)
    assert "Seuls les superviseurs et les directeurs gèrent les modèles de réponse." in refusal


# c. Mail rules


def test_mail_rules_list_form_and_test_page_in_french_for_a_french_browser(supervisor_client):
    RoutingRule.objects.create(name="Fournisseur", sender_contains="autotrader", kind=MailKind.LEAD)
    url = reverse("leads:rule_list")
    page = page_text(supervisor_client, url, FRENCH)
    for text in (
        "<title>Règles de courriel",
        '<h1 class="h3 me-auto">Règles de courriel</h1>',
        ">Tester un message</a>",
        ">Nouvelle règle</a>",
        "<th>Ordre</th><th>Nom</th><th>Quand</th><th>Alors</th><th>Accusé de réception</th><th>Active</th>",
        "<div>l’expéditeur contient autotrader</div>",
        f'data-confirm="Supprimer la règle «{NBSP}Fournisseur{NBSP}»{NBSP}?"',
    ):
        assert text in page, text
    english = page_text(supervisor_client, url)
    assert (
        "<th>Order</th><th>Name</th><th>When</th><th>Then</th><th>Acknowledge</th><th>Active</th>" in english
    )
    assert "<div>sender contains autotrader</div>" in english and "Règles" not in english

    form = page_text(supervisor_client, reverse("leads:rule_create"), FRENCH)
    for text in (
        '<h1 class="h3">Nouvelle règle</h1>',
        "L’expéditeur contient",
        "Expression régulière de l’expéditeur",
        "Les plus petits nombres sont essayés en premier.",
        ">Enregistrer</button>",
    ):
        assert text in form, text
    english = page_text(supervisor_client, reverse("leads:rule_create"), ENGLISH)
    assert "Sender regex" in english and "Lower numbers are tried first." in english

    data = {"name": "Service", "order": 10, "subject_contains": "entretien", "kind": MailKind.FORWARD}
    data["department"] = "service"
    response = supervisor_client.post(reverse("leads:rule_create"), data, headers=FRENCH, follow=True)
    assert flash_text(response) == f"Règle «{NBSP}Service{NBSP}» enregistrée."
    refused = supervisor_client.post(
        reverse("leads:rule_create"), {"name": "Tout", "order": 1, "kind": MailKind.LEAD}, headers=FRENCH
    ).content.decode()
    assert "Donnez au moins une condition, sinon la règle attraperait tous les messages." in refused
    refused = supervisor_client.post(
        reverse("leads:rule_create"),
        {"name": "Mauvaise", "order": 1, "sender_regex": "(", "kind": MailKind.LEAD},
        headers=FRENCH,
    ).content.decode()
    assert f"Expression régulière non valide{NBSP}:" in refused
    refused = supervisor_client.post(
        reverse("leads:rule_create"), {"name": "All", "order": 1, "kind": MailKind.LEAD}, headers=ENGLISH
    ).content.decode()
    assert "Give at least one condition, or the rule would catch every message." in refused
    rule = RoutingRule.objects.get(name="Service")
    edit = page_text(supervisor_client, reverse("leads:rule_edit", args=[rule.pk]), FRENCH)
    assert f'<h1 class="h3">Modifier la règle «{NBSP}Service{NBSP}»</h1>' in edit
    response = supervisor_client.post(
        reverse("leads:rule_delete", args=[rule.pk]), headers=FRENCH, follow=True
    )
    assert flash_text(response) == f"Règle «{NBSP}Service{NBSP}» supprimée."

    test_url = reverse("leads:rule_test")
    page = page_text(supervisor_client, test_url, FRENCH)
    for text in (
        '<h1 class="h3">Tester un message avec les règles de courriel</h1>',
        "Message brut (en-têtes et texte)",
        ">Trier</button>",
        ">Retour aux règles</a>",
    ):
        assert text in page, text
    response = supervisor_client.post(test_url, {"raw": ""}, headers=FRENCH)
    assert "Collez un message ou choisissez un fichier .eml." in response.content.decode()
    raw = factories.raw_mail(subject="Price of the 2024 RAV4").decode()
    result = supervisor_client.post(test_url, {"raw": raw}, headers=FRENCH).content.decode()
    assert '<h2 class="h5">Résultat</h2>' in result and '<dt class="col-sm-4">Décidé par</dt>' in result
    assert '<h3 class="h6">Pièces jointes</h3>' not in result and ">Pièces jointes</dt>" in result
    english = supervisor_client.post(test_url, {"raw": raw}).content.decode()
    assert '<h2 class="h5">Result</h2>' in english and ">Attachments</dt>" in english
