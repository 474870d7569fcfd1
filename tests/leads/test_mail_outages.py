"""The mail server or the broker down for a while: nothing saved is lost, nothing goes twice, and the
pages say what is waiting.

The mail server (SMTP) down longer than a task's retries: what could not be handed over stays
queued and the periodic sweeps send it once the server answers again; what was refused or cut short
in the hand-over is not sent again. The broker (Redis) down when something is queued from a page:
the page is not an error page, and the work is picked up later (or the page says to try again)."""

from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.core import mail as django_mail
from django.urls import reverse
from django.utils import timezone

from inventory.models import PhotoStatus, VehiclePhoto
from inventory.services.photos import photos_stuck_sweep, photos_upload
from leads.models import AppointmentNotice, CustomerImport, Direction, ForwardedMail, Message
from leads.services.mail import inbound_requeue_waiting
from leads.services.replies import messages_sweep, reply_queue
from leads.tasks import (
    appointment_notify_task,
    appointment_reminders_task,
    enqueue_followup_send,
    message_send,
    send_forward,
)
from promotions.models import InfoShare
from promotions.services.campaigns import campaign_start, campaigns_resume
from promotions.services.sharing import info_share_create
from tests import factories
from tests.conftest import mail_server_down
from tests.dealership.test_queueing import broker_unreachable
from tests.french import FRENCH
from tests.inventory import images
from tests.leads.test_customers_import import GOOD, MAPPING_FORM, batch

AN_HOUR_AGO = timedelta(hours=1)


@contextmanager
def tasks_run_here():
    """Tasks queued inside the block run at once, in this thread, as a worker would run them (the
    broker-down tests queue for real before that, to find the broker down)."""
    from dealership.celery import app

    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False


def _an_hour_later(model, pk, **fields):
    """The sweeps act on what has waited: as if the row had been queued an hour ago."""
    then = timezone.now() - AN_HOUR_AGO
    model.objects.filter(pk=pk).update(**{field: then for field in fields})


def _acknowledgement():
    inbound = factories.inbound_mail(factories.raw_mail(from_address="ana.buyer@example.com"))
    return Message.objects.get(lead=inbound.lead, direction=Direction.OUTBOUND, author__isnull=True)


def _reply(author):
    return reply_queue(lead=factories.lead(), author=author, subject="Your quote", body="Hi, $31,900.")


# --- the mail server down for longer than the retries (reply, acknowledgement, forward) ----------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "make", [_reply, lambda _author: _acknowledgement()], ids=["reply", "acknowledgement"]
)
def test_mail_the_server_could_not_take_for_an_hour_waits_and_goes_once_it_answers(
    make, sophie, sophie_client, settings, smtp_sink, eager_celery
):
    message = make(sophie)
    with mail_server_down(settings):
        # Every try of the task, the last one included, finds the server down.
        assert message_send.apply(args=[message.pk]).get() == Message.SendStatus.QUEUED
        message.refresh_from_db()
        assert message.send_status == Message.SendStatus.QUEUED
        assert message.send_error.startswith("The mail server could not be reached: ")
        # The lead page says it waits for the server, not that it went, nor that it was lost.
        page = sophie_client.get(reverse("leads:lead_detail", args=[message.lead_id])).content.decode()
        assert "Waiting for the mail server:" in page
        assert "it will be sent as soon as the server answers" in page
        assert "Not sent:" not in page
        # The sweep tries again meanwhile: still down, still waiting.
        _an_hour_later(Message, message.pk, occurred_at=True)
        messages_sweep()
        message.refresh_from_db()
        assert message.send_status == Message.SendStatus.QUEUED
    assert smtp_sink.received == []

    # The server is back; the sweep sends it, once.
    _an_hour_later(Message, message.pk, occurred_at=True)
    messages_sweep()
    _an_hour_later(Message, message.pk, occurred_at=True)
    messages_sweep()
    message.refresh_from_db()
    assert message.send_status == Message.SendStatus.SENT and message.send_error == ""
    assert [recipients for recipients, _ in smtp_sink.received] == [message.to_addresses]
    page = sophie_client.get(reverse("leads:lead_detail", args=[message.lead_id])).content.decode()
    assert "Waiting for the mail server:" not in page


