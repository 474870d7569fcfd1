import importlib
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.apps import apps as django_apps
from django.urls import reverse
from django.utils import timezone

from dealership.models import Role
from inventory.services.photos import photos_upload
from leads.models import InquiryType, LeadStatus, Message, ReplyTemplate
from leads.selectors.replies import reply_language, reply_template_suggested, reply_templates
from leads.services.consent import unsubscribe_customer
from leads.services.mail import inbound_requeue_waiting
from leads.services.replies import (
    DEFAULT_TEMPLATES,
    QUOTED_LINES,
    AnsweredMeanwhile,
    MailServerUnavailable,
    ReplyError,
    message_deliver,
    messages_sweep,
    reply_draft,
    reply_last_answer_id,
    reply_queue,
    reply_template_save,
    reply_templates_ensure_defaults,
)
from leads.tasks import message_send
from leads.threading import lead_id_from_address
from tests import factories
from tests.conftest import mail_server_down, unreachable_smtp
from tests.formsets import composer_fields
from tests.inventory import images

pytestmark = pytest.mark.django_db


def _active():
    return list(reply_templates(active_only=True))


@pytest.fixture
def templates():
    reply_templates_ensure_defaults()


@pytest.fixture
def sophie():
    return factories.staff(
        Role.SUPERVISOR,
        first_name="Sophie",
        last_name="Tremblay",
        title="Internet sales supervisor",
        phone="+1 416 555 0142",
        email="sophie@maplemotors.example",
    ).user


def test_defaults_exist_for_every_inquiry_type_in_english_and_french_once():
    assert reply_templates_ensure_defaults() == 10
    assert reply_templates_ensure_defaults() == 0
    for inquiry_type in InquiryType.values:
        for language in ("en", "fr"):
            assert ReplyTemplate.objects.filter(
                inquiry_type=inquiry_type, language=language, active=True
            ).exists()


def test_an_edited_default_is_not_replaced():
    reply_templates_ensure_defaults()
    ReplyTemplate.objects.filter(inquiry_type="price", language="fr").update(name="Mon prix", subject="Prix")
    assert reply_templates_ensure_defaults() == 0
    assert ReplyTemplate.objects.get(inquiry_type="price", language="fr").subject == "Prix"


def test_merge_fields_render_customer_vehicle_price_signature_and_store(templates, sophie, settings):
    lead = factories.lead(
        customer_obj=factories.customer(first_name="Olivier", last_name="Côté"),
        inquiry_type="price",
        vehicles=[{"year": 2026, "make": "Toyota", "model": "RAV4", "trim": "XLE", "price": "38995.00"}],
    )
    english = reply_draft(
        template=ReplyTemplate.objects.get(inquiry_type="price", language="en"), lead=lead, sender=sophie
    )
    assert english["subject"] == f"Your 2026 Toyota RAV4 XLE at {settings.STORE['name']}"
    assert "Hello Olivier," in english["body"] and "$38,995" in english["body"]
    assert "Sophie Tremblay\nInternet sales supervisor" in english["body"]
    assert "+1 416 555 0142" in english["body"] and "sophie@maplemotors.example" in english["body"]
    assert "{{" not in english["body"]
    french = reply_draft(
        template=ReplyTemplate.objects.get(inquiry_type="price", language="fr"), lead=lead, sender=sophie
    )
    assert "Bonjour Olivier," in french["body"] and "38\u00a0995\u00a0$" in french["body"]


