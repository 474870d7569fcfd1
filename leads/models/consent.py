from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .append_only import AppendOnlyModel
from .customers import Customer


class ConsentChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    TEXT = "text", _("Text message")
    PHONE = "phone", _("Phone call")


class ConsentBasis(models.TextChoices):
    EXPRESS = "express", _("Express consent")
    IMPLIED_PURCHASE = "implied_purchase", _("Implied: purchase or lease (two years)")
    IMPLIED_INQUIRY = "implied_inquiry", _("Implied: inquiry (six months)")
    BUSINESS_RELATIONSHIP = "business_relationship", _("Implied: written contract (two years after it ends)")


class ConsentAction(models.TextChoices):
    GRANT = "grant", _("Consent given")
    WITHDRAW = "withdraw", _("Withdrawn (unsubscribe)")
    # The purchase or lease an implied consent came from did not happen after all (the deal fell
    # through): that consent ends, nothing else does.
    END = "end", _("Ended (the purchase did not happen)")


class ConsentRecord(AppendOnlyModel):
    """One row of a customer's consent ledger for one channel. Never edited, never deleted:
    a withdrawal is a new row, so is the end of a purchase's consent (on its basis, the purchase's
    moment in `evidence["purchase_at"]`), and a merge copies rows onto the surviving record."""

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="consent_records", verbose_name=_("customer")
    )
    channel = models.CharField(_("channel"), max_length=10, choices=ConsentChannel.choices)
    action = models.CharField(_("action"), max_length=10, choices=ConsentAction.choices)
    basis = models.CharField(_("basis"), max_length=30, choices=ConsentBasis.choices, blank=True)
    # When the consent was given or withdrawn (the purchase date, the inquiry, the form submission).
    given_at = models.DateTimeField(_("given or withdrawn"), db_index=True)
    # Computed from basis and given_at when recorded; null means it lasts until withdrawn.
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    source = models.CharField(
        _("source"), max_length=200, help_text=_("Where: web form, showroom, lead provider, link…")
    )
    wording = models.TextField(_("wording"), blank=True, help_text=_("The words the customer saw or heard."))
    # Proof of express consent.
    proof_form = models.CharField(_("form (proof)"), max_length=200, blank=True)
    proof_ip = models.GenericIPAddressField(_("IP address (proof)"), null=True, blank=True)
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    copied_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="copies",
        verbose_name=_("copied from"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        ordering = ["given_at", "pk"]
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        indexes = [models.Index(fields=["customer", "channel", "given_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(action="withdraw", basis="")
                | (models.Q(action__in=["grant", "end"]) & ~models.Q(basis="")),
                name="consent_grant_has_basis_withdrawal_none",
            )
        ]

    def __str__(self):
        return gettext("%(action)s (%(channel)s) for customer %(number)s") % {
            "action": self.get_action_display(),
            "channel": self.get_channel_display(),
            "number": self.customer_id,
        }