@pytest.mark.django_db
def test_a_forward_the_server_could_not_take_waits_and_goes_to_the_department_once_it_answers(
    settings, smtp_sink, eager_celery
):
    factories.department("parts")
    factories.inbound_mail(
        factories.raw_mail(subject="Part number for floor mats", body="What part number fits a 2022 Civic?")
    )
    forwarded = ForwardedMail.objects.get()
    with mail_server_down(settings):
        assert send_forward.apply(args=[forwarded.pk]).get() == Message.SendStatus.QUEUED
        forwarded.refresh_from_db()
        assert forwarded.send_status == Message.SendStatus.QUEUED
        assert "could not be reached" in forwarded.send_error
        # The mail poll's sweep queues it again at every poll meanwhile: one try each, still waiting.
        _an_hour_later(ForwardedMail, forwarded.pk, created_at=True)
        inbound_requeue_waiting()
        forwarded.refresh_from_db()
        assert forwarded.send_status == Message.SendStatus.QUEUED
    # The server is back: the mail poll's sweep sends it, once.
    inbound_requeue_waiting()
    inbound_requeue_waiting()
    forwarded.refresh_from_db()
    assert forwarded.send_status == Message.SendStatus.SENT
    assert [recipients for recipients, _ in smtp_sink.received] == [[forwarded.to_address]]


@pytest.mark.django_db
def test_mail_that_could_not_go_for_two_days_is_not_sent_that_late_and_says_why(
    sophie, sophie_client, smtp_sink, eager_celery
):
    message = _reply(sophie)
    three_days_ago = timezone.now() - timedelta(days=3)
    Message.objects.filter(pk=message.pk).update(
        created_at=three_days_ago,
        occurred_at=timezone.now() - AN_HOUR_AGO,
        send_error="The mail server could not be reached: [Errno 111] Connection refused",
    )
    messages_sweep()  # the server answers again, days later
    message.refresh_from_db()
    assert (
        message.send_status == Message.SendStatus.FAILED and "it was not sent this late" in message.send_error
    )
    assert smtp_sink.received == []
    page = sophie_client.get(reverse("leads:lead_detail", args=[message.lead_id])).content.decode()
    assert "Not sent:" in page and "it was not sent this late" in page
    french = sophie_client.get(reverse("leads:lead_detail", args=[message.lead_id]), headers=FRENCH)
    assert "il n’a donc pas été envoyé si tard" in french.content.decode()


@pytest.mark.django_db
def test_a_forward_that_could_not_go_for_two_days_is_not_sent_that_late(smtp_sink, eager_celery):
    factories.department("parts")
    factories.inbound_mail(factories.raw_mail(subject="Part number for floor mats", body="Which mats fit?"))
    forwarded = ForwardedMail.objects.get()
    ForwardedMail.objects.filter(pk=forwarded.pk).update(created_at=timezone.now() - timedelta(days=3))
    inbound_requeue_waiting()
    forwarded.refresh_from_db()
    assert (
        forwarded.send_status == Message.SendStatus.FAILED
        and "it was not sent this late" in forwarded.send_error
    )
    assert smtp_sink.received == []


@pytest.mark.django_db
def test_a_refusal_after_the_outage_is_still_final_with_the_servers_words(sophie, settings, smtp_sink):
    lead = factories.lead(customer_obj=factories.customer(email="refused-me@example.com"))
    message = reply_queue(lead=lead, author=sophie, subject="Hello", body="Hi")
    with mail_server_down(settings):
        assert message_send.apply(args=[message.pk]).get() == Message.SendStatus.QUEUED
    assert message_send.apply(args=[message.pk]).get() == Message.SendStatus.FAILED
    message.refresh_from_db()
    assert message.send_error.startswith("The mail server refused it: ") and "550" in message.send_error
    assert message_send.apply(args=[message.pk]).get() == Message.SendStatus.FAILED  # never again
    assert smtp_sink.received == []


@pytest.mark.django_db
def test_appointment_notices_the_server_could_not_take_for_an_hour_go_once_it_answers(
    settings, smtp_sink, eager_celery
):
    from leads.services.appointments import appointment_notices_missing

    appointment = factories.test_drive(factories.lead(), factories.advisor(), hour=10)
    with mail_server_down(settings):
        appointment_notify_task.apply(
            kwargs={"appointment_id": appointment.pk, "kind": "invitation", "sequence": 0}
        )
    assert not AppointmentNotice.objects.exists() and smtp_sink.received == []
    # Too soon: the task may still be retrying.
    assert appointment_notices_missing(now=timezone.now()) == []
    later = timezone.now() + AN_HOUR_AGO + timedelta(minutes=1)
    assert appointment_notices_missing(now=later) == [(appointment.pk, "invitation", 0)]
    _an_hour_later(type(appointment), appointment.pk, updated_at=True)
    appointment_reminders_task()
    appointment_reminders_task()
    assert len(smtp_sink.received) == 2  # the customer and the advisor, once each
    assert set(AppointmentNotice.objects.values_list("status", flat=True)) == {"sent"}


