"""An appointment and its lead changed at the same moment (a booking, a move or an outcome while
the lead is merged or closed), on real PostgreSQL connections.

Each side runs in its own thread and connection. One side's transaction is held open while the
other starts; the test goes on once PostgreSQL reports the second side waiting for a row lock,
so that the two always overlap. lock_timeout and statement_timeout keep a wrong lock order from
hanging the run: PostgreSQL then reports a deadlock (after deadlock_timeout) or a timeout.
"""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from dealership.models import Role
from leads.models import Appointment, Lead, LeadStatus
from leads.services.appointments import (
    BookingError,
    appointment_book,
    appointment_reschedule,
    appointment_transition,
)
from leads.services.leads import lead_merge, lead_transition
from tests import factories
from tests.conftest import service_missing

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 15  # seconds: the most any step of these tests waits for another


def _session(pids: dict, name: str) -> None:
    """This thread's connection gives up rather than waiting for ever, and says who it is."""
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '10s'")
        cursor.execute("SET statement_timeout = '20s'")
        cursor.execute("SELECT pg_backend_pid()")
        pids[name] = cursor.fetchone()[0]


def _pid_of(pids: dict, name: str, thread: threading.Thread) -> int:
    """The connection id the thread reports once it has connected."""
    deadline = time.monotonic() + WAIT
    while name not in pids and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    return pids.get(name, 0)


def _waits_for_a_lock(pid: int, thread: threading.Thread) -> bool:
    """Whether the connection `pid` comes to wait for a lock while its thread still runs."""
    deadline = time.monotonic() + WAIT
    with connection.cursor() as cursor:
        while thread.is_alive() and time.monotonic() < deadline:
            cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
            row = cursor.fetchone()
            if row and row[0] == "Lock":
                return True
            time.sleep(0.02)
    return False


def _run(target, pids: dict, name: str, out: dict, *, held: threading.Event | None = None, go_on=None):
    """Run `target` in a transaction of this thread's own; with `held`, say so once it is done and
    keep the transaction open until `go_on`."""

    def body():
        try:
            _session(pids, name)
            with transaction.atomic():
                out["result"] = target()
                if held is not None:
                    held.set()
                    go_on.wait(WAIT)
        except BookingError as error:
            out["refused"] = str(error)
        except Exception as error:  # noqa: BLE001 - the test reports whatever the database said
            out["error"] = repr(error)
        finally:
            if held is not None:
                held.set()
            connection.close()

    return threading.Thread(target=body, daemon=True)


@pytest.fixture
def pair():
    if connection.vendor != "postgresql":
        service_missing("needs PostgreSQL (DATABASE_URL): SQLite has no row locks to wait on")
    sophie = factories.staff(Role.SUPERVISOR).user
    julie = factories.staff(Role.SUPERVISOR).user
    marc = factories.advisor()
    target = factories.lead()
    duplicate = factories.lead(customer_obj=target.customer, owner=marc.user)
    factories.test_drive(duplicate, marc, hour=10)  # the duplicate is appointment set, answered
    return sophie, julie, marc, target, duplicate


def _book(duplicate, marc, julie):
    return lambda: appointment_book(
        lead=Lead.objects.get(pk=duplicate.pk),
        advisor=marc,
        starts_at=factories.next_weekday_at(15),
        purpose="test_drive",
        now=timezone.now(),
        actor=julie,
    )


def test_a_booking_made_while_its_lead_is_being_merged_waits_and_is_refused_in_words(pair):
    sophie, julie, marc, target, duplicate = pair
    pids, merged, booked = {}, {}, {}
    held, go_on = threading.Event(), threading.Event()
    merger = _run(
        lambda: lead_merge(target=target, duplicate=duplicate, actor=sophie),
        pids, "merge", merged, held=held, go_on=go_on,
    )  # fmt: skip
    merger.start()
    assert held.wait(WAIT) and "result" in merged, merged
    booker = _run(_book(duplicate, marc, julie), pids, "book", booked)
    booker.start()
    try:
        assert _waits_for_a_lock(_pid_of(pids, "book", booker), booker), booked
    finally:
        go_on.set()
        merger.join(WAIT)
        booker.join(WAIT)
    assert not merger.is_alive() and not booker.is_alive()
    assert "error" not in merged and "error" not in booked, (merged, booked)
    assert booked == {"refused": f"This lead was merged into lead {target.pk}: work on that one."}
    # Nothing was left on the merged duplicate: its one appointment went to the kept lead.
    assert list(Appointment.objects.values_list("lead_id", flat=True)) == [target.pk]
    assert Lead.objects.get(pk=duplicate.pk).status == LeadStatus.LOST