@pytest.mark.parametrize(
    ("stock_status", "price", "english", "french"),
    [
        # A vehicle not found in stock is promised nothing before it is checked.
        (
            None,
            "",
            "I am checking that it is still available, and I will confirm",
            "Je vérifie qu'il est toujours",
        ),
        (
            "in_stock",
            "29995",
            "It is available, at $29,995, and I can hold",
            "au prix de 29\u00a0995\u00a0$, et je",
        ),
        ("on_order", "29995", "It is on order and arriving soon, at $29,995.", "arrive bientôt, au prix de"),
        ("on_hold", "29995", "I can find you a similar one.", "je peux vous en trouver un semblable."),
        (
            "sold",
            "29995",
            "It has just been sold, but I can find you a similar one.",
            "Il vient d'être vendu",
        ),
    ],
)
def test_the_price_draft_says_what_the_stock_says(templates, sophie, stock_status, price, english, french):
    """No price: no "at ." left hanging; a vehicle sold or held is not said to be available."""
    wanted = {"year": 2024, "make": "Honda", "model": "Civic"}
    if stock_status:
        stock = factories.vehicle(make="Honda", model="Civic", status=stock_status, price=price)
        wanted["stock_number"] = stock.stock_number
    lead = factories.lead(inquiry_type="price", vehicles=[wanted])
    for language, sentence in (("en", english), ("fr", french)):
        template = ReplyTemplate.objects.get(inquiry_type="price", language=language)
        body = reply_draft(template=template, lead=lead, sender=sophie)["body"]
        assert sentence in body and " ." not in body and "de ." not in body, body


def test_the_draft_links_the_photos_of_the_vehicle_in_stock(templates, sophie, settings):
    stock = factories.vehicle(make="Toyota", model="RAV4")
    photos_upload(vehicle=stock, files=[images.upload("a.png", images.encoded("PNG"))], process_now=True)
    photo = stock.photos.get()
    lead = factories.lead(
        inquiry_type="price", vehicles=[{"make": "Toyota", "stock_number": stock.stock_number}]
    )
    draft = reply_draft(
        template=ReplyTemplate.objects.get(inquiry_type="price", language="en"), lead=lead, sender=sophie
    )
    assert f"{settings.SITE_URL}{photo.url('large', 'jpg')}" in draft["body"]
    assert settings.SITE_URL.startswith("http")


def test_no_reply_is_queued_to_an_address_that_bounced(sophie):
    lead = factories.lead()
    lead.customer.email_undeliverable = True
    lead.customer.save(update_fields=["email_undeliverable"])
    with pytest.raises(ReplyError, match="undeliverable"):
        reply_queue(lead=lead, author=sophie, subject="Your RAV4", body="Hello!")
    assert not Message.objects.filter(lead=lead, direction="out").exists()


@pytest.mark.parametrize("inquiry_type", InquiryType.values)
@pytest.mark.parametrize("language", ["en", "fr"])
def test_suggested_template_follows_inquiry_type_and_language(templates, inquiry_type, language):
    lead = factories.lead(inquiry_type=inquiry_type, language=language)
    suggested = reply_template_suggested(templates=_active(), lead=lead, language=reply_language(lead=lead))
    assert (suggested.inquiry_type, suggested.language) == (inquiry_type, language)
    assert suggested.name == DEFAULT_TEMPLATES[(inquiry_type, language)][0]


def test_language_comes_from_the_customers_words_when_clear(templates):
    lead = factories.lead(language="en", inquiry_type="test_drive")
    factories.inbound_email(
        lead=lead, body="Bonjour, est-ce que la voiture est encore disponible pour un essai?"
    )
    assert reply_language(lead=lead) == "fr"
    assert reply_template_suggested(templates=_active(), lead=lead, language="fr").name == "Essai routier"
    unclear = factories.lead(language="fr")
    factories.inbound_email(lead=unclear, body="OK 👍")
    assert reply_language(lead=unclear) == "fr"


def test_inactive_templates_fall_back_to_the_general_one(templates):
    ReplyTemplate.objects.filter(inquiry_type="financing", language="en").update(active=False)
    lead = factories.lead(inquiry_type="financing", language="en")
    assert reply_template_suggested(templates=_active(), lead=lead, language="en").inquiry_type == "general"


def test_reply_refuses_unknown_merge_fields_and_missing_email(sophie):
    lead = factories.lead()
    with pytest.raises(ReplyError, match="first_nme"):
        reply_queue(lead=lead, author=sophie, subject="Hi", body="Hello {{ first_nme }}")
    no_email = factories.lead(customer_obj=factories.customer(email="", phone="+14165550123"))
    with pytest.raises(ReplyError, match="no email"):
        reply_queue(lead=no_email, author=sophie, subject="Hi", body="Hello")
    assert not Message.objects.filter(direction="out").exists()


