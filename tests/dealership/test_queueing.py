"""Queueing after commit when the broker cannot be reached: what was saved stays saved, and the page
is never an error page."""

from contextlib import contextmanager

import pytest
from django.db import transaction
from django.urls import reverse

from dealership.models import Department
from dealership.queueing import queue_now, queue_on_commit
from dealership.services import directory_send_claim
from dealership.tasks import ping
from tests.conftest import free_port


@contextmanager
def broker_unreachable():
    """The broker (Redis) is down inside the block: a closed loopback port; back as it was after."""
    from dealership.celery import app

    before = app.conf.broker_url
    app.conf.broker_url = f"redis://127.0.0.1:{free_port()}/0"
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield
    finally:
        app.conf.broker_url = before
        app._pool = None
        app.amqp._producer_pool = None


@pytest.mark.django_db(transaction=True)
def test_work_queued_after_commit_with_the_broker_down_leaves_what_was_saved_and_raises_nothing():
    told = []
    with broker_unreachable():
        with transaction.atomic():
            Department.objects.create(code="bodyshop", name="Body shop")
            queue_on_commit(ping, on_broker_down=told.append)
    assert Department.objects.filter(code="bodyshop").exists()
    [error] = told
    assert "Connection refused" in str(error) or "connecting" in str(error)


def test_queueing_with_the_broker_up_queues_and_tells_nothing():
    told = []
    assert queue_now(ping, on_broker_down=told.append) is True
    assert told == []


def test_arguments_the_task_does_not_take_are_a_mistake_and_still_raise():
    with pytest.raises(TypeError):
        queue_now(ping, 42)


@pytest.mark.django_db(transaction=True)
def test_the_directory_asked_for_while_the_broker_is_down_says_so_and_may_be_asked_for_again():
    from dealership.services import DirectoryNotQueued, directory_send_queue

    assert directory_send_claim() is None
    with broker_unreachable(), pytest.raises(DirectoryNotQueued) as refusal:
        directory_send_queue(sent_by_id=None, language="en")
    assert "Nothing was sent" in str(refusal.value) and "try again in a minute" in str(refusal.value)
    # The claim that kept a second click from sending it twice is given back: nothing went.
    assert directory_send_claim() is None
    directory_send_queue(sent_by_id=None, language="en")  # the broker is back: queued


@pytest.mark.django_db(transaction=True)
def test_sending_the_directory_while_the_broker_is_down_says_so_on_the_page(client):
    from dealership.models import Role
    from tests import factories

    client.force_login(factories.staff(Role.MANAGER).user)
    with broker_unreachable():
        response = client.post(reverse("dealership:directory_send"), follow=True)
    assert response.status_code == 200
    shown = [str(message) for message in response.context["messages"]]
    assert shown == [
        "The staff directory was not sent: the background worker cannot be reached just now. "
        "Nothing was sent; try again in a minute."
    ]
    response = client.post(reverse("dealership:directory_send"), follow=True)  # the broker is back
    assert [str(message) for message in response.context["messages"]] == [
        "The staff directory is being sent to every active staff member."
    ]


def test_arguments_the_queue_cannot_carry_are_a_mistake_and_still_raise():
    from kombu.exceptions import EncodeError

    from leads.tasks import process_inbound

    told = []
    with pytest.raises(EncodeError):
        queue_now(process_inbound, {1, 2}, on_broker_down=told.append)  # a set: JSON has none
    assert told == []
