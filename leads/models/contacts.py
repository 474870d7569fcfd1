from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .customers import Customer


class Household(models.Model):
    """People who share a home or a company account: linked, never merged."""

    class Kind(models.TextChoices):
        HOUSEHOLD = "household", _("Household")
        COMPANY = "company", _("Company")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.HOUSEHOLD)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("household or company")
        verbose_name_plural = _("households and companies")

    def __str__(self):
        return f"{self.name} ({self.get_kind_display().lower()})"


class CustomerEmail(models.Model):
    """An address of a customer besides the primary one on Customer; stored lower-case."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="extra_emails")
    email = models.EmailField(db_index=True)
    label = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("other email address of a customer")
        verbose_name_plural = _("other email addresses of customers")
        constraints = [
            models.UniqueConstraint(fields=["customer", "email"], name="customer_email_once_per_customer")
        ]

    def __str__(self):
        return self.email


class CustomerPhone(models.Model):
    """A phone number of a customer besides the primary one; stored in E.164 form."""

    class Kind(models.TextChoices):
        MOBILE = "mobile", _("Mobile")
        HOME = "home", pgettext_lazy("phone type", "Home")  # "Domicile", not Django's "Accueil"
        WORK = "work", _("Work")
        OTHER = "other", _("Other")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="extra_phones")
    phone = models.CharField(max_length=20, db_index=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.MOBILE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("other phone number of a customer")
        verbose_name_plural = _("other phone numbers of customers")
        constraints = [
            models.UniqueConstraint(fields=["customer", "phone"], name="customer_phone_once_per_customer")
        ]

    def __str__(self):
        return f"{self.phone} ({self.get_kind_display().lower()})"