def test_merge_fields_typed_by_hand_are_filled_in_and_other_markup_is_refused(sophie):
    lead = factories.lead(customer_obj=factories.customer(first_name="Hélène", email="helene@example.ca"))
    queued = reply_queue(
        lead=lead, author=sophie, subject="{{ first_name }}, your answer", body="Hi {{first_name}}!"
    )
    assert (queued.subject, queued.body_text.split("\n")[0]) == ("Hélène, your answer", "Hi Hélène!")
    for mistake in (
        "Bonjour {{ prénom }}",
        "{{ First_Name }}",
        "{% if vehicle %}",
        "Hi {{ first_name",
        "{{ }}",
    ):
        with pytest.raises(ReplyError, match="Fill in or remove"):
            reply_queue(lead=lead, author=sophie, subject="Hi", body=mistake)
    with pytest.raises(ReplyError, match="one line"):
        reply_queue(lead=lead, author=sophie, subject="Hello\r\nBcc: someone@example.com", body="Hi")
    assert Message.objects.filter(direction="out").count() == 1


def test_the_same_answer_sent_twice_at_once_goes_once(
    sophie, django_capture_on_commit_callbacks, smtp_sink, eager_celery
):
    lead = factories.lead()
    with django_capture_on_commit_callbacks(execute=True):
        first = reply_queue(lead=lead, author=sophie, subject="Your RAV4", body="It is here.")
        again = reply_queue(lead=lead, author=sophie, subject="Your RAV4", body="It is here.")
        other = reply_queue(lead=lead, author=sophie, subject="Your RAV4", body="It is here, in blue.")
    assert again == first and other != first
    assert len(smtp_sink.received) == 2


def test_the_same_answer_refused_by_the_server_or_to_a_corrected_address_goes_again(
    sophie, django_capture_on_commit_callbacks, smtp_sink, eager_celery
):
    lead = factories.lead(customer_obj=factories.customer(email="jean@exmaple.com"))
    with django_capture_on_commit_callbacks(execute=True):
        first = reply_queue(lead=lead, author=sophie, subject="Your RAV4", body="It is here.")
    Message.objects.filter(pk=first.pk).update(
        send_status=Message.SendStatus.FAILED, send_error="550 no such user"
    )
    with django_capture_on_commit_callbacks(execute=True):
        retried = reply_queue(lead=lead, author=sophie, subject="Your RAV4", body="It is here.")
    assert retried != first
    # The supervisor corrects the address and sends the same answer at once: it goes to the new one.
    lead.customer.email = "jean@example.com"
    lead.customer.save(update_fields=["email"])
    lead.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        corrected = reply_queue(lead=lead, author=sophie, subject="Your RAV4", body="It is here.")
    assert corrected not in (first, retried) and corrected.to_addresses == ["jean@example.com"]
    assert [to for to, _ in smtp_sink.received] == [
        ["jean@exmaple.com"],
        ["jean@exmaple.com"],
        ["jean@example.com"],
    ]


def test_a_template_with_markup_no_merge_field_fills_is_refused():
    with pytest.raises(ReplyError, match=r"Not a merge field: \{\{ prénom \}\}, \{% if %\}"):
        reply_template_save(
            name="Prix", inquiry_type="price", language="fr", subject="Votre {{ vehicle }}",
            body="Bonjour {{ prénom }} {% if %}",
        )  # fmt: skip
    assert not ReplyTemplate.objects.filter(name="Prix").exists()


def _threaded_lead():
    lead = factories.lead(language="fr")
    factories.inbound_email(lead=lead, message_id="<first@customer.example>")
    factories.inbound_email(
        lead=lead, message_id="<second@customer.example>", references="<first@customer.example>"
    )
    return lead


