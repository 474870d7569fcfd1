import re

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from dealership.models import Department


class MailKind(models.TextChoices):
    LEAD = "lead", _("New lead")
    REPLY = "reply", _("Reply on a lead")
    FORWARD = "forward", _("Forward to a department")
    AUTO_REPLY = "auto_reply", _("Automatic reply (ignored)")
    BOUNCE = "bounce", _("Bounce (delivery failure)")


def keywords(value: str) -> list[str]:
    """The keywords of a condition: one per line or separated by commas, case-insensitive."""
    return [word.strip().lower() for word in re.split(r"[,\n]", value or "") if word.strip()]


class RoutingRule(models.Model):
    """A supervisor's rule for inbound mail: when every filled condition matches, the outcome applies.

    Rules are tried in `order` before the built-in signals; each condition matches when any of its
    keywords appears (case-insensitive)."""

    name = models.CharField(max_length=100)
    active = models.BooleanField(default=True)
    order = models.PositiveIntegerField(default=100, help_text=_("Lower numbers are tried first."))
    sender_contains = models.CharField(
        max_length=500, blank=True, help_text=_("Sender address or name contains any of (comma-separated).")
    )
    sender_regex = models.CharField(
        _("sender pattern"),
        max_length=500,
        blank=True,
        help_text=_("Sender address matches this regular expression."),
    )
    recipient_contains = models.CharField(
        max_length=500, blank=True, help_text=_("Any recipient address contains any of (comma-separated).")
    )
    subject_contains = models.CharField(
        max_length=1000, blank=True, help_text=_("Subject contains any of (comma-separated).")
    )
    text_contains = models.TextField(
        blank=True, help_text=_("Subject or body contains any of (one per line or comma-separated).")
    )
    kind = models.CharField(max_length=20, choices=MailKind.choices, default=MailKind.LEAD)
    department = models.CharField(
        max_length=20,
        choices=Department.Code.choices,
        blank=True,
        help_text=_("Left empty: found from the mail's words (sales for leads)."),
    )
    acknowledge = models.BooleanField(
        default=False, help_text=_("Send new leads an immediate acknowledgement.")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("mail rule")
        verbose_name_plural = _("mail rules")

    def __str__(self):
        return self.name

    CONDITION_FIELDS = (
        "sender_contains",
        "sender_regex",
        "recipient_contains",
        "subject_contains",
        "text_contains",
    )

    def clean(self):
        errors = {}
        if not any(getattr(self, name).strip() for name in self.CONDITION_FIELDS):
            errors["__all__"] = gettext("Give at least one condition, or the rule would catch every message.")
        if self.sender_regex:
            try:
                re.compile(self.sender_regex)
            except re.error as error:
                errors["sender_regex"] = gettext("Not a valid regular expression: %(error)s.") % {
                    "error": error
                }
        if self.kind in (MailKind.AUTO_REPLY, MailKind.BOUNCE) and self.department:
            errors["department"] = gettext("Automatic replies and bounces go to no department.")
        if errors:
            raise ValidationError(errors)
