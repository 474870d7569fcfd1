from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext, gettext_noop, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from dealership.models import Department, StaffMember, TimelineEvent
from leads.models import Customer, Language


class Channel(models.TextChoices):
    WEBSITE = "website", pgettext_lazy("channel", "Website")
    EMAIL = "email", pgettext_lazy("channel", "Email")
    SOCIAL = "social", pgettext_lazy("channel", "Social media")
    LISTING_SITES = "listing_sites", pgettext_lazy("channel", "Listing sites")
    PRINT = "print", pgettext_lazy("channel", "Print")
    RADIO_TV = "radio_tv", pgettext_lazy("channel", "Radio / TV")
    IN_STORE = "in_store", pgettext_lazy("channel", "In-store")
    MANUFACTURER = "manufacturer", pgettext_lazy("channel", "Manufacturer program")


# Channels on which the customer sees the offer on the internet: the public offers page lists them.
INTERNET_CHANNELS = {Channel.WEBSITE, Channel.EMAIL, Channel.SOCIAL, Channel.LISTING_SITES}
# Channels that send customers to the landing page: online, and by the QR code of a printed leaflet.
LANDING_CHANNELS = INTERNET_CHANNELS | {Channel.PRINT}


# Pages under /offers/ that a landing page may not shadow.
RESERVED_SLUGS = {"thanks"}


class PromotionStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("promotion status", "Draft")
    SCHEDULED = "scheduled", pgettext_lazy("promotion status", "Scheduled")
    RUNNING = "running", pgettext_lazy("promotion status", "Running")
    ENDED = "ended", pgettext_lazy("promotion status", "Ended")


class OfferKind(models.TextChoices):
    # Printed in both languages on the public offer pages and leaflets (pricing.offer_lines).
    PRICE = "price", gettext_noop("Price")
    REBATE = "rebate", gettext_noop("Rebate")
    FINANCING = "financing", gettext_noop("Financing rate")
    LEASE = "lease", gettext_noop("Lease rate")
    GIFT = "gift", gettext_noop("Gift")