def test_reply_is_sent_by_smtp_with_threading_headers_and_footer(
    smtp_sink, sophie, settings, django_capture_on_commit_callbacks, eager_celery
):
    lead = _threaded_lead()
    with django_capture_on_commit_callbacks(execute=True):
        queued = reply_queue(lead=lead, author=sophie, subject="Votre RAV4", body="Bonjour!", language="fr")
    assert queued.message_id.startswith(f"<lead{lead.pk}.")
    [received] = smtp_sink.parsed()
    assert received["Message-ID"] == queued.message_id
    assert received["In-Reply-To"] == "<second@customer.example>"
    assert received["References"] == "<first@customer.example> <second@customer.example>"
    assert lead_id_from_address(received["Reply-To"]) == lead.pk
    assert received["To"] == lead.customer.email
    body = received.get_content()
    store = settings.STORE
    for part in (store["name"], store["address"], store["phone"], store["website"]):
        assert part in body
    unsubscribe = next(line for line in body.splitlines() if "/u/" in line).split()[-1]
    token = urlsplit(unsubscribe).path.rstrip("/").rsplit("/", 1)[-1]  # the page's language beside it
    assert unsubscribe_customer(token) == lead.customer
    assert received["List-Unsubscribe"] == f"<{unsubscribe}>"
    queued.refresh_from_db()
    lead.refresh_from_db()
    assert queued.send_status == Message.SendStatus.SENT
    assert lead.first_response_at == queued.occurred_at and lead.status == LeadStatus.CONTACTED


def test_task_run_twice_sends_once(smtp_sink, sophie):
    lead = _threaded_lead()
    message = reply_queue(lead=lead, author=sophie, subject="Hello", body="Hi")
    assert message_send.apply(args=[message.pk]).get() == "sent"
    assert message_send.apply(args=[message.pk]).get() == "sent"
    assert len(smtp_sink.messages) == 1


def test_refused_recipient_fails_with_the_servers_words_and_no_retry(smtp_sink, sophie):
    lead = factories.lead(customer_obj=factories.customer(email="refused-me@example.com"))
    message = reply_queue(lead=lead, author=sophie, subject="Hello", body="Hi")
    assert message_send.apply(args=[message.pk]).get() == "failed"
    message.refresh_from_db()
    assert "550" in message.send_error and "no such mailbox" in message.send_error
    assert smtp_sink.messages == []
    lead.refresh_from_db()
    assert lead.first_response_at is None and lead.status == LeadStatus.NEW


def test_a_server_that_asks_to_try_later_gets_the_answer_on_the_next_try(smtp_sink, sophie):
    """Greylisting (451): nothing was taken, so the answer waits for the task's retry and goes once."""
    lead = factories.lead(customer_obj=factories.customer(email="greylisted.buyer@example.com"))
    message = reply_queue(lead=lead, author=sophie, subject="Hello", body="Hi")
    with pytest.raises(MailServerUnavailable, match="451"):
        message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.send_status == Message.SendStatus.QUEUED and "try again later" in message.send_error
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.send_status == Message.SendStatus.SENT
    assert [recipients for recipients, _ in smtp_sink.received] == [["greylisted.buyer@example.com"]]


def test_message_left_sending_by_a_dead_worker_is_not_resent(smtp_sink, sophie):
    lead = factories.lead()
    message = reply_queue(lead=lead, author=sophie, subject="Hello", body="Hi")
    Message.objects.filter(pk=message.pk).update(send_status=Message.SendStatus.SENDING)
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.send_status == Message.SendStatus.FAILED
    assert "may or may not have received it" in message.send_error
    assert smtp_sink.messages == []


def test_unreachable_server_keeps_it_queued_through_the_last_retry_for_the_sweep(settings, sophie):
    settings.MAILERS = unreachable_smtp()
    message = reply_queue(lead=factories.lead(), author=sophie, subject="Hello", body="Hi")
    with pytest.raises(MailServerUnavailable):
        message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.send_status == Message.SendStatus.QUEUED
    # Nothing reached the server: after the task's last allowed retry it still waits, for the sweep
    # to send once the server is back.
    assert message_send.apply(args=[message.pk], retries=message_send.max_retries).get() == "queued"
    message.refresh_from_db()
    assert message.send_status == Message.SendStatus.QUEUED
    assert "could not be reached" in message.send_error


