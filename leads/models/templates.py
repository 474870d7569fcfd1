from django.db import models
from django.utils.translation import gettext_lazy as _

from .customers import Language
from .leads import InquiryType


class ReplyTemplate(models.Model):
    """A ready answer to one kind of inquiry, in one language, with {{ merge_fields }}."""

    name = models.CharField(max_length=100)
    inquiry_type = models.CharField(max_length=20, choices=InquiryType.choices, default=InquiryType.GENERAL)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.ENGLISH)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["inquiry_type", "language", "name"]
        verbose_name = _("reply template")
        verbose_name_plural = _("reply templates")
        constraints = [
            models.UniqueConstraint(fields=["name", "language"], name="reply_template_name_language_unique")
        ]

    def __str__(self):
        return f"{self.name} ({self.get_language_display()})"