class Promotion(models.Model):
    """A promotion of the store, or one of its advertising campaigns, over a period and channels."""

    name = models.CharField(max_length=150)
    starts_on = models.DateField()
    ends_on = models.DateField()
    channels = models.JSONField(default=list, help_text=_("Values of Channel."))
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="promotions")
    is_advertising = models.BooleanField(
        _("advertising campaign"),
        default=False,
        help_text=_("An advertising campaign recorded for the calendar, not an offer."),
    )
    vehicles = models.ManyToManyField(
        "inventory.Vehicle", blank=True, related_name="promotions", help_text=_("Specific stock vehicles.")
    )
    service_offers = models.TextField(blank=True, help_text=_("Service offers covered, one a line."))
    offer_kind = models.CharField(max_length=20, choices=OfferKind.choices, blank=True)
    advertised_price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    # {"freight_pdi": {"amount": "2100.00", "included": true}, ...}: every fee beside the price.
    fees = models.JSONField(default=dict, blank=True)
    rate = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True, help_text=_("Financing or lease rate, in %.")
    )
    offer_description = models.TextField(blank=True)
    budget = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    landing_slug = models.SlugField(_("landing page address"), max_length=80, unique=True)
    tracking_code = models.CharField(max_length=6, unique=True, editable=False)
    status = models.CharField(max_length=20, choices=PromotionStatus.choices, default=PromotionStatus.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_on", "name"]
        verbose_name = _("promotion")
        verbose_name_plural = _("promotions")
        indexes = [models.Index(fields=["starts_on", "ends_on"]), models.Index(fields=["status"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="promotion_period"
            )
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": gettext("The promotion cannot end before it starts.")})
        # Amounts and a rate the public pages and the results read as they are: none is below zero.
        if negative := [
            name for name in ("budget", "advertised_price", "rate") if (getattr(self, name) or 0) < 0
        ]:
            raise ValidationError(dict.fromkeys(negative, gettext("This cannot be negative.")))
        if self.landing_slug in RESERVED_SLUGS:
            raise ValidationError(
                {
                    "landing_slug": gettext("“%(slug)s” is taken by a page of the site.")
                    % {"slug": self.landing_slug}
                }
            )
        unknown = set(self.channels or []) - set(Channel.values)
        if unknown:
            raise ValidationError(
                {
                    "channels": gettext("Unknown channels: %(channels)s.")
                    % {"channels": ", ".join(sorted(unknown))}
                }
            )

    @property
    def is_internet(self) -> bool:
        return bool(INTERNET_CHANNELS & set(self.channels or []))

    @property
    def has_landing_page(self) -> bool:
        return bool(LANDING_CHANNELS & set(self.channels or []))

    def get_channels_display(self) -> str:
        return ", ".join(
            str(Channel(value).label) for value in self.channels or [] if value in Channel.values
        )


class PromotionModel(models.Model):
    """A make/model (optionally a model year) that a promotion covers; a blank model covers the make."""

    promotion = models.ForeignKey(Promotion, on_delete=models.CASCADE, related_name="models")
    make = models.CharField(max_length=60)
    model = models.CharField(max_length=60, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["make", "model", "year"]
        verbose_name = _("model covered")
        verbose_name_plural = _("models covered")

    def __str__(self):
        return " ".join(str(part) for part in (self.year, self.make, self.model) if part)


class PromotionEvent(TimelineEvent):
    """One entry of a promotion's timeline: who did what, when, with its parameters."""

    promotion = models.ForeignKey(
        Promotion, on_delete=models.CASCADE, related_name="events", verbose_name=_("promotion")
    )

    class Meta(TimelineEvent.Meta):
        verbose_name = _("promotion timeline entry")
        verbose_name_plural = _("promotion timeline entries")

    def __str__(self):
        return f"{self.type} on promotion {self.promotion_id}"


class SourceVisit(models.Model):
    """Visits of the public pages per day and source code (`?src=`), so print is counted."""

    day = models.DateField()
    src = models.CharField(_("source code"), max_length=80)
    promotion = models.ForeignKey(Promotion, null=True, blank=True, on_delete=models.CASCADE)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("visits of a day from a source")
        verbose_name_plural = _("visits by day and source")
        constraints = [
            models.UniqueConstraint(fields=["day", "src", "promotion"], name="source_visit_per_day"),
            models.UniqueConstraint(
                fields=["day", "src"], condition=models.Q(promotion=None), name="source_visit_per_day_general"
            ),
        ]

    def __str__(self):
        return f"{self.src} on {self.day}: {self.count}"


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("campaign status", "Draft")
    SENDING = "sending", pgettext_lazy("campaign status", "Sending")
    PAUSED = "paused", pgettext_lazy("campaign status", "Paused")
    DONE = "done", pgettext_lazy("campaign status", "Done")


class Campaign(models.Model):
    """An email campaign of a promotion to a chosen audience, in the customer's language."""

    promotion = models.ForeignKey(Promotion, on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(max_length=150)
    send_on = models.DateField(help_text=_("The day it goes out; campaigns of the same week are compared."))
    subject_en = models.CharField(_("subject in English"), max_length=200)
    body_en = models.TextField(
        _("message in English"), help_text=_("{first_name} is replaced by the customer's first name.")
    )
    subject_fr = models.CharField(_("subject in French"), max_length=200)
    body_fr = models.TextField(
        _("message in French"), help_text=_("{first_name} est remplacé par le prénom du client.")
    )
    # Audience filters: {"make": ..., "model": ..., "language": ..., "lease_ending_within_days": ...}
    audience = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-send_on", "-pk"]
        verbose_name = _("email campaign")
        verbose_name_plural = _("email campaigns")
        permissions = [("send_campaign", "Can send promotion email campaigns to customers")]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {
            name: gettext("A subject is one line.")
            for name in ("subject_en", "subject_fr")
            if "\n" in getattr(self, name) or "\r" in getattr(self, name)
        }
        promotion = self.promotion if self.promotion_id else None
        if promotion and self.send_on and not promotion.starts_on <= self.send_on <= promotion.ends_on:
            errors["send_on"] = gettext(
                "The campaign goes out while its promotion runs: from %(start)s to %(end)s."
            ) % {
                "start": promotion.starts_on,
                "end": promotion.ends_on,
            }
        if errors:
            raise ValidationError(errors)


class RecipientStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("recipient status", "Queued")
    SENDING = "sending", pgettext_lazy("recipient status", "Sending")
    SENT = "sent", pgettext_lazy("recipient status", "Sent")
    SKIPPED = "skipped", pgettext_lazy("recipient status", "Skipped")
    FAILED = "failed", pgettext_lazy("recipient status", "Failed")


class CampaignRecipient(models.Model):
    """One customer of a campaign: claimed, sent and recorded once, whatever happens to the workers."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="campaign_receipts")
    email = models.EmailField()
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.ENGLISH)
    status = models.CharField(max_length=20, choices=RecipientStatus.choices, default=RecipientStatus.QUEUED)
    reason = models.CharField(max_length=300, blank=True, help_text=_("Why it was skipped or failed."))
    message_id = models.CharField(max_length=200, blank=True, db_index=True)
    # When a batch took the row; the newest one paces the store's campaigns (one batch at a time).
    claimed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("campaign recipient")
        verbose_name_plural = _("campaign recipients")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "customer"], name="campaign_recipient_once"),
        ]
        indexes = [models.Index(fields=["campaign", "status"])]

    def __str__(self):
        return f"{self.email} ({self.status})"


class InfoShare(models.Model):
    """A piece of information (a competitor's offer, a new model, a promotion) sent to colleagues."""

    subject = models.CharField(max_length=200)
    text = models.TextField()
    # A manufacturer's offer page with its tracking parameters easily passes 200 characters.
    link = models.URLField(max_length=2000, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="info_shares"
    )
    staff = models.ManyToManyField(StaffMember, blank=True, related_name="info_shares")
    departments = models.ManyToManyField(Department, blank=True, related_name="info_shares")
    delivered_to = models.JSONField(default=list, blank=True, help_text=_("Addresses it was sent to."))
    refused = models.JSONField(
        default=dict, blank=True, help_text=_("Addresses the mail server refused for good, with its answer.")
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("shared information")
        verbose_name_plural = _("shared information")

    def __str__(self):
        return self.subject
