from django.conf import settings
from django.db import models

from .append_only import AppendOnlyModel
from .customers import Customer


class AuditEntry(AppendOnlyModel):
    """Who changed which record, when, and each field's value before and after."""

    model = models.CharField(max_length=60, help_text='"app_label.model"')
    object_id = models.CharField(max_length=40, db_index=True)
    # The customer the change concerns, for the customer's audit page (kept through merges).
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="audit_entries"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=40)
    # {field: [before, after]}
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["model", "object_id"])]
        verbose_name_plural = "audit entries"

    def __str__(self):
        return f"{self.action} {self.model} {self.object_id}"


class CustomerMerge(AppendOnlyModel):
    """A duplicate customer folded into another: what moved, and the survivor before and after."""

    target = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="merges_received")
    duplicate = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="merges_given")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # {"leads": [ids], "messages": [ids], ...}
    moved = models.JSONField(default=dict)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    duplicate_snapshot = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"Customer {self.duplicate_id} merged into {self.target_id}"
