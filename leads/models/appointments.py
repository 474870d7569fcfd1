"""Appointments with sales advisors, the advisors' working hours, and what came of each visit."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from dealership.models import StaffMember, TimelineEvent

from .leads import Lead, LeadVehicle


class WorkingHours(models.Model):
    """When an advisor takes appointments on one day of the week (store time)."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, pgettext_lazy("weekday", "Monday")
        TUESDAY = 1, pgettext_lazy("weekday", "Tuesday")
        WEDNESDAY = 2, pgettext_lazy("weekday", "Wednesday")
        THURSDAY = 3, pgettext_lazy("weekday", "Thursday")
        FRIDAY = 4, pgettext_lazy("weekday", "Friday")
        SATURDAY = 5, pgettext_lazy("weekday", "Saturday")
        SUNDAY = 6, pgettext_lazy("weekday", "Sunday")

    advisor = models.ForeignKey(
        StaffMember, on_delete=models.CASCADE, related_name="working_hours", verbose_name=_("advisor")
    )
    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices)
    start = models.TimeField(_("start"))
    end = models.TimeField(_("end"))

    class Meta:
        ordering = ["advisor", "weekday", "start"]
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        constraints = [
            models.UniqueConstraint(fields=["advisor", "weekday"], name="working_hours_one_per_day"),
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="working_hours_end_after_start"
            ),
        ]

    def __str__(self):
        return f"{self.advisor} {self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"


class Appointment(models.Model):
    class Purpose(models.TextChoices):
        TEST_DRIVE = "test_drive", _("Test drive")
        PURCHASE = "purchase", _("Purchase discussion")
        APPRAISAL = "appraisal", _("Trade-in appraisal")
        DELIVERY = "delivery", _("Delivery")

    class Status(models.TextChoices):
        BOOKED = "booked", pgettext_lazy("appointment status", "Booked")
        SHOWN = "shown", pgettext_lazy("appointment status", "Shown")
        NO_SHOW = "no_show", pgettext_lazy("appointment status", "No-show")
        SOLD = "sold", pgettext_lazy("appointment status", "Sold")
        CANCELLED = "cancelled", pgettext_lazy("appointment status", "Cancelled")

    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="appointments", verbose_name=_("lead")
    )
    advisor = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, related_name="appointments", verbose_name=_("advisor")
    )
    starts_at = models.DateTimeField(_("starts"), db_index=True)
    ends_at = models.DateTimeField(_("ends"))
    purpose = models.CharField(
        _("purpose"), max_length=20, choices=Purpose.choices, default=Purpose.TEST_DRIVE
    )
    lead_vehicle = models.ForeignKey(
        LeadVehicle, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("vehicle of interest")
    )
    vehicle_text = models.CharField(_("other vehicle"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.BOOKED)
    # The calendar invitation: one UID for the appointment's whole life, SEQUENCE up on every change.
    uid = models.UUIDField(_("invitation UID"), default=uuid.uuid4, unique=True, editable=False)
    sequence = models.PositiveIntegerField(_("invitation version"), default=0)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("booked by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="appointment_ends_after_start"
            ),
        ]
        indexes = [models.Index(fields=["advisor", "starts_at"])]

    def __str__(self):
        return _("%(purpose)s with %(advisor)s at %(time)s") % {
            "purpose": self.get_purpose_display(),
            "advisor": self.advisor,
            "time": f"{timezone.localtime(self.starts_at):%Y-%m-%d %H:%M}",  # the store's time
        }

    @property
    def vehicle(self) -> str:
        return self.vehicle_text or (str(self.lead_vehicle) if self.lead_vehicle else "")


# Appointments that hold their advisor's time; a cancelled or missed one frees it.
BLOCKING_STATUSES = (Appointment.Status.BOOKED, Appointment.Status.SHOWN, Appointment.Status.SOLD)


class AppointmentEvent(TimelineEvent):
    """One entry of an appointment's history: booked, rescheduled, shown, ... (feeds the dashboard)."""

    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, related_name="events", verbose_name=_("appointment")
    )

    class Meta(TimelineEvent.Meta):
        verbose_name = _("appointment timeline entry")
        verbose_name_plural = _("appointment timeline entries")

    def __str__(self):
        return _("%(event)s on appointment %(number)s") % {"event": self.type, "number": self.appointment_id}


class AppointmentNotice(models.Model):
    """One email about an appointment (invitation, cancellation, reminder) for one version of it.

    Unique per (appointment, kind, sequence, recipient): claimed under a row lock, queued → sending → sent;
    one found still "sending" is not sent again.
    """

    class Kind(models.TextChoices):
        INVITATION = "invitation", "Invitation"
        CANCELLATION = "cancellation", "Cancellation"
        REMINDER = "reminder", "Reminder"

    class Recipient(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        ADVISOR = "advisor", "Advisor"

    class Status(models.TextChoices):
        SENDING = "sending", pgettext_lazy("appointment status", "Sending")
        SENT = "sent", pgettext_lazy("appointment status", "Sent")
        NEEDS_REVIEW = "needs_review", pgettext_lazy("appointment status", "Needs review")
        SKIPPED = "skipped", pgettext_lazy("appointment status", "Skipped (no address)")

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    sequence = models.PositiveIntegerField()
    recipient = models.CharField(max_length=10, choices=Recipient.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SENDING)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("appointment email")
        verbose_name_plural = _("appointment emails")
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "kind", "sequence", "recipient"], name="appointment_notice_once"
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.sequence} to {self.recipient} for {self.appointment_id}"
