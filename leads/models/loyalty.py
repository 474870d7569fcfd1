from datetime import date

from django.conf import settings
from django.db import models
from django.utils import formats, translation
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from dealership.models import Department

from .customers import Customer
from .leads import Lead


class LoyaltyKind(models.TextChoices):
    PURCHASE_ANNIVERSARY = "purchase_anniversary", _("Purchase anniversary")
    TERM_ENDING = "term_ending", _("Lease or finance term ending")
    WARRANTY_ENDING = "warranty_ending", _("Warranty ending")
    HIGH_MILEAGE = "high_mileage", _("High-mileage service customer")
    LOST_LEAD_REVIVAL = "lost_lead_revival", _("Lost lead worth reviving")


# A task is a loyalty moment the daily run found, or a next step someone promised when logging a
# contact on a lead: no rule makes those; the daily run only gives one left with nobody a holder.
NEXT_STEP = "next_step"
TASK_KINDS = [*LoyaltyKind.choices, (NEXT_STEP, _("Next step"))]


class LoyaltyRule(models.Model):
    """One kind of loyalty moment, switched on or off by the supervisor."""

    kind = models.CharField(_("kind"), max_length=30, choices=LoyaltyKind.choices, unique=True)
    enabled = models.BooleanField(_("switched on"), default=True)
    # How many days ahead (anniversary, term and warranty end) or after (lost lead) the task appears.
    days = models.PositiveSmallIntegerField(_("days"))
    mileage_km = models.PositiveIntegerField(
        _("mileage (km)"), default=0, help_text=_("High mileage from this odometer reading.")
    )
    department = models.CharField(_("department"), max_length=20, choices=Department.Code.choices)

    class Meta:
        ordering = ["kind"]
        verbose_name = _("loyalty rule")
        verbose_name_plural = _("loyalty rules")

    def __str__(self):
        return self.get_kind_display()


class Task(models.Model):
    """Something a person at the store should do for a customer, by a date."""

    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
        verbose_name=_("assigned to"),
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="tasks", verbose_name=_("customer")
    )
    # The lead a next step was promised on (None for a loyalty task). The task is the customer's and
    # outlives its lead: deleting a lead (an administrator's clean-up) keeps what was done, by whom.
    lead = models.ForeignKey(
        Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks", verbose_name=_("lead")
    )
    kind = models.CharField(_("kind"), max_length=30, choices=TASK_KINDS)
    # The title in English, as it was made (exports, admin); pages show display_title, made from
    # kind and params in the reader's language. Rows without params show this title as it is.
    title = models.CharField(_("title"), max_length=300)
    params = models.JSONField(_("details"), default=dict, blank=True)
    due_on = models.DateField(_("due"), db_index=True)
    # Identifies the moment ("anniversary:12:2027"; a next step: the logged contact that promised
    # it), so the same moment never makes two tasks.
    moment_key = models.CharField(_("moment key"), max_length=120)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["done_at", "due_on", "pk"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        constraints = [models.UniqueConstraint(fields=["kind", "moment_key"], name="task_once_per_moment")]

    def __str__(self):
        return self.display_title

    @property
    def display_title(self) -> str:
        """The title in the active language, made from kind and params; the stored title if it cannot be."""
        try:
            text = task_title(self.kind, self.params)
        except (KeyError, TypeError, ValueError):
            text = ""
        return text or self.title


def _km(value) -> str:
    return formats.number_format(int(value), force_grouping=True)


def task_title_stored(kind: str, params: dict) -> str:
    """A task's title as it is stored, in English, for exports and the admin; pages show
    display_title, in the reader's language."""
    with translation.override("en"):
        return task_title(kind, params)


def task_title(kind: str, params: dict) -> str:
    """A task's title in the active language ("" when params say too little to make one)."""
    if not params:
        return ""
    if kind == NEXT_STEP:
        return gettext("Next step: %(step)s") % {"step": params["step"]}
    vehicle = params.get("vehicle") or ""
    if kind == LoyaltyKind.PURCHASE_ANNIVERSARY:
        years = int(params["years"])
        values = {"years": years, "vehicle": vehicle, "summary": params.get("summary") or vehicle}
        if vehicle and params.get("deal") == "purchase":
            text = ngettext(
                "%(years)d-year anniversary of the %(vehicle)s purchase",
                "%(years)d-year anniversary of the %(vehicle)s purchase",
                years,
            )
        elif vehicle and params.get("deal") == "lease":
            text = ngettext(
                "%(years)d-year anniversary of the %(vehicle)s lease",
                "%(years)d-year anniversary of the %(vehicle)s lease",
                years,
            )
        else:
            text = ngettext(
                "%(years)d-year anniversary of %(summary)s",
                "%(years)d-year anniversary of %(summary)s",
                years,
            )
        return text % values
    if kind in (LoyaltyKind.TERM_ENDING, LoyaltyKind.WARRANTY_ENDING):
        values = {"date": date.fromisoformat(params["ends"]).isoformat(), "vehicle": vehicle}
        if kind == LoyaltyKind.WARRANTY_ENDING:
            return gettext("Warranty ends %(date)s: %(vehicle)s") % values
        text = {
            "finance": gettext("Financing term ends %(date)s: %(vehicle)s"),
            "lease": gettext("Lease term ends %(date)s: %(vehicle)s"),
            "cash": gettext("Cash term ends %(date)s: %(vehicle)s"),
        }.get(params.get("deal") or "", gettext("Term ends %(date)s: %(vehicle)s"))
        return text % values
    if kind == LoyaltyKind.HIGH_MILEAGE:
        values = {"km": _km(params["km"]), "vehicle": vehicle}
        if vehicle:
            return gettext("%(km)s km on %(vehicle)s: offer a trade-in appraisal") % values
        return gettext("%(km)s km on their vehicle: offer a trade-in appraisal") % values
    if kind == LoyaltyKind.LOST_LEAD_REVIVAL:
        values = {
            "date": date.fromisoformat(params["received"]).isoformat(),
            "reason": params.get("reason") or "",
        }
        if values["reason"]:
            return gettext("Lost lead from %(date)s (%(reason)s): worth another try") % values
        return gettext("Lost lead from %(date)s: worth another try") % values
    return ""
