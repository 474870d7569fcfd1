"""Follow-up plans and tasks in French for a browser that asks for it (Accept-Language), English
otherwise, as before."""

import pytest
from django.urls import reverse
from django.utils import timezone

from leads.models import FollowUpPlan, FollowUpStep, FollowUpStepRun
from leads.services.followup import INTERRUPTED_SEND, followup_enroll, followup_plans_ensure_defaults
from tests import factories
from tests.formsets import formset_data
from tests.french import ENGLISH, FRENCH, NBSP, flash_text, page_text

pytestmark = pytest.mark.django_db


def _plan_with_steps():
    plan = FollowUpPlan.objects.create(name="Relance Web", all_internet_leads=True)
    FollowUpStep.objects.create(
        plan=plan,
        position=1,
        kind=FollowUpStep.Kind.AUTO_EMAIL,
        delay_days=2,
        delay_hours=3,
        anchor=FollowUpStep.Anchor.INQUIRY,
        subject_en="Photos of the car",
        body_en="Hi",
        subject_fr="Photos de la voiture",
        body_fr="Bonjour",
    )
    FollowUpStep.objects.create(
        plan=plan, position=2, kind=FollowUpStep.Kind.CALL, delay_days=1, anchor=FollowUpStep.Anchor.PREVIOUS
    )
    FollowUpStep.objects.create(plan=plan, position=3, kind=FollowUpStep.Kind.CALL, call_notes="Hello")
    return plan


def test_plan_list_in_french_for_a_french_browser_in_english_otherwise(supervisor_client):
    _plan_with_steps()
    url = reverse("leads:followupplan_list")
    page = page_text(supervisor_client, url, FRENCH)
    for text in (
        "Plans de relance</h1>",
        ">Nouveau plan</a>",
        "Tâches de relance</a>",
        "Nouvelles demandes qui y entrent</th>",
        "Étapes</th>",
        "Actif</th>",
        "Toutes les demandes Internet",
        # The step timings, with French typography; the French subject for a French reader.
        f"2 jours 3{NBSP}h après la demande{NBSP}: Photos de la voiture",
        "1 jour après l’étape précédente",
        "immédiatement",
        "<td>Oui</td>",
    ):
        assert text in page, text
    for english in ("Follow-up plans", "after the inquiry", "immediately", "New leads that enter it"):
        assert english not in page, english
    for headers in (ENGLISH, {}):
        page = page_text(supervisor_client, url, headers)
        for text in (
            "Follow-up plans</h1>",
            ">New plan</a>",
            "New leads that enter it</th>",
            "All internet leads",
            "2 days 3 h after the inquiry: Photos of the car",
            "1 day after the previous step",
            "immediately",
            "<td>Yes</td>",
        ):
            assert text in page, text
        assert "Plans de relance" not in page


def test_plan_form_in_french_with_its_labels_errors_and_flash(supervisor_client):
    plan = _plan_with_steps()
    url = reverse("leads:followupplan_update", args=[plan.pk])
    page = page_text(supervisor_client, url, FRENCH)
    for text in (
        f"Plan de relance{NBSP}: Relance Web</h1>",
        "Chaque étape vient après un délai à compter de la demande",
        f"Champs de fusion{NBSP}:",
        "Étape 1</legend>",
        "Étape 4 (nouvelle)</legend>",
        "Toutes les demandes Internet",  # the plan form's labels and help
        "Toute nouvelle demande Internet entre dans ce plan",
        "Délai en jours",
        "À compter de",
        ">après l’étape précédente</option>",  # the anchor's choices
        "Objet en français",
        "Modèle de réponse",
        "Notes pour l’appel",
        ">Enregistrer le plan</button>",
        ">Annuler</a>",
    ):
        assert text in page, text
    assert "Delay days" not in page and "Save the plan" not in page
    english = page_text(supervisor_client, url, ENGLISH)
    for text in (
        "Follow-up plan: Relance Web",
        "Step 1</legend>",
        "Step 4 (new)",
        "Delay days",
        "Save the plan",
    ):
        assert text in english, text
    assert ">after the previous step</option>" in english

    form = supervisor_client.get(url).context["steps"]
    data = {
        "name": "Relance Web",
        "active": "on",
        "sources_text": "",
        **formset_data(form),
    }
    last = len(form.forms) - 1
    data |= {
        f"steps-{last}-position": 9,
        f"steps-{last}-kind": "auto_email",
        f"steps-{last}-anchor": "inquiry",
    }
    refused = supervisor_client.post(url, data, headers=FRENCH).content.decode()
    assert "Une étape de courriel demande un modèle de réponse" in refused
    data |= {f"steps-{last}-subject_en": "Hi {{ prénom }}", f"steps-{last}-body_en": "Hi"}
    refused = supervisor_client.post(url, data, headers=FRENCH).content.decode()
    assert f"Pas un champ de fusion{NBSP}: {{{{ prénom }}}}." in refused
    data |= {f"steps-{last}-subject_en": "Hi", f"steps-{last}-body_fr": "Bonjour"}
    refused = supervisor_client.post(url, data, headers=FRENCH).content.decode()
    assert "Écrivez l’objet et le message en français, ou ni l’un ni l’autre." in refused
    data[f"steps-{last}-subject_fr"] = "Salut"
    response = supervisor_client.post(url, data, headers=FRENCH, follow=True)
    assert f"Plan «{NBSP}Relance Web{NBSP}» enregistré." in flash_text(response)