# --- the broker down when something is queued from a page ----------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_reply_sent_while_the_broker_is_down_is_saved_and_goes_with_the_sweep(
    sophie, sophie_client, smtp_sink
):
    lead = factories.lead()
    sophie_client.raise_request_exception = False
    with broker_unreachable():
        response = sophie_client.post(
            reverse("leads:lead_reply", args=[lead.pk]),
            {"subject": "Your quote", "body": "Hi, the RAV4 is $31,900.", "language": "en"},
        )
    assert response.status_code == 302
    message = Message.objects.get(lead=lead, subject="Your quote")
    assert message.send_status == Message.SendStatus.QUEUED
    page = sophie_client.get(response["Location"]).content.decode()
    assert "is being sent" in page
    _an_hour_later(Message, message.pk, occurred_at=True)
    with tasks_run_here():
        messages_sweep()
    assert len(smtp_sink.received) == 1


def test_a_follow_up_email_approved_while_the_broker_is_down_is_left_to_the_dispatch_sweep():
    """A supervisor approving a draft queues its sending after commit: the step stays queued for
    followup_dispatch_due, which queues stale steps again, instead of the page failing."""
    with broker_unreachable():
        enqueue_followup_send(12345)


@pytest.mark.django_db(transaction=True)
def test_an_appointment_booked_while_the_broker_is_down_is_kept_and_its_invitation_goes_later(smtp_sink):
    lead, advisor = factories.lead(), factories.advisor()
    with broker_unreachable():
        appointment = factories.test_drive(lead, advisor, hour=11)
    assert type(appointment).objects.filter(pk=appointment.pk).exists()
    assert smtp_sink.received == []
    _an_hour_later(type(appointment), appointment.pk, updated_at=True)
    with tasks_run_here():
        appointment_reminders_task()
        appointment_reminders_task()
    assert len(smtp_sink.received) == 2


@pytest.mark.django_db(transaction=True)
def test_an_import_started_while_the_broker_is_down_says_to_try_again_and_can_be(supervisor_client):
    upload = batch(GOOD)
    url = reverse("leads:customer_import_mapping", args=[upload.pk])
    supervisor_client.raise_request_exception = False
    with broker_unreachable():
        response = supervisor_client.post(url, {**MAPPING_FORM, "action": "preview"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Nothing was imported or lost" in page and "try again in a minute" in page
    upload.refresh_from_db()
    assert upload.state == CustomerImport.State.UPLOADED  # not "being worked on" for ever
    response = supervisor_client.post(url, {**MAPPING_FORM, "action": "preview"})
    assert response.status_code == 302
    upload.refresh_from_db()
    assert upload.state == CustomerImport.State.PREVIEWING


@pytest.mark.django_db(transaction=True)
def test_a_campaign_started_while_the_broker_is_down_is_kept_and_resumed_by_the_sweep():
    factories.customer_with_email_consent()
    campaign = factories.campaign()
    with broker_unreachable():
        counts = campaign_start(campaign=campaign)
    assert counts["queued"] == 1
    assert campaigns_resume() == 1  # the five-minute sweep starts the sending


@pytest.mark.django_db(transaction=True)
def test_information_shared_while_the_broker_is_down_is_kept_and_sent_once_by_the_sweep():
    colleague = factories.staff(email="colleague@store.test")
    with broker_unreachable():
        share = info_share_create(
            sent_by=None, subject="Rival offer", text="Their RAV4 is 0.9%.", staff=[colleague]
        )
    assert InfoShare.objects.filter(pk=share.pk).exists() and django_mail.outbox == []
    with tasks_run_here():
        campaigns_resume()
        assert django_mail.outbox == []  # too soon: its own task may still be at it
        _an_hour_later(InfoShare, share.pk, created_at=True)
        campaigns_resume()
        campaigns_resume()
    assert [message.to for message in django_mail.outbox] == [["colleague@store.test"]]


@pytest.mark.django_db(transaction=True)
def test_photos_uploaded_while_the_broker_is_down_are_kept_and_prepared_by_the_sweep():
    vehicle = factories.vehicle()
    with broker_unreachable():
        result = photos_upload(vehicle=vehicle, files=[images.upload("a.jpg", images.phone_jpeg())])
    [photo] = result.accepted
    assert VehiclePhoto.objects.get(pk=photo.pk).status == PhotoStatus.UPLOADED
    with tasks_run_here():
        assert photos_stuck_sweep(now=timezone.now() + AN_HOUR_AGO)["queued"] == 1
    assert VehiclePhoto.objects.get(pk=photo.pk).status == PhotoStatus.READY