def test_a_merge_made_while_a_booking_is_being_written_waits_and_takes_the_appointment_along(pair):
    sophie, julie, marc, target, duplicate = pair
    pids, merged, booked = {}, {}, {}
    held, go_on = threading.Event(), threading.Event()
    booker = _run(_book(duplicate, marc, julie), pids, "book", booked, held=held, go_on=go_on)
    booker.start()
    assert held.wait(WAIT) and "result" in booked, booked
    merger = _run(lambda: lead_merge(target=target, duplicate=duplicate, actor=sophie), pids, "merge", merged)
    merger.start()
    try:
        assert _waits_for_a_lock(_pid_of(pids, "merge", merger), merger), merged
    finally:
        go_on.set()
        booker.join(WAIT)
        merger.join(WAIT)
    assert not merger.is_alive() and not booker.is_alive()
    assert "error" not in merged and "error" not in booked, (merged, booked)
    assert "result" in merged and "result" in booked
    # Both appointments, the new one too, are the kept lead's: reminded and seen on its page.
    assert sorted(Appointment.objects.values_list("lead_id", flat=True)) == [target.pk, target.pk]


def _leads_locked_then(lead_ids: list[int], locked: threading.Event, go_on: threading.Event, change):
    """What a service changing these leads locks first (their rows, in id order), held until
    `go_on`; then the change itself, in the same transaction."""

    def target():
        list(Lead.objects.select_for_update().filter(pk__in=lead_ids).order_by("pk"))
        locked.set()
        go_on.wait(WAIT)
        return change()

    return target


def _second_waits_then_both_end(first, second, pids: dict, name: str, locked, go_on) -> None:
    """`first` holds its leads; `second` starts and comes to wait for a lock; then both go on to the end."""
    first.start()
    assert locked.wait(WAIT)
    second.start()
    try:
        assert _waits_for_a_lock(_pid_of(pids, name, second), second)
    finally:
        go_on.set()
        first.join(WAIT)
        second.join(WAIT)
    assert not first.is_alive() and not second.is_alive()


def test_an_appointment_moved_while_its_lead_is_being_closed_waits_and_is_refused_in_words(pair):
    """The customer bought elsewhere: the lead is being closed as lost (its test drive still to come
    cancelled with it) as the desk moves that test drive to another time."""
    sophie, julie, marc, target, duplicate = pair
    appointment = Appointment.objects.get(lead=duplicate)
    pids, closed, moved = {}, {}, {}
    locked, go_on = threading.Event(), threading.Event()
    close = _leads_locked_then(
        [duplicate.pk], locked, go_on,
        lambda: lead_transition(
            lead=duplicate, to_status=LeadStatus.LOST, actor=sophie, reason="Bought elsewhere"
        ),
    )  # fmt: skip
    closer = _run(close, pids, "close", closed, held=locked, go_on=go_on)
    mover = _run(
        lambda: appointment_reschedule(
            appointment=appointment, starts_at=factories.next_weekday_at(16), now=timezone.now(), actor=julie
        ),
        pids, "move", moved,
    )  # fmt: skip
    _second_waits_then_both_end(closer, mover, pids, "move", locked, go_on)
    assert "error" not in closed and "error" not in moved, (closed, moved)
    assert moved == {"refused": "A cancelled appointment cannot be moved."}
    assert closed["result"].appointments_cancelled == 1
    kept = Appointment.objects.get(pk=appointment.pk)
    assert kept.status == Appointment.Status.CANCELLED and kept.starts_at == appointment.starts_at
    assert Lead.objects.get(pk=duplicate.pk).status == LeadStatus.LOST


def test_a_no_show_recorded_while_its_lead_is_being_merged_waits_and_is_recorded_on_the_kept_lead(pair):
    sophie, julie, marc, target, duplicate = pair
    appointment = Appointment.objects.get(lead=duplicate)
    pids, merged, recorded = {}, {}, {}
    locked, go_on = threading.Event(), threading.Event()
    merge = _leads_locked_then(
        [target.pk, duplicate.pk], locked, go_on,
        lambda: lead_merge(target=target, duplicate=duplicate, actor=sophie),
    )  # fmt: skip
    merger = _run(merge, pids, "merge", merged, held=locked, go_on=go_on)
    recorder = _run(
        lambda: appointment_transition(
            appointment=appointment,
            to_status=Appointment.Status.NO_SHOW,
            now=appointment.starts_at + timedelta(hours=1),
            actor=julie,
        ),
        pids, "record", recorded,
    )  # fmt: skip
    _second_waits_then_both_end(merger, recorder, pids, "record", locked, go_on)
    assert "error" not in merged and "error" not in recorded, (merged, recorded)
    assert "result" in merged and "result" in recorded
    no_show = Appointment.objects.get(pk=appointment.pk)
    assert no_show.status == Appointment.Status.NO_SHOW and no_show.lead_id == target.pk
    # The kept lead had its appointment set from the duplicate: the no-show takes it back to contacted.
    kept = Lead.objects.get(pk=target.pk)
    assert kept.status == LeadStatus.CONTACTED
    assert kept.events.filter(type="appointment_no_show").exists()