def test_sweep_requeues_lost_mail_and_gives_up_on_mail_stuck_sending(
    smtp_sink, sophie, settings, eager_celery
):
    lost = reply_queue(lead=factories.lead(), author=sophie, subject="Lost task", body="Hi")
    stuck = reply_queue(lead=factories.lead(), author=sophie, subject="Stuck", body="Hi")
    fresh = reply_queue(lead=factories.lead(), author=sophie, subject="Just queued", body="Hi")
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Message.objects.filter(pk=lost.pk).update(occurred_at=an_hour_ago)
    Message.objects.filter(pk=stuck.pk).update(
        occurred_at=an_hour_ago, send_status=Message.SendStatus.SENDING
    )
    assert messages_sweep() == {"requeued": 1, "given_up": 1}
    statuses = dict(Message.objects.filter(direction="out").values_list("subject", "send_status"))
    assert statuses == {"Lost task": "sent", "Stuck": "failed", "Just queued": "queued"}
    assert [m["Subject"] for m in smtp_sink.parsed()] == ["Lost task"]
    fresh.refresh_from_db()
    assert fresh.send_status == Message.SendStatus.QUEUED  # too young for the sweep to touch


def test_a_reply_waiting_for_a_retry_is_sent_once_by_the_sweep_as_the_first_response(
    smtp_sink, sophie, settings, eager_celery
):
    """The mail poll's own sweep (every 30 s) leaves staff replies alone: they go out once, by the
    messages sweep, with the unsubscribe header, and count as the first response."""
    settings.MAIL_REQUEUE_SECONDS = 60
    lead = factories.lead()
    reply = reply_queue(lead=lead, author=sophie, subject="Your quote", body="Hi")
    with mail_server_down(settings), pytest.raises(MailServerUnavailable):
        message_deliver(message_id=reply.pk)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Message.objects.filter(pk=reply.pk).update(occurred_at=an_hour_ago, created_at=an_hour_ago)

    inbound_requeue_waiting()
    messages_sweep()
    [received] = smtp_sink.parsed()
    assert received["Subject"] == "Your quote"
    assert received["List-Unsubscribe"].startswith("<http")
    assert received["Auto-Submitted"] is None
    reply.refresh_from_db()
    lead.refresh_from_db()
    assert reply.send_status == Message.SendStatus.SENT
    assert lead.first_response_at == reply.occurred_at and lead.status == LeadStatus.CONTACTED


def test_a_store_s_unedited_default_templates_learn_availability_and_edited_ones_stay(templates):
    migration = importlib.import_module("leads.migrations.0017_default_templates_say_availability")
    old_price_en, old_price_fr, old_financing_en, _ = migration.OLD_TO_NEW
    ReplyTemplate.objects.filter(inquiry_type="price", language="en").update(body=old_price_en)
    ReplyTemplate.objects.filter(inquiry_type="price", language="fr").update(body=old_price_fr + " Merci!")
    ReplyTemplate.objects.filter(inquiry_type="financing", language="en").update(body=old_financing_en)
    migration.update_unedited_defaults(django_apps, None)
    body = dict(ReplyTemplate.objects.values_list("inquiry_type", "body").filter(language="en"))
    assert "{{ availability }}" in body["price"] and "({{ price }})" not in body["financing"]
    edited = ReplyTemplate.objects.get(inquiry_type="price", language="fr").body
    assert edited == old_price_fr + " Merci!"


def test_a_draft_for_a_customer_known_by_address_only_greets_without_a_hole(templates, sophie):
    lead = factories.lead(
        customer_obj=factories.customer(first_name="", last_name="", email="dana@example.com"),
        inquiry_type="price",
        vehicles=[{"year": 2024, "make": "Mazda", "model": "CX-5"}],
    )
    for language, greeting in (("en", "Hello,\n"), ("fr", "Bonjour,\n")):
        template = ReplyTemplate.objects.get(inquiry_type="price", language=language)
        draft = reply_draft(template=template, lead=lead, sender=sophie)
        assert draft["body"].startswith(greeting) and " ," not in draft["body"], draft["body"]
        assert draft["unfilled"] == ["first_name", "photo_links"]


