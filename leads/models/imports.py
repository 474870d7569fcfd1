from django.conf import settings
from django.db import models


class CustomerImport(models.Model):
    """A dealer-management-system export being imported: uploaded, mapped, previewed, applied."""

    filename = models.CharField(max_length=255)
    content = models.TextField(help_text="The file, decoded.")
    # {column header: customer or history field}
    mapping = models.JSONField(default=dict, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.filename
