from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dealership.models import Department

from .customers import Customer


class HistoryKind(models.TextChoices):
    INQUIRY = "inquiry", _("Inquiry")
    PURCHASE = "purchase", _("Purchase")
    LEASE = "lease", _("Lease")
    SERVICE_VISIT = "service_visit", _("Service visit")
    PARTS_ORDER = "parts_order", _("Parts order")
    BODY_SHOP_JOB = "body_shop_job", _("Body-shop job")
    FORWARDED_MAIL = "forwarded_mail", _("Forwarded mail")
    MAIL_WITHHELD = "mail_withheld", _("Mail not sent")
    NOTE = "note", _("Note")


class DealType(models.TextChoices):
    CASH = "cash", _("Cash")
    FINANCE = "finance", _("Financing")
    LEASE = "lease", _("Lease")


class CustomerHistoryItem(models.Model):
    """One thing that happened with a customer in any department, for the shared timeline.

    Anything may use it (imports, mail forwarding, the sender); the optional vehicle and deal
    fields are the ones loyalty rules look at, everything else goes in `details`.
    """

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="history_items", verbose_name=_("customer")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=HistoryKind.choices)
    department = models.CharField(_("department"), max_length=20, choices=Department.Code.choices, blank=True)
    occurred_at = models.DateTimeField(_("date"), db_index=True)
    summary = models.CharField(_("summary"), max_length=300)
    details = models.JSONField(_("details"), default=dict, blank=True)
    vehicle = models.CharField(_("vehicle"), max_length=120, blank=True)
    vin = models.CharField(_("VIN"), max_length=17, blank=True, db_index=True)
    price = models.DecimalField(_("price"), max_digits=10, decimal_places=2, null=True, blank=True)
    deal_type = models.CharField(_("deal type"), max_length=10, choices=DealType.choices, blank=True)
    term_months = models.PositiveSmallIntegerField(_("term (months)"), null=True, blank=True)
    term_ends_on = models.DateField(_("term ends"), null=True, blank=True)
    warranty_ends_on = models.DateField(_("warranty ends"), null=True, blank=True)
    odometer_km = models.PositiveIntegerField(_("odometer (km)"), null=True, blank=True)
    # Where it came from ("dms-import", "mail", ...) and its id there, so a re-import adds nothing.
    # An id is one kind's: a DMS numbers deals and repair orders apart, and the two collide.
    source = models.CharField(_("source"), max_length=40, blank=True)
    external_ref = models.CharField(_("reference in the source"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("added by")
    )
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        verbose_name = _("customer history item")
        verbose_name_plural = _("customer history items")
        indexes = [models.Index(fields=["customer", "-occurred_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "kind", "external_ref"],
                condition=~models.Q(external_ref=""),
                name="history_item_external_ref_once_per_kind",
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.summary}"