def test_the_shipped_plan_is_named_in_french_on_its_page_and_when_saved(supervisor_client):
    plan = followup_plans_ensure_defaults()
    url = reverse("leads:followupplan_update", args=[plan.pk])
    page = page_text(supervisor_client, url, FRENCH)
    assert f"Plan de relance{NBSP}: Nouvelles demandes Internet</h1>" in page
    assert "<title>Nouvelles demandes Internet · " in page
    assert "New internet leads ·" not in page and ": New internet leads" not in page
    data = {
        "name": plan.name,
        "active": "on",
        "all_internet_leads": "on",
        **formset_data(supervisor_client.get(url).context["steps"]),
    }
    response = supervisor_client.post(url, data, headers=FRENCH, follow=True)
    assert flash_text(response) == f"Plan «{NBSP}Nouvelles demandes Internet{NBSP}» enregistré."
    assert "Follow-up plan: New internet leads</h1>" in page_text(supervisor_client, url, ENGLISH)


def test_the_plan_flash_stays_english_for_an_english_browser(supervisor_client):
    url = reverse("leads:followupplan_create")
    data = {
        "name": "Manual",
        "active": "on",
        "steps-TOTAL_FORMS": "0",
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
    }
    response = supervisor_client.post(url, data, headers=ENGLISH, follow=True)
    assert "Plan “Manual” saved." in flash_text(response)
    page = page_text(supervisor_client, reverse("leads:followupplan_list"), ENGLISH)
    assert "By hand only" in page
    assert "À la main seulement" in page_text(supervisor_client, reverse("leads:followupplan_list"), FRENCH)


def test_task_list_in_french_with_its_buttons_and_flash(supervisor_client, supervisor):
    plan = followup_plans_ensure_defaults()
    lead = factories.lead(customer_obj=factories.customer(first_name="Josée", last_name="Tremblay"))
    followup_enroll(lead=lead, plan=plan, now=timezone.now(), actor=supervisor.user)
    url = reverse("leads:task_list")
    assert "<p>Rien à faire.</p>" in page_text(supervisor_client, url, FRENCH)
    assert "<p>Nothing to do.</p>" in page_text(supervisor_client, url, ENGLISH)
    call = lead.followups.get().runs.filter(step__kind="call").first()
    FollowUpStepRun.objects.filter(pk=call.pk).update(status="open")
    page = page_text(supervisor_client, url, FRENCH)
    for text in (
        "Tâches de relance</h1>",
        "Appels à faire, courriels à réviser avant leur envoi",
        ">Plans</a>",
        ">Rendez-vous</a>",
        "Prévue le ",
        'placeholder="Note (ce qui s’est passé)"',
        ">Appel fait</button>",
        "Tâche d’appel",  # the step's kind
    ):
        assert text in page, text
    for english in ("Follow-up tasks", "Call done", "Due "):
        assert english not in page, english
    english = page_text(supervisor_client, url, ENGLISH)
    for text in ("Follow-up tasks</h1>", "Call done", "Due ", "Note (what happened)"):
        assert text in english, text
    response = supervisor_client.post(
        reverse("leads:followup_task_done", args=[call.pk]),
        {"note": "Boîte vocale"},
        headers=FRENCH,
        follow=True,
    )
    assert flash_text(response) == "Tâche faite."


