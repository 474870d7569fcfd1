from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    SUPERVISOR = "supervisor", _("Internet sales supervisor")
    ADVISOR = "advisor", _("Sales advisor")
    MANAGER = "manager", _("Sales manager")
    DEPARTMENT = "department", _("Department staff")
    ADMIN = "admin", _("Administrator")


# Roles that oversee the whole internet department: every lead, appointment, mail and objective.
OVERSEEING_ROLES = (Role.SUPERVISOR, Role.MANAGER, Role.ADMIN)
# Roles of the people who may own leads, and so the sales tasks of their customers.
LEAD_OWNER_ROLES = (Role.ADVISOR, Role.SUPERVISOR, Role.MANAGER)


def oversees_store(user) -> bool:
    staff = getattr(user, "staff", None)
    return user.is_superuser or bool(staff and staff.role in OVERSEEING_ROLES)


class TimelineEvent(models.Model):
    """One entry of a record's timeline: who did what, when, with its parameters.

    Every status machine appends one of these (a subclass with a foreign key to its record).
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("done by")
    )
    type = models.CharField(_("event"), max_length=40)
    params = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("date and time"), default=timezone.now, db_index=True)

    class Meta:
        abstract = True
        ordering = ["created_at", "pk"]


class Department(models.Model):
    class Code(models.TextChoices):
        SALES = "sales", _("Sales")
        SERVICE = "service", _("Service")
        PARTS = "parts", _("Parts")
        FINANCE = "finance", _("Finance")
        BODY_SHOP = "body_shop", _("Body shop")

    code = models.CharField(_("code"), max_length=20, choices=Code.choices, unique=True)
    name = models.CharField(_("name"), max_length=80)
    forward_email = models.EmailField(
        _("forwarding address"), help_text=_("Mail for this department is forwarded here.")
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self):
        # Its standard name in the reader's language: `name` is stored once, in English.
        return self.get_code_display()


class StaffMember(models.Model):
    """A person who works at the store; name and email live on the login account."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staff",
        verbose_name=_("login account"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="staff", verbose_name=_("department")
    )
    title = models.CharField(_("job title"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)

    class Meta:
        ordering = ["user__last_name", "user__first_name"]
        verbose_name = _("staff member")
        verbose_name_plural = _("staff members")
        permissions = [("send_directory", "Can send the staff directory to all staff")]

    def __str__(self):
        return self.user.get_full_name() or self.user.get_username()

    @property
    def name(self) -> str:
        return str(self)

    @property
    def email(self) -> str:
        return self.user.email


class Metric(models.TextChoices):
    LEADS_ANSWERED = "leads_answered", _("Leads answered")
    MEDIAN_RESPONSE = "median_response_minutes", _("Median first-response time (business minutes)")
    SHARE_WITHIN_TARGET = "share_within_target", _("Share answered within target (%)")
    APPOINTMENTS_SET = "appointments_set", _("Appointments set")
    APPOINTMENTS_SHOWN = "appointments_shown", _("Appointments shown")
    VEHICLES_SOLD = "vehicles_sold", _("Vehicles sold from internet leads")
    PHOTO_COVERAGE = "photo_coverage", _("Stock with photos (%)")
    FOLLOWUPS_ON_TIME = "followups_on_time", _("Follow-up tasks done on time (%)")


# Metrics where a lower figure is better, and metrics that are shares (no daily pace).
LOWER_IS_BETTER = {Metric.MEDIAN_RESPONSE}
SHARES = {Metric.SHARE_WITHIN_TARGET, Metric.PHOTO_COVERAGE, Metric.FOLLOWUPS_ON_TIME}


class PeriodKind(models.TextChoices):
    WEEK = "week", _("Week")
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")


class Objective(models.Model):
    """A target for one period, for the internet department or one person; proposed, then approved."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", pgettext_lazy("objective status", "Proposed")
        APPROVED = "approved", pgettext_lazy("objective status", "Approved")
        REJECTED = "rejected", pgettext_lazy("objective status", "Rejected")
        WITHDRAWN = "withdrawn", pgettext_lazy("objective status", "Withdrawn")

    metric = models.CharField(_("metric"), max_length=40, choices=Metric.choices)
    period_kind = models.CharField(
        _("period"), max_length=10, choices=PeriodKind.choices, default=PeriodKind.MONTH
    )
    period_start = models.DateField(_("start of the period"))
    # PROTECT: a person's objectives and their approvals are the store's history; someone who
    # leaves is deactivated, and deleting their record is refused while it holds any.
    person = models.ForeignKey(
        StaffMember,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="objectives",
        verbose_name=_("person"),
        help_text=_("Empty: the whole internet department."),
    )
    target = models.DecimalField(_("target"), max_digits=10, decimal_places=2)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PROPOSED)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-period_start", "metric"]
        verbose_name = _("objective")
        verbose_name_plural = _("objectives")
        permissions = [
            ("propose_objective", "Can propose objectives (supervisor)"),
            ("approve_objective", "Can approve objectives (manager)"),
        ]
        # One target at a time per metric, person (or the department: no person) and period: the
        # one proposed, until the manager rejects it, or the one approved. Two requests at once
        # (a double click) cannot both add one.
        constraints = [
            models.UniqueConstraint(
                F("metric"),
                F("period_kind"),
                F("period_start"),
                Coalesce(F("person"), Value(0)),
                condition=Q(status__in=["proposed", "approved"]),
                name="objective_one_open_per_metric_person_period",
            )
        ]

    def __str__(self):
        return gettext("%(metric)s — %(who)s, %(period)s of %(start)s") % {
            "metric": self.get_metric_display(),
            "who": self.person or gettext("Internet department"),
            "period": self.get_period_kind_display().lower(),
            "start": self.period_start,
        }


class ObjectiveEvent(TimelineEvent):
    objective = models.ForeignKey(
        Objective, on_delete=models.CASCADE, related_name="events", verbose_name=_("objective")
    )

    class Meta(TimelineEvent.Meta):
        verbose_name = _("objective timeline entry")
        verbose_name_plural = _("objective timeline entries")

    def __str__(self):
        return f"{self.type} on objective {self.objective_id}"
