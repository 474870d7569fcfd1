"""Follow-up plans: a sequence of steps (emails, drafts, calls) a lead goes through until it answers."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext, gettext_noop, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from .leads import Lead

# The default plan's name and call step as shipped: stored in English, shown in the reader's language
# until someone edits them.
DEFAULT_PLAN_NAME = gettext_noop("New internet leads")
DEFAULT_CALL_NOTES = gettext_noop("Call the customer: confirm the vehicle, offer a test drive.")
SHIPPED_TEXTS = frozenset({DEFAULT_PLAN_NAME, DEFAULT_CALL_NOTES})


def plan_text(text: str) -> str:
    """The default plan's name or call notes as shipped, in the reader's language; as edited otherwise."""
    return gettext(text) if text in SHIPPED_TEXTS else text


class FollowUpPlan(models.Model):
    """A named sequence of steps; which new leads enter it is decided by its source rule."""

    code = models.SlugField(
        max_length=50,
        unique=True,
        null=True,
        blank=True,
        help_text=_("Set on the plans that ship with the product."),
    )
    name = models.CharField(max_length=100)
    active = models.BooleanField(default=True)
    all_internet_leads = models.BooleanField(
        default=False,
        help_text=_("Every new internet lead enters this plan unless another plan names its source."),
    )
    sources = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Lead sources (e.g. AutoTrader) whose new leads enter this plan."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("follow-up plan")
        verbose_name_plural = _("follow-up plans")

    def __str__(self):
        return self.name


class FollowUpStep(models.Model):
    class Kind(models.TextChoices):
        AUTO_EMAIL = "auto_email", _("Email sent automatically")
        DRAFT_EMAIL = "draft_email", _("Email drafted for review")
        CALL = "call", _("Call task")

    class Anchor(models.TextChoices):
        INQUIRY = "inquiry", _("after the inquiry")
        PREVIOUS = "previous", _("after the previous step")

    plan = models.ForeignKey(FollowUpPlan, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.AUTO_EMAIL)
    delay_days = models.PositiveSmallIntegerField(_("delay (days)"), default=0)
    delay_hours = models.PositiveSmallIntegerField(_("delay (hours)"), default=0)
    anchor = models.CharField(max_length=10, choices=Anchor.choices, default=Anchor.INQUIRY)
    reply_template = models.ForeignKey(
        "leads.ReplyTemplate",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_(
            "Send this reply template instead of the texts below; for a customer of the other "
            "language, its counterpart (same name, else same inquiry type) in that language."
        ),
    )
    # Or the email written here, in both of the store's languages; the customer's language picks one.
    subject_en = models.CharField(_("subject in English"), max_length=200, blank=True)
    body_en = models.TextField(_("message in English"), blank=True)
    subject_fr = models.CharField(_("subject in French"), max_length=200, blank=True)
    body_fr = models.TextField(_("message in French"), blank=True)
    call_notes = models.CharField(max_length=200, blank=True, help_text=_("What to say on the call."))

    class Meta:
        ordering = ["plan", "position", "pk"]
        verbose_name = _("follow-up step")
        verbose_name_plural = _("follow-up steps")

    def __str__(self):
        return f"{self.plan}: step {self.position} ({self.get_kind_display()})"

    @property
    def is_acknowledgement(self) -> bool:
        """An automatic email right at the inquiry."""
        return (
            self.kind == self.Kind.AUTO_EMAIL
            and self.anchor == self.Anchor.INQUIRY
            and not (self.delay_days or self.delay_hours)
        )

    @property
    def is_email(self) -> bool:
        return self.kind in (self.Kind.AUTO_EMAIL, self.Kind.DRAFT_EMAIL)


class StopReason(models.TextChoices):
    CUSTOMER_REPLIED = "customer_replied", gettext_noop("The customer replied")
    APPOINTMENT_BOOKED = "appointment_booked", gettext_noop("An appointment was booked")
    SOLD = "sold", gettext_noop("The lead was sold")
    LOST = "lost", gettext_noop("The lead was lost")
    NOT_A_LEAD = "not_a_lead", gettext_noop("The inquiry was not a lead")
    UNSUBSCRIBED = "unsubscribed", gettext_noop("The customer unsubscribed or has no consent for commercial mail")
    BY_HAND = "by_hand", gettext_noop("Stopped by hand")
    COMPLETED = "completed", gettext_noop("Every step done")


class FollowUpEnrollment(models.Model):
    """One lead going through one plan."""

    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("follow-up status", "Active")
        STOPPED = "stopped", pgettext_lazy("follow-up status", "Stopped")
        COMPLETED = "completed", pgettext_lazy("follow-up status", "Completed")

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="followups")
    plan = models.ForeignKey(FollowUpPlan, on_delete=models.PROTECT, related_name="enrollments")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    enrolled_at = models.DateTimeField()
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    stopped_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=30, choices=StopReason.choices, blank=True)

    class Meta:
        ordering = ["-enrolled_at"]
        verbose_name = _("lead in a follow-up plan")
        verbose_name_plural = _("leads in follow-up plans")
        constraints = [
            # A lead follows at most one plan at a time.
            models.UniqueConstraint(
                fields=["lead"], condition=models.Q(status="active"), name="followup_one_active_per_lead"
            )
        ]

    def __str__(self):
        return f"{self.lead} in {self.plan}"


class FollowUpStepRun(models.Model):
    """One step of one enrollment: scheduled, then sent (email), or open on the task list (call, draft).

    An automatic email moves scheduled → queued → sending → sent under a row lock; a run found still
    "sending" means a worker stopped mid-send and goes to review instead of being sent again.
    """

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", pgettext_lazy("follow-up status", "Scheduled")
        QUEUED = "queued", pgettext_lazy("follow-up status", "Queued")
        SENDING = "sending", pgettext_lazy("follow-up status", "Sending")
        SENT = "sent", pgettext_lazy("follow-up status", "Sent")
        OPEN = "open", pgettext_lazy("follow-up status", "To do")
        DONE = "done", pgettext_lazy("follow-up status", "Done")
        NEEDS_REVIEW = "needs_review", pgettext_lazy("follow-up status", "Needs review")
        CANCELLED = "cancelled", pgettext_lazy("follow-up status", "Cancelled")

    # Runs waiting for a person: the calls, drafts and interrupted sends of the task list.
    TASK_STATUSES = frozenset({Status.OPEN, Status.NEEDS_REVIEW})

    enrollment = models.ForeignKey(FollowUpEnrollment, on_delete=models.CASCADE, related_name="runs")
    step = models.ForeignKey(FollowUpStep, on_delete=models.PROTECT, related_name="runs")
    due_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SCHEDULED)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    message = models.ForeignKey(
        "leads.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="followup_runs"
    )
    consent_basis = models.CharField(max_length=200, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["due_at", "pk"]
        verbose_name = _("follow-up step of a lead")
        verbose_name_plural = _("follow-up steps of leads")
        constraints = [
            models.UniqueConstraint(fields=["enrollment", "step"], name="followup_run_once_per_step")
        ]
        indexes = [models.Index(fields=["status", "due_at"])]

    def __str__(self):
        return f"{self.step} for {self.enrollment.lead}"