def test_the_workers_note_on_a_task_reads_in_french_and_a_persons_as_written(supervisor_client, supervisor):
    plan = followup_plans_ensure_defaults()
    lead = factories.lead()
    followup_enroll(lead=lead, plan=plan, now=timezone.now(), actor=supervisor.user)
    first, second = lead.followups.get().runs.order_by("step__position")[:2]
    FollowUpStepRun.objects.filter(pk=first.pk).update(status="needs_review", note=INTERRUPTED_SEND)
    FollowUpStepRun.objects.filter(pk=second.pk).update(status="open", note="Rappeler après 17 h")
    page = page_text(supervisor_client, reverse("leads:task_list"), FRENCH)
    assert "L’envoi a été interrompu après la remise du courriel" in page
    assert "Sending was interrupted" not in page
    assert "Rappeler après 17 h" in page
    assert "Sending was interrupted" in page_text(supervisor_client, reverse("leads:task_list"), ENGLISH)


def test_a_note_too_long_is_refused_in_french_and_kept(supervisor_client, supervisor):
    plan = followup_plans_ensure_defaults()
    lead = factories.lead()
    followup_enroll(lead=lead, plan=plan, now=timezone.now(), actor=supervisor.user)
    call = lead.followups.get().runs.filter(step__kind="call").first()
    FollowUpStepRun.objects.filter(pk=call.pk).update(status="open")
    note = "x" * 501
    response = supervisor_client.post(
        reverse("leads:followup_task_done", args=[call.pk]), {"note": note}, headers=FRENCH, follow=True
    )
    said = flash_text(response)
    assert said.startswith(f"Tâche non faite{NBSP}: ") and f"Votre note{NBSP}: {note}" in said


def test_a_draft_without_subject_is_refused_in_french(supervisor_client, supervisor):
    plan = _plan_with_steps()
    FollowUpStep.objects.filter(plan=plan, position=1).update(kind=FollowUpStep.Kind.DRAFT_EMAIL)
    lead = factories.lead()
    followup_enroll(lead=lead, plan=plan, now=timezone.now(), actor=supervisor.user)
    draft = lead.followups.get().runs.get(step__position=1)
    FollowUpStepRun.objects.filter(pk=draft.pk).update(status="open")
    page = page_text(supervisor_client, reverse("leads:task_list"), FRENCH)
    assert "Objet" in page and ">Envoyer</button>" in page and "Réglé à la main" in page
    response = supervisor_client.post(
        reverse("leads:followup_task_send", args=[draft.pk]),
        {"subject": "", "body": "Bonjour"},
        headers=FRENCH,
        follow=True,
    )
    assert (
        flash_text(response) == f"Le courriel doit avoir un objet et un message{NBSP}; rien n’a été envoyé."
    )
    response = supervisor_client.post(
        reverse("leads:followup_task_send", args=[draft.pk]),
        {"subject": "", "body": "Hi"},
        headers=ENGLISH,
        follow=True,
    )
    assert flash_text(response) == "The email needs a subject and a message; nothing was sent."


def test_enrolling_twice_and_the_enrollment_page_in_french(supervisor_client, supervisor):
    plan = followup_plans_ensure_defaults()
    lead = factories.lead(customer_obj=factories.customer(first_name="Josée", last_name="Tremblay"))
    followup_enroll(lead=lead, plan=plan, now=timezone.now(), actor=supervisor.user)
    response = supervisor_client.post(
        reverse("leads:lead_followup_start", args=[lead.pk]), {"plan": plan.pk}, headers=FRENCH, follow=True
    )
    assert flash_text(response) == f"Cette demande suit déjà un plan{NBSP}; arrêtez-le d’abord."
    page = response.content.decode()
    assert "Relance · Josée Tremblay" in page and "Retour à la demande" in page
    english = page_text(supervisor_client, reverse("leads:lead_followup", args=[lead.pk]), ENGLISH)
    assert "Follow-up · Josée Tremblay" in english and "Back to the lead" in english