def test_a_sold_vehicle_s_draft_links_no_photos_and_the_composer_says_what_had_nothing(
    templates, sophie, client
):
    stock = factories.vehicle(make="Toyota", model="RAV4", status="sold", price="31995")
    photos_upload(vehicle=stock, files=[images.upload("a.png", images.encoded("PNG"))], process_now=True)
    lead = factories.lead(
        inquiry_type="price", vehicles=[{"make": "Toyota", "stock_number": stock.stock_number}]
    )
    draft = reply_draft(
        template=ReplyTemplate.objects.get(inquiry_type="price", language="en"), lead=lead, sender=sophie
    )
    assert "just been sold" in draft["body"] and "/media/" not in draft["body"]
    client.force_login(sophie)
    page = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert "Nothing to fill in {{ photo_links }} with for this customer" in page


def test_an_answer_goes_to_the_address_the_customer_last_wrote_from(sophie, client):
    from leads.services.customers import customer_email_add

    customer = factories.customer(email="jean@oldisp.example")
    customer_email_add(customer=customer, email="jean@work.example")
    lead = factories.lead(customer_obj=customer)
    written = factories.inbound_email(lead=lead, body="My old mailbox is closing: write to me here.")
    Message.objects.filter(pk=written.pk).update(from_address="Jean <JEAN@work.example>")
    client.force_login(sophie)
    page = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert "to jean@work.example" in page
    answer = reply_queue(lead=lead, author=sophie, subject="Your RAV4", body="Hello Jean")
    assert answer.to_addresses == ["jean@work.example"]
    # Mail from an address that is not theirs (a lead provider's relay) is answered on file.
    Message.objects.filter(pk=written.pk).update(from_address="noreply@provider.example")
    assert reply_queue(lead=lead, author=sophie, subject="Again", body="Hi").to_addresses == [
        "jean@oldisp.example"
    ]


@pytest.mark.parametrize(
    ("price", "english", "french"),
    [
        ("29999.99", "at $29,999.99, and", "au prix de 29\u00a0999,99\u00a0$, et"),
        ("34995.50", "at $34,995.50, and", "au prix de 34\u00a0995,50\u00a0$, et"),
        ("34995.00", "at $34,995, and", "au prix de 34\u00a0995\u00a0$, et"),
        # A zero is a provider's "call for price": no price is quoted.
        ("0", "It is available, and", "Il est disponible, et"),
    ],
)
def test_the_draft_quotes_the_price_as_listed_with_its_cents_when_there_are_some(
    templates, sophie, price, english, french
):
    stock = factories.vehicle(make="Honda", model="Civic", price=price)
    lead = factories.lead(
        inquiry_type="price", vehicles=[{"make": "Honda", "stock_number": stock.stock_number}]
    )
    for language, quoted in (("en", english), ("fr", french)):
        template = ReplyTemplate.objects.get(inquiry_type="price", language=language)
        assert quoted in reply_draft(template=template, lead=lead, sender=sophie)["body"]


@pytest.mark.parametrize("inquiry_type", ["test_drive", "financing", "price"])
@pytest.mark.parametrize("stock_status", ["sold", "on_hold"])
def test_a_draft_about_a_sold_or_held_vehicle_offers_a_similar_one_and_no_viewing(
    templates, sophie, stock_status, inquiry_type
):
    stock = factories.vehicle(make="Toyota", model="RAV4", status=stock_status)
    lead = factories.lead(
        inquiry_type=inquiry_type,
        vehicles=[{"year": 2024, "make": "Toyota", "model": "RAV4", "stock_number": stock.stock_number}],
    )
    for language, similar, viewing in (
        ("en", "I can find you a similar one.", ("ready for your test drive", "come and see it")),
        ("fr", "je peux vous en trouver un semblable.", ("prêt pour votre essai", "venir le voir")),
    ):
        template = ReplyTemplate.objects.get(inquiry_type=inquiry_type, language=language)
        body = reply_draft(template=template, lead=lead, sender=sophie)["body"]
        assert similar in body and not any(words in body for words in viewing), body


def test_a_test_drive_draft_for_a_vehicle_in_stock_invites_the_customer_to_come(templates, sophie):
    stock = factories.vehicle(make="Toyota", model="RAV4", price="31995")
    lead = factories.lead(
        inquiry_type="test_drive",
        vehicles=[{"make": "Toyota", "model": "RAV4", "stock_number": stock.stock_number}],
    )
    template = ReplyTemplate.objects.get(inquiry_type="test_drive", language="en")
    body = reply_draft(template=template, lead=lead, sender=sophie)["body"]
    assert (
        "It is available, at $31,995, and I can hold it for you. When would you like to come and see it?"
        in body
    )


