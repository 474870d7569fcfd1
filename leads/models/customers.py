from django.db import models
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from ..normalize import phone_display


class Language(models.TextChoices):
    ENGLISH = "en", _("English")
    FRENCH = "fr", _("Français")


class PreferredChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    TEXT = "text", _("Text message")
    IN_PERSON = "in_person", _("In person")


def _full_name(first_name: str, last_name: str) -> str:
    return " ".join(part for part in (first_name, last_name) if part)


def customer_label(*, first_name: str, last_name: str, email: str, phone: str, pk) -> str:
    """How staff pages name a customer: their name, else their email, else their phone as the lead
    page shows it."""
    return (
        _full_name(first_name, last_name)
        or email
        or phone_display(phone)
        or gettext("Customer %(number)s") % {"number": pk}
    )


class Customer(models.Model):
    """One person, shared by every department of the store."""

    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    # Stored normalised (lower-case email, E.164 phone) so matching is an equality test.
    email = models.EmailField(_("email"), blank=True, db_index=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, db_index=True)
    preferred_channel = models.CharField(
        _("preferred channel"),
        max_length=20,
        choices=PreferredChannel.choices,
        default=PreferredChannel.EMAIL,
    )
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.ENGLISH
    )
    street = models.CharField(_("street"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    province = models.CharField(_("province"), max_length=50, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # One record shared by the whole store: a household or company it belongs to, and, once merged
    # into another record, a tombstone pointing at the record that now holds its history.
    household = models.ForeignKey(
        "leads.Household",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
        verbose_name=_("household or company"),
    )
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_duplicates",
        verbose_name=pgettext_lazy("customer", "merged into"),
    )
    merged_at = models.DateTimeField(pgettext_lazy("customer", "merged"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)
    # Set by a hard bounce: mail to this address cannot be delivered.
    email_undeliverable = models.BooleanField(_("email undeliverable"), default=False)
    email_undeliverable_reason = models.CharField(
        _("why the email is undeliverable"), max_length=300, blank=True
    )

    class Meta:
        ordering = ["last_name", "first_name"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self):
        return customer_label(
            first_name=self.first_name,
            last_name=self.last_name,
            email=self.email,
            phone=self.phone,
            pk=self.pk,
        )

    @property
    def full_name(self) -> str:
        return _full_name(self.first_name, self.last_name)
