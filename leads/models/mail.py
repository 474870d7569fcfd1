"""Mail in: the mailboxes polled, every raw message received, and what each one became."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from dealership.models import Department

from .customers import Customer
from .leads import Lead
from .messages import Message


class Mailbox(models.Model):
    """One configured mailbox (a MAILBOX_URL entry) and how far it has been read."""

    # The URL without its password: stable across restarts, safe to show.
    name = models.CharField(max_length=500, unique=True)
    uidvalidity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0, help_text=_("Every message up to this UID is stored."))
    # One poller at a time: a lease renewed while polling, so a crashed poller's lease runs out.
    lock_token = models.CharField(max_length=32, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")

    def __str__(self):
        return self.name


class InboundStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be processed")
    PROCESSED = "processed", pgettext_lazy("inbound mail status", "Processed")
    QUARANTINED = "quarantined", pgettext_lazy("inbound mail status", "Quarantined")
    IGNORED = "ignored", pgettext_lazy("inbound mail status", "Ignored")


class InboundOutcome(models.TextChoices):
    NEW_LEAD = "new_lead", _("New lead")
    JOINED_LEAD = "joined_lead", _("Added to an open lead")
    REPLY = "reply", _("Reply on a lead")
    FORWARDED = "forwarded", _("Forwarded to a department")
    AUTO_REPLY = "auto_reply", _("Automatic reply (not answered)")
    BOUNCE = "bounce", _("Bounce (not answered)")
    UNSUBSCRIBED = "unsubscribed", _("Asked for no more mail (no lead)")


class InboundMail(models.Model):
    """One message exactly as the mailbox held it, kept for good, and the decision taken on it."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.PROTECT, related_name="messages")
    uidvalidity = models.BigIntegerField(null=True, blank=True)
    uid = models.BigIntegerField(null=True, blank=True)
    message_id = models.CharField(max_length=998, blank=True)
    # Message-ID, or the content hash when there is none or when another message already has that
    # Message-ID with other content: the same message is stored once.
    dedup_key = models.CharField(max_length=255)
    content_hash = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    raw = models.BinaryField()
    # False when the message was too large: only its header is kept, the body stays on the server.
    raw_complete = models.BooleanField(default=True)
    from_address = models.CharField(max_length=320, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)

    status = models.CharField(max_length=12, choices=InboundStatus.choices, default=InboundStatus.PENDING)
    tries = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    queued_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When it was routed or quarantined.")
    )

    # The decision: what triage said and which rule said it.
    kind = models.CharField(max_length=20, blank=True)
    department = models.CharField(max_length=20, blank=True)
    language = models.CharField(max_length=2, blank=True)
    rule = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=20, choices=InboundOutcome.choices, blank=True)

    # What it became.
    lead = models.ForeignKey(
        Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_mail"
    )
    conversation_message = models.OneToOneField(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_mail"
    )

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("mail received")
        verbose_name_plural = _("mail received")
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "uidvalidity", "uid"], name="inbound_mail_unique_uid"),
            models.UniqueConstraint(fields=["dedup_key"], name="inbound_mail_unique_message"),
        ]
        indexes = [
            models.Index(fields=["status", "queued_at"]),
            # A message known by its content is looked up by its very bytes too (inbound_store).
            models.Index(fields=["content_hash"], name="inbound_mail_content_hash"),
        ]

    def __str__(self):
        return self.subject or self.message_id or f"Inbound mail {self.pk}"


class ForwardedMail(models.Model):
    """Mail for a department, sent on to its address with the original attached."""

    inbound = models.OneToOneField(InboundMail, on_delete=models.PROTECT, related_name="forward")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="forwarded_mail")
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="forwarded_mail"
    )
    to_address = models.EmailField()
    from_address = models.CharField(max_length=320, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    message_id = models.CharField(max_length=998)
    send_status = models.CharField(
        max_length=10, choices=Message.SendStatus.choices, default=Message.SendStatus.QUEUED
    )
    send_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("forwarded mail")
        verbose_name_plural = _("forwarded mail")

    def __str__(self):
        return f"{self.subject} → {self.to_address}"
