from collections.abc import Iterable

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce, Right, Upper
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from dealership.models import TimelineEvent

from .customers import Customer, Language


class LeadStatus(models.TextChoices):
    NEW = "new", pgettext_lazy("lead status", "New")
    CONTACTED = "contacted", pgettext_lazy("lead status", "Contacted")
    APPOINTMENT_SET = "appointment_set", pgettext_lazy("lead status", "Appointment set")
    SHOWN = "shown", pgettext_lazy("lead status", "Shown")
    SOLD = "sold", pgettext_lazy("lead status", "Sold")
    LOST = "lost", pgettext_lazy("lead status", "Lost")
    # An inquiry that was no sales lead at all (spam, a test of the website, the wrong store, a
    # question for service only): closed, and counted in none of the sales figures.
    NOT_A_LEAD = "not_a_lead", pgettext_lazy("lead status", "Not a lead")


# Labels by value, for lines read as plain values (the inbox, the timeline); unknown values as they are.
LEAD_STATUS_LABELS = dict(LeadStatus.choices)
# The sources the store itself gives a lead (the website's contact form, mail without a source), stored
# in English and named in the reader's language; any other source as it came.
LEAD_SOURCE_LABELS = {
    "Website": pgettext_lazy("lead source", "Website"),
    "Email": pgettext_lazy("lead source", "Email"),
}

# Leads still being worked; sold and lost ones are history, and so are inquiries that were no lead.
OPEN_LEAD_STATUSES = [LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.APPOINTMENT_SET, LeadStatus.SHOWN]
# The leads the figures count: a merged duplicate counts once, as the lead it was merged into; an
# inquiry closed as not a lead (spam, a test, the wrong store) counts nowhere.
LEADS_COUNTED = Q(merged_into__isnull=True) & ~Q(status=LeadStatus.NOT_A_LEAD)


# 0 while a lead waits for an answer (an open lead's first one, or the customer wrote again), 1
# otherwise: the first key of "most urgent" (a sold or lost lead never answered waits for nothing).
LEAD_WAITING_FIRST = Case(
    When(first_response_at__isnull=True, status__in=OPEN_LEAD_STATUSES, then=Value(0)),
    When(customer_waiting_since__isnull=False, then=Value(0)),
    default=Value(1),
    output_field=models.IntegerField(),
)
# Since when the customer has been waiting: since they wrote again, else since the inquiry came in.
LEAD_WAITING_SINCE = Coalesce("customer_waiting_since", "received_at")


# The funnel in order, with the field on which a lead keeps when it first reached each stage.
FUNNEL_MILESTONES = [
    (LeadStatus.CONTACTED, "contacted_at"),
    (LeadStatus.APPOINTMENT_SET, "appointment_set_at"),
    (LeadStatus.SHOWN, "shown_at"),
    (LeadStatus.SOLD, "sold_at"),
]


class InquiryType(models.TextChoices):
    PRICE = "price", _("Price and availability")
    TRADE_IN = "trade_in", _("Trade-in value")
    FINANCING = "financing", _("Financing and lease payments")
    TEST_DRIVE = "test_drive", _("Test drive")
    GENERAL = "general", _("General")


class VehicleInterest(models.TextChoices):
    BUY = "buy", _("Buy")
    LEASE = "lease", _("Lease")
    SELL = "sell", _("Sell")
    TRADE_IN = "trade-in", _("Trade-in")
    TEST_DRIVE = "test-drive", _("Test drive")


# Vehicles the customer brings to the store (to sell or trade in), as against the ones they want.
VEHICLES_OFFERED = (VehicleInterest.SELL, VehicleInterest.TRADE_IN)


