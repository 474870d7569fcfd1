from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dealership.models import Department

from .customers import Customer


class LoyaltyKind(models.TextChoices):
    PURCHASE_ANNIVERSARY = "purchase_anniversary", _("Purchase anniversary")
    TERM_ENDING = "term_ending", _("Lease or finance term ending")
    WARRANTY_ENDING = "warranty_ending", _("Warranty ending")
    HIGH_MILEAGE = "high_mileage", _("High-mileage service customer")
    LOST_LEAD_REVIVAL = "lost_lead_revival", _("Lost lead worth reviving")


class LoyaltyRule(models.Model):
    """One kind of loyalty moment, switched on or off by the supervisor."""

    kind = models.CharField(max_length=30, choices=LoyaltyKind.choices, unique=True)
    enabled = models.BooleanField(default=True)
    # How many days ahead (anniversary, term and warranty end) or after (lost lead) the task appears.
    days = models.PositiveSmallIntegerField()
    mileage_km = models.PositiveIntegerField(default=0, help_text="High mileage from this odometer reading.")
    department = models.CharField(max_length=20, choices=Department.Code.choices)

    class Meta:
        ordering = ["kind"]

    def __str__(self):
        return self.get_kind_display()


class Task(models.Model):
    """Something a person at the store should do for a customer, by a date."""

    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="tasks")
    kind = models.CharField(max_length=30, choices=LoyaltyKind.choices)
    title = models.CharField(max_length=300)
    due_on = models.DateField(db_index=True)
    # Identifies the moment ("anniversary:12:2027"), so the same moment never makes two tasks.
    moment_key = models.CharField(max_length=120)
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["done_at", "due_on", "pk"]
        constraints = [models.UniqueConstraint(fields=["kind", "moment_key"], name="task_once_per_moment")]

    def __str__(self):
        return self.title
