import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from dealership.storage import private_storage

from .customers import Customer
from .leads import Lead


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone call")
    TEXT = "text", _("Text message")
    VISIT = "visit", _("Visit")
    NOTE = "note", _("Note")


class Direction(models.TextChoices):
    INBOUND = "in", _("From the customer")
    OUTBOUND = "out", _("To the customer")
    INTERNAL = "internal", _("Internal")


class Message(models.Model):
    """One entry of a conversation with a customer: an email either way, a call, a text, a visit, a note."""

    class SendStatus(models.TextChoices):
        NOT_APPLICABLE = "", "—"
        QUEUED = "queued", pgettext_lazy("send status", "Queued")
        SENDING = "sending", pgettext_lazy("send status", "Sending")
        SENT = "sent", pgettext_lazy("send status", "Sent")
        FAILED = "failed", pgettext_lazy("send status", "Failed")

    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="messages")
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    from_address = models.CharField(max_length=320, blank=True)
    to_addresses = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    body_text = models.TextField(blank=True)
    # Already sanitised when stored (nh3); safe to mark safe in templates.
    body_html = models.TextField(blank=True)
    # What the customer just wrote, without the quoted earlier mail.
    new_text = models.TextField(blank=True)
    message_id = models.CharField(max_length=998, blank=True, db_index=True)
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = models.TextField(blank=True)
    send_status = models.CharField(max_length=10, choices=SendStatus.choices, blank=True, default="")
    send_error = models.TextField(blank=True)
    # When it happened: received, sent, or the call/visit time.
    occurred_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "pk"]
        verbose_name = _("conversation message")
        verbose_name_plural = _("conversation messages")
        indexes = [models.Index(fields=["lead", "occurred_at"])]

    def __str__(self):
        return (
            f"{self.get_channel_display()} {self.get_direction_display().lower()}: {self.subject or self.pk}"
        )

    @property
    def holds_more_than_new_text(self) -> bool:
        """A customer's mail with more than what they just wrote: the earlier mail quoted, a signature."""
        return (
            self.direction == Direction.INBOUND
            and bool(self.new_text.strip())
            and self.new_text.strip() != self.body_text.strip()
        )


def attachment_upload_to(instance, filename: str) -> str:
    """A name that cannot be guessed; the sender's filename is kept in Attachment.filename."""
    return f"attachments/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=255, help_text=_("Made safe: no path, no control characters."))
    content_type = models.CharField(max_length=255)
    content_id = models.CharField(max_length=255, blank=True, help_text=_("For inline cid: images."))
    size = models.PositiveIntegerField()
    # Customers' files: reached only through the download view, which checks the lead.
    file = models.FileField(upload_to=attachment_upload_to, storage=private_storage)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self):
        return self.filename

    @property
    def kept(self) -> bool:
        """False for a file over MAIL_ATTACHMENT_MAX_BYTES: named here, its content only in the original message."""
        return bool(self.file)