class Lead(models.Model):
    """A sales inquiry from an internet customer, worked until sold or lost."""

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="leads", verbose_name=_("customer")
    )
    status = models.CharField(
        pgettext_lazy("lead", "status"), max_length=20, choices=LeadStatus.choices, default=LeadStatus.NEW
    )
    # Why the lead was closed: lost, or not a lead at all (required by lead_transition for both).
    lost_reason = models.CharField(_("why it was closed"), max_length=200, blank=True)
    source = models.CharField(
        _("source"), max_length=100, blank=True, help_text=_("Lead provider or website.")
    )
    inquiry_type = models.CharField(
        _("inquiry type"), max_length=20, choices=InquiryType.choices, default=InquiryType.GENERAL
    )
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.ENGLISH
    )
    comments = models.TextField(_("comments"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_leads",
        verbose_name=_("owner"),
    )
    received_at = models.DateTimeField(pgettext_lazy("lead", "received"), db_index=True)
    first_response_at = models.DateTimeField(_("first answer"), null=True, blank=True)
    # Inbound time to first human answer, counted in the store's business minutes.
    first_response_business_minutes = models.PositiveIntegerField(
        _("first answer within (business minutes)"), null=True, blank=True
    )
    # When the customer wrote again after a person had answered, and nobody has answered since: the
    # inbox's "Replied" list. Kept by lead_customer_wrote and lead_record_answer.
    customer_waiting_since = models.DateTimeField(
        _("customer waiting since"), null=True, blank=True, editable=False
    )
    # Funnel milestones: when the lead first reached each stage (kept by lead_transition),
    # so the dashboard counts stages without replaying the event history.
    contacted_at = models.DateTimeField(pgettext_lazy("lead", "contacted"), null=True, blank=True)
    appointment_set_at = models.DateTimeField(pgettext_lazy("lead", "appointment set"), null=True, blank=True)
    shown_at = models.DateTimeField(pgettext_lazy("lead", "customer came in"), null=True, blank=True)
    sold_at = models.DateTimeField(pgettext_lazy("lead", "sold"), null=True, blank=True)
    # Who made the sale, credited with it in the figures by person whoever owns the lead since (a
    # colleague who delivers the car): the owner when it became sold. Kept by lead_transition.
    sold_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads_sold",
        editable=False,
        verbose_name=_("sold by"),
    )
    lost_at = models.DateTimeField(pgettext_lazy("lead", "lost"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)
    promotion = models.ForeignKey(
        "promotions.Promotion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        verbose_name=_("promotion"),
    )
    # The first vehicle asked about (not a trade-in) as one line, "2026 Toyota RAV4 XLE": the inbox
    # shows it on every row. Written by the services that add or move vehicles (vehicle_wanted_line).
    vehicle_wanted = models.CharField(_("vehicle wanted"), max_length=200, blank=True, editable=False)
    # Set on a duplicate folded into another lead (lead_merge): it keeps its own trail, but the
    # dashboard and promotion figures count the pair once, as the lead it was merged into.
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_leads",
        editable=False,
        verbose_name=pgettext_lazy("lead", "merged into"),
    )

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        indexes = [
            models.Index(fields=["status", "-received_at"]),
            # The dashboard: first-response times of a period, and stages reached in a period.
            models.Index(
                fields=["received_at", "first_response_business_minutes"], name="lead_received_response"
            ),
            models.Index(fields=["appointment_set_at"], name="lead_appointment_set_at"),
            models.Index(fields=["shown_at"], name="lead_shown_at"),
            models.Index(fields=["sold_at"], name="lead_sold_at"),
            # The inbox's "unanswered" and "overdue" views and counts read only the open leads
            # still waiting for an answer: a small index however long the store's history.
            models.Index(
                fields=["-received_at"],
                condition=models.Q(first_response_at__isnull=True, status__in=OPEN_LEAD_STATUSES),
                name="lead_unanswered_idx",
            ),
            # The "Replied" list and its count read only the leads whose customer waits for an answer.
            models.Index(
                fields=["customer_waiting_since"],
                condition=models.Q(customer_waiting_since__isnull=False),
                name="lead_customer_waiting_idx",
            ),
            # "Most urgent first": open leads still waiting, longest wait on top, then the others.
            models.Index(
                LEAD_WAITING_FIRST,
                LEAD_WAITING_SINCE,
                F("id"),
                condition=models.Q(status__in=OPEN_LEAD_STATUSES),
                name="lead_urgent_idx",
            ),
        ]
        permissions = [("work_leads", "Can work every lead (supervisor)")]

    def __str__(self):
        return gettext("Lead %(number)s — %(customer)s") % {"number": self.pk, "customer": self.customer}


# How many of a VIN's last characters the inbox search looks a VIN's end up on.
VIN_TAIL_LENGTH = 6


class LeadVehicle(models.Model):
    """A vehicle named in an inquiry: the one wanted, or the trade-in."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="vehicles", verbose_name=_("lead"))
    interest = models.CharField(
        _("interest"), max_length=20, choices=VehicleInterest.choices, default=VehicleInterest.BUY
    )
    condition = models.CharField(_("condition"), max_length=10, blank=True, help_text=_("new or used"))
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    make = models.CharField(_("make"), max_length=60, blank=True)
    model = models.CharField(_("model"), max_length=60, blank=True)
    trim = models.CharField(_("trim"), max_length=60, blank=True)
    vin = models.CharField(_("VIN"), max_length=17, blank=True, db_index=True)
    stock_number = models.CharField(_("stock number"), max_length=30, blank=True, db_index=True)
    odometer_km = models.PositiveIntegerField(_("odometer (km)"), null=True, blank=True)
    price = models.DecimalField(_("price"), max_digits=10, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("vehicle of a lead")
        verbose_name_plural = _("vehicles of leads")
        # The inbox search matches VIN and stock number whatever their case, and a VIN by its end
        # (read off a windshield) on its last characters (VIN_TAIL).
        indexes = [
            models.Index(Upper("vin"), name="leadvehicle_vin_upper_idx"),
            models.Index(Upper("stock_number"), name="leadvehicle_stock_upper_idx"),
            models.Index(Upper(Right("vin", VIN_TAIL_LENGTH)), name="leadvehicle_vin_tail_idx"),
        ]

    def __str__(self):
        return " ".join(str(part) for part in (self.year, self.make, self.model, self.trim) if part)

    @property
    def is_offered(self) -> bool:
        return self.interest in VEHICLES_OFFERED


def vehicle_wanted_line(vehicles: Iterable[LeadVehicle]) -> str:
    """Lead.vehicle_wanted for these vehicles, in their order (by pk): the first one not offered."""
    return next((str(vehicle) for vehicle in vehicles if not vehicle.is_offered), "")


class LeadEvent(TimelineEvent):
    """One entry of a lead's timeline: who did what, when, with its parameters."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="events", verbose_name=_("lead"))

    class Meta(TimelineEvent.Meta):
        indexes = [models.Index(fields=["lead", "created_at"])]
        verbose_name = _("lead timeline entry")
        verbose_name_plural = _("lead timeline entries")

    def __str__(self):
        return gettext("%(event)s on lead %(number)s") % {"event": self.type, "number": self.lead_id}