def test_the_store_s_unedited_defaults_follow_the_stock_and_edited_ones_stay(templates):
    migration = importlib.import_module("leads.migrations.0030_default_templates_follow_the_stock")
    old_test_drive_fr = next(old for old in migration.OLD_TO_NEW if "prêt pour votre essai" in old)
    old_price_en = next(old for old in migration.OLD_TO_NEW if "Thank you for your interest" in old)
    ReplyTemplate.objects.filter(inquiry_type="test_drive", language="fr").update(body=old_test_drive_fr)
    ReplyTemplate.objects.filter(inquiry_type="price", language="en").update(body=old_price_en + " Thanks!")
    migration.update_unedited_defaults(django_apps, None)
    assert (
        ReplyTemplate.objects.get(inquiry_type="test_drive", language="fr").body
        == (DEFAULT_TEMPLATES[("test_drive", "fr")][2])
    )
    assert ReplyTemplate.objects.get(inquiry_type="price", language="en").body == old_price_en + " Thanks!"
    assert set(migration.OLD_TO_NEW.values()) <= {
        body for _name, _subject, body in DEFAULT_TEMPLATES.values()
    }


def _customer_wrote(lead, **fields):
    return factories.inbound_email(lead=lead, occurred_at=lead.received_at + timedelta(hours=1), **fields)


def test_an_answer_to_a_customers_mail_takes_their_subject_and_quotes_their_words_below(templates, sophie):
    customer = factories.customer(first_name="Pat", last_name="Buyer", email="pat@example.com")
    lead = factories.lead(customer_obj=customer, inquiry_type="price")
    factories.inbound_email(lead=lead, subject="An older question", body="Old words")
    _customer_wrote(
        lead,
        subject="RE: Price of the RAV4",
        body="What is your best price?\nAnd the colours?\n\nOn Mon, Maple Motors wrote:\n> We have it.",
    )
    english = reply_draft(
        template=ReplyTemplate.objects.get(inquiry_type="price", language="en"), lead=lead, sender=sophie
    )
    assert english["subject"] == "Re: Price of the RAV4"
    answer, quote = english["body"].split("\n\nOn ", 1)
    assert answer.startswith("Hello Pat,") and "Sophie Tremblay" in answer
    assert quote.endswith("Pat Buyer wrote:\n> What is your best price?\n> And the colours?")
    french = reply_draft(
        template=ReplyTemplate.objects.get(inquiry_type="price", language="fr"), lead=lead, sender=sophie
    )
    assert french["subject"] == "Re: Price of the RAV4"
    assert (
        "\n\nLe " in french["body"]
        and "Pat Buyer a écrit\u00a0:\n> What is your best price?" in french["body"]
    )


def test_a_long_mail_is_quoted_in_part_and_a_mail_without_subject_keeps_the_template_s(templates, sophie):
    lead = factories.lead(inquiry_type="general")
    _customer_wrote(lead, subject="", body="\n".join(f"Line {n}" for n in range(1, 41)))
    draft = reply_draft(
        template=ReplyTemplate.objects.get(inquiry_type="general", language="en"), lead=lead, sender=sophie
    )
    assert draft["subject"] == "Your question to Maple Motors"
    assert (
        f"> Line {QUOTED_LINES}\n> […]" in draft["body"] and f"Line {QUOTED_LINES + 1}" not in draft["body"]
    )


def test_a_lead_from_a_provider_or_web_form_is_answered_under_the_template_s_subject_without_quote(
    templates, sophie
):
    lead = factories.lead(inquiry_type="price", comments="Is the RAV4 available?")
    _customer_wrote(lead, subject="New lead from AutoTrader.ca", body="<adf>…</adf>")
    Message.objects.filter(lead=lead).update(from_address="leads@autotrader.example")
    draft = reply_draft(
        template=ReplyTemplate.objects.get(inquiry_type="price", language="en"), lead=lead, sender=sophie
    )
    assert (
        draft["subject"].startswith("Your ") and "wrote:" not in draft["body"] and "adf" not in draft["body"]
    )


