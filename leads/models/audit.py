from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .append_only import AppendOnlyModel
from .customers import Customer


class AuditEntry(AppendOnlyModel):
    """Who changed which record, when, and each field's value before and after."""

    model = models.CharField(_("kind of record"), max_length=60, help_text='"app_label.model"')
    object_id = models.CharField(_("record number"), max_length=40, db_index=True)
    # The customer the change concerns, for the customer's audit page (kept through merges).
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_entries",
        verbose_name=_("customer"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("done by"),
    )
    action = models.CharField(_("action"), max_length=40)
    # {field: [before, after]}
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    created_at = models.DateTimeField(_("date and time"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["model", "object_id"])]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")

    def __str__(self):
        return f"{self.action} {self.model} {self.object_id}"


class CustomerMerge(AppendOnlyModel):
    """A duplicate customer folded into another: what moved, and the survivor before and after."""

    target = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="merges_received", verbose_name=_("record kept")
    )
    duplicate = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="merges_given", verbose_name=_("duplicate")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("done by"),
    )
    # {"leads": [ids], "messages": [ids], ...}
    moved = models.JSONField(_("moved to the record kept"), default=dict)
    before = models.JSONField(_("record kept before"), default=dict)
    after = models.JSONField(_("record kept after"), default=dict)
    duplicate_snapshot = models.JSONField(_("duplicate as it was"), default=dict)
    created_at = models.DateTimeField(_("date and time"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("customer merge")
        verbose_name_plural = _("customer merges")

    def __str__(self):
        return gettext("Customer %(duplicate)s merged into %(target)s") % {
            "duplicate": self.duplicate_id,
            "target": self.target_id,
        }
