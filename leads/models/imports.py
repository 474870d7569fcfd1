from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerImport(models.Model):
    """A dealer-management-system export being imported: uploaded, mapped, previewed, applied.
    Previews and imports run in a worker (large exports take minutes); `state` says where it is."""

    class State(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        PREVIEWING = "previewing", _("Previewing")
        PREVIEWED = "previewed", _("Previewed")
        APPLYING = "applying", _("Importing")
        APPLIED = "applied", _("Imported")
        REJECTED = "rejected", _("Refused: bad rows")

    filename = models.CharField(max_length=255)
    content = models.TextField(help_text=_("The file, decoded."))
    # {column header: customer or history field}
    mapping = models.JSONField(default=dict, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.UPLOADED)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    # Who asked for the current preview or import (the actor in the audit trail).
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("customer import")
        verbose_name_plural = _("customer imports")

    def __str__(self):
        return self.filename