def test_the_answer_sent_from_the_composer_goes_under_the_customers_subject_with_their_words_quoted(
    templates, sophie, client, smtp_sink, eager_celery, django_capture_on_commit_callbacks
):
    lead = factories.lead(inquiry_type="price")
    _customer_wrote(lead, subject="Price of the 2024 RAV4 stock #S123", body="What is your best price?")
    client.force_login(sophie)
    page = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    fields = composer_fields(page)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("leads:lead_reply", args=[lead.pk]), fields).status_code == 302
    [received] = smtp_sink.parsed()
    assert received["Subject"] == "Re: Price of the 2024 RAV4 stock #S123"
    assert "wrote:\n> What is your best price?" in received.get_content().replace("\r\n", "\n")


def test_braces_in_the_customers_quoted_words_are_theirs_neither_refused_nor_filled_in(templates, sophie):
    customer = factories.customer(first_name="Pat", email="pat@example.com")
    lead = factories.lead(customer_obj=customer, inquiry_type="price")
    _customer_wrote(lead, subject="Budget", body="My budget is {budget}, tell {{ first_name }} to call me.")
    template = ReplyTemplate.objects.get(inquiry_type="price", language="en")
    draft = reply_draft(template=template, lead=lead, sender=sophie)
    sent = reply_queue(
        lead=lead, author=sophie, subject=draft["subject"], body=draft["body"] + "\n", language="en"
    )
    assert "> My budget is {budget}, tell {{ first_name }} to call me." in sent.body_text
    assert "Hello Pat," in sent.body_text
    # Written by staff, the same braces are still refused.
    with pytest.raises(ReplyError, match=r"Fill in or remove: \{budget\}"):
        reply_queue(
            lead=lead, author=sophie, subject="Budget", body="Your budget is {budget}.", language="en"
        )


def test_an_answer_someone_queued_since_the_page_was_opened_stops_the_next_one_until_sent_anyway(sophie):
    marc = factories.staff(Role.ADVISOR, first_name="Marc", last_name="Roy").user
    lead = factories.lead()
    factories.outbound_email(lead=lead, subject="We received your inquiry")  # the acknowledgement
    shown = reply_last_answer_id(lead=lead)
    assert shown == 0
    first = reply_queue(
        lead=lead, author=marc, subject="RAV4", body="Best price $33,500.", shown_answer=shown
    )
    # Marc's double click is still his one answer.
    assert (
        reply_queue(lead=lead, author=marc, subject="RAV4", body="Best price $33,500.", shown_answer=shown)
        == first
    )
    with pytest.raises(AnsweredMeanwhile, match="Marc Roy answered this customer on ") as refused:
        reply_queue(lead=lead, author=sophie, subject="RAV4", body="It is $34,995.", shown_answer=shown)
    assert refused.value.answer == first
    assert Message.objects.filter(lead=lead, author__isnull=False).count() == 1
    # Sent knowing of Marc's answer; an automatic mail or an answer the server refused is no answer.
    reply_queue(lead=lead, author=sophie, subject="RAV4", body="It is $34,995.", shown_answer=first.pk)
    Message.objects.filter(lead=lead, author=sophie).update(send_status=Message.SendStatus.FAILED)
    factories.outbound_email(lead=lead, subject="Follow-up")
    assert reply_queue(lead=lead, author=marc, subject="RAV4", body="Any news?", shown_answer=first.pk)


def test_single_brace_merge_fields_are_refused_with_their_spelling(sophie):
    lead = factories.lead()
    with pytest.raises(
        ReplyError,
        match=r"Fill in or remove: \{first_name\}\. Merge fields take two braces on each side: "
        r"\{\{ first_name \}\}\.",
    ):
        reply_queue(lead=lead, author=sophie, subject="Hi", body="Hello {first_name}")
    with pytest.raises(ReplyError, match=r"Not a merge field: \{ vehicle \}"):
        reply_template_save(
            name="Prix", inquiry_type="price", language="en", subject="Hi", body="Your { vehicle }"
        )
    assert not Message.objects.filter(direction="out").exists()
