"""Build the demo dealership. Running it again adds nothing.

The store's defaults come from dealership.store_defaults, as for a real store (setup_store); the rest
is demo data: logins with a known password, customers, leads, stock, objectives and mail. It refuses
to run with DEBUG off (a real store) unless told --force.
"""

import os
import random
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dealership.demo_mail import demo_mailbox_fill
from dealership.models import Department, Metric, Objective, Role, StaffMember
from dealership.services import objective_propose, objective_transition, staff_create
from dealership.store_defaults import store_defaults_ensure
from inventory.demo import demo_stock_ensure
from leads.mail.sources import configured_sources
from leads.models import (
    Appointment,
    Channel,
    Customer,
    Direction,
    HistoryKind,
    Lead,
    LeadEvent,
    LeadStatus,
    LeadVehicle,
    Message,
)
from leads.models.leads import vehicle_wanted_line
from leads.selectors.appointments import SLOT, advisor_free_slots, advisors, local_day_bounds
from leads.services.appointments import (
    appointment_book,
    appointment_transition,
    working_hours_ensure_defaults,
)
from leads.services.customers import history_item_add
from leads.services.leads import (
    ContactOutcome,
    contact_log,
    customer_find_or_create,
    lead_assign,
    lead_create,
    lead_customer_wrote,
    lead_record_answer,
    lead_transition,
)
from leads.services.loyalty import loyalty_tasks_create

EMAIL_DOMAIN = "maplemotors.example"

# username, first, last, role, department code, title
DEMO_STAFF = [
    ("supervisor", "Sophie", "Tremblay", Role.SUPERVISOR, "sales", "Internet sales supervisor"),
    ("manager", "Marc", "Gagnon", Role.MANAGER, "sales", "Sales manager"),
    ("advisor1", "Alex", "Chen", Role.ADVISOR, "sales", "Sales advisor"),
    ("advisor2", "Priya", "Patel", Role.ADVISOR, "sales", "Sales advisor"),
    ("advisor3", "Luc", "Bouchard", Role.ADVISOR, "sales", "Sales advisor"),
    ("service", "Dana", "Roy", Role.DEPARTMENT, "service", "Service advisor"),
    ("parts", "Omar", "Haddad", Role.DEPARTMENT, "parts", "Parts counter"),
    ("finance", "Grace", "Wilson", Role.DEPARTMENT, "finance", "Finance manager"),
    ("bodyshop", "Pierre", "Lavoie", Role.DEPARTMENT, "body_shop", "Body shop estimator"),
    ("admin", "Ada", "Admin", Role.ADMIN, "sales", "Administrator"),
]

DEMO_CUSTOMERS = [
    ("Emma", "Johnson", "emma.johnson@example.com", "+14165550111", "en"),
    ("Olivier", "Côté", "olivier.cote@example.com", "+15145550122", "fr"),
    ("Noah", "Williams", "noah.williams@example.com", "+16475550133", "en"),
    ("Chloé", "Gauthier", "chloe.gauthier@example.com", "+14385550144", "fr"),
    ("Liam", "Brown", "liam.brown@example.com", "+19055550155", "en"),
    ("Léa", "Morin", "lea.morin@example.com", "+18195550166", "fr"),
]
# Where each featured customer's lead is now, in DEMO_CUSTOMERS' order: one lead at each stage a
# newcomer meets, walked there through the services as the staff would have (_demo_lead_walk).
# Olivier's inquiry waits for its answer; Noah is the customer who wrote back (_demo_conversation).
DEMO_STATUSES = [
    LeadStatus.SHOWN,
    LeadStatus.NEW,
    LeadStatus.CONTACTED,
    LeadStatus.APPOINTMENT_SET,
    LeadStatus.SOLD,
    LeadStatus.LOST,
]
# The appointment outcome that took a lead to each of these statuses.
VISIT_OUTCOMES = {LeadStatus.SHOWN: Appointment.Status.SHOWN, LeadStatus.SOLD: Appointment.Status.SOLD}
# Demo appointments start at one of these store times; a visit that took place, the latest over by now,
# its lead received this long before it (and answered minutes later, when it was booked).
APPOINTMENT_TIMES = (time(10), time(14))
INQUIRY_BEFORE_VISIT = timedelta(hours=3)
ANSWERED_AFTER = timedelta(minutes=12)
# What the advisor noted of the call that answered the customer.
BOOKING_CALL_NOTES = "Booked a test drive."
LOST_CALL_NOTES = "Bought elsewhere last week."
# How many days around today the demo looks for a time its advisor works (weekends, holidays).
SLOT_SEARCH_DAYS = 14
DEMO_VEHICLES = [
    {"year": 2026, "make": "Toyota", "model": "RAV4", "trim": "XLE Hybrid", "condition": "new"},
    {"year": 2025, "make": "Honda", "model": "Civic", "trim": "Sport", "condition": "new"},
    {"year": 2022, "make": "Ford", "model": "F-150", "trim": "XLT", "condition": "used"},
    {"year": 2026, "make": "Hyundai", "model": "Tucson", "trim": "Preferred", "condition": "new"},
]
# Share of leads reaching each stage, given the one before (industry: ~1/3 appointments, ~2/3 show).
FUNNEL_CHANCES = [("contacted_at", 0.9), ("appointment_set_at", 0.38), ("shown_at", 0.66), ("sold_at", 0.45)]
MILESTONE_STATUS = {
    "contacted_at": LeadStatus.CONTACTED,
    "appointment_set_at": LeadStatus.APPOINTMENT_SET,
    "shown_at": LeadStatus.SHOWN,
    "sold_at": LeadStatus.SOLD,
}
SOURCES = ["AutoTrader", "Cars.com", "Kijiji Autos", "CarGurus", "Website", "Toyota.ca"]
# What each featured customer wrote, in their language.
QUESTIONS = {
    "en": ("Is it still available?", "Is this vehicle still available? What is your best price?"),
    "fr": (
        "Encore disponible?",
        "Bonjour, est-ce que ce véhicule est encore disponible? Quel est votre meilleur prix?",
    ),
}
# Names of the customers of the store's earlier months: a Canadian store's mix, French and English.
FIRST_NAMES = [("Emma", "en"), ("Liam", "en"), ("Olivia", "en"), ("Noah", "en"), ("Ava", "en"), ("Ethan", "en"),
               ("Priya", "en"), ("Wei", "en"), ("Léa", "fr"), ("William", "fr"), ("Florence", "fr"),
               ("Félix", "fr"), ("Zoé", "fr"), ("Thomas", "fr"), ("Camille", "fr"), ("Mathis", "fr")]  # fmt: skip
LAST_NAMES = ["Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "Gauthier", "Morin", "Lavoie", "Fortin",
              "Smith", "Brown", "Wilson", "MacDonald", "Patel", "Nguyen", "Singh", "Martin", "Campbell"]  # fmt: skip


DEMO_HISTORY_LEADS = 150


class Command(BaseCommand):
    help = "Create the demo dealership (staff in every role, departments, customers, leads). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--leads", type=int, default=0, help="Also make this many extra leads (benchmarks)."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load the demo even with DEBUG off. A real store wants setup_store instead.",
        )

    def handle(self, *args, leads: int, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                _(
                    "DEBUG is off, so this looks like a real store: seed_demo was not run. It adds demo"
                    " logins whose password is published (an administrator among them), made-up"
                    " customers, leads and stock. For the store's departments, reply templates,"
                    " follow-up plan and rules, run setup_store. To load the demo anyway, add --force."
                )
            )
        self._seed(leads=leads)

    @transaction.atomic
    def _seed(self, *, leads: int):
        password = os.environ.get("DEMO_PASSWORD", "demo-dealer-2026")
        store_defaults_ensure(email_domain=EMAIL_DOMAIN)
        departments = {department.code: department for department in Department.objects.all()}
        created = 0
        for index, (username, first, last, role, department, title) in enumerate(DEMO_STAFF):
            if StaffMember.objects.filter(user__username=username).exists():
                continue
            staff_create(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@{EMAIL_DOMAIN}",
                role=role,
                department=departments[department],
                password=password,
                phone=f"+1 416 555 01{10 + index:02d}",
                title=title,
            )
            created += 1
        for advisor in StaffMember.objects.filter(role=Role.ADVISOR):
            working_hours_ensure_defaults(advisor=advisor)
        self._demo_leads()
        self._bulk_leads(DEMO_HISTORY_LEADS, prefix="history", days=75)
        vehicles = demo_stock_ensure()
        if leads:
            self._bulk_leads(leads, prefix="bulk", days=365)
        self._demo_objectives()
        mail = sum(
            demo_mailbox_fill(source.path) for source in configured_sources() if source.scheme == "maildir"
        )
        self.stdout.write(
            f"Demo dealership ready ({created} staff created, {Lead.objects.count()} leads,"
            f" {vehicles} stock vehicles created, {mail} messages put in the local mailbox)."
        )
        self.stdout.write(
            "Demo logins (password: {}): {}".format(password, ", ".join(s[0] for s in DEMO_STAFF))
        )

    def _demo_objectives(self):
        """This month's objectives: the department's approved, one advisor's still proposed."""
        today = timezone.localdate()
        if Objective.objects.filter(period_start=today.replace(day=1)).exists():
            return
        supervisor = StaffMember.objects.get(user__username="supervisor").user
        manager = StaffMember.objects.get(user__username="manager").user
        for metric, target, person in [
            (Metric.LEADS_ANSWERED, 120, None),
            (Metric.SHARE_WITHIN_TARGET, 80, None),
            (Metric.APPOINTMENTS_SET, 45, None),
            (Metric.VEHICLES_SOLD, 15, None),
            (Metric.APPOINTMENTS_SET, 15, StaffMember.objects.get(user__username="advisor1")),
        ]:
            objective = objective_propose(
                metric=metric,
                period_kind="month",
                period_start=today,
                target=target,
                person=person,
                actor=supervisor,
            )
            if person is None:
                objective_transition(objective=objective, to_status=Objective.Status.APPROVED, actor=manager)

    def _demo_leads(self):
        if Lead.objects.filter(customer__email=DEMO_CUSTOMERS[0][2]).exists():
            return
        now = timezone.now()
        sales_advisors = list(advisors().order_by("user__username"))
        supervisor = StaffMember.objects.get(user__username="supervisor").user
        demo = enumerate(zip(DEMO_CUSTOMERS, DEMO_STATUSES, strict=True))
        for index, ((first, last, email, phone, language), status) in demo:
            customer, _ = customer_find_or_create(
                email=email, phone=phone, first_name=first, last_name=last, language=language
            )
            subject, question = QUESTIONS[language]
            advisor = sales_advisors[index % len(sales_advisors)]
            visit = self._demo_visit_time(advisor, now) if status in VISIT_OUTCOMES else None
            received = visit - INQUIRY_BEFORE_VISIT if visit else now - timedelta(minutes=7 + 45 * index)
            lead = lead_create(
                customer=customer,
                source=SOURCES[index % len(SOURCES)],
                received_at=received,
                language=language,
                comments=question,
                vehicles=[{**DEMO_VEHICLES[index % len(DEMO_VEHICLES)], "interest": "buy"}],
            )
            self._demo_mail(lead, subject=subject, text=question, at=received)
            if status != LeadStatus.NEW:  # the supervisor gives it to an advisor, who works it
                lead_assign(lead=lead, owner=advisor.user, actor=supervisor)
                self._demo_lead_walk(
                    lead, status=status, advisor=advisor, supervisor=supervisor, visit=visit, now=now
                )
        self._demo_history(now)

    def _demo_lead_walk(
        self, lead: Lead, *, status: str, advisor: StaffMember, supervisor, visit, now
    ) -> None:
        """Take an assigned lead to `status` as the staff would have: the customer answered (a call
        the advisor logs), then an appointment booked, held or sold, or the lead closed as lost by the
        supervisor. `visit`: when the appointment of a lead shown or sold took place."""
        if status == LeadStatus.CONTACTED:
            self._demo_conversation(lead, now)
            return
        called = lead.received_at + ANSWERED_AFTER
        contact_log(
            lead=lead, author=advisor.user, channel=Channel.PHONE, outcome=ContactOutcome.REACHED,
            occurred_at=called, notes=LOST_CALL_NOTES if status == LeadStatus.LOST else BOOKING_CALL_NOTES,
        )  # fmt: skip
        if status == LeadStatus.LOST:
            lead_transition(lead=lead, to_status=LeadStatus.LOST, actor=supervisor, reason="Bought elsewhere")
            return
        # Booked during the call: for the coming days, or for the visit that took place since.
        appointment = appointment_book(
            lead=lead, advisor=advisor, starts_at=visit or self._demo_upcoming_time(advisor, now),
            purpose=Appointment.Purpose.TEST_DRIVE, now=called, actor=advisor.user,
            lead_vehicle=lead.vehicles.first(),
        )  # fmt: skip
        if status in VISIT_OUTCOMES:
            appointment_transition(
                appointment=appointment, to_status=VISIT_OUTCOMES[status], now=now, actor=advisor.user
            )

    @staticmethod
    def _demo_free_times(advisor: StaffMember, day, *, now) -> list[datetime]:
        """The advisor's free half hours at APPOINTMENT_TIMES that day, from `now` on."""
        return [
            slot
            for slot in advisor_free_slots(advisor=advisor, day=day, now=now)
            if timezone.localtime(slot).time() in APPOINTMENT_TIMES
        ]

    def _demo_upcoming_time(self, advisor: StaffMember, now) -> datetime:
        """The first such time from tomorrow on that the advisor works and the store is open."""
        today = timezone.localdate(now)
        for ahead in range(1, SLOT_SEARCH_DAYS):
            if times := self._demo_free_times(advisor, today + timedelta(days=ahead), now=now):
                return times[0]
        raise CommandError(
            _("%(advisor)s works at no time to book in the coming days.") % {"advisor": advisor}
        )

    def _demo_visit_time(self, advisor: StaffMember, now) -> datetime:
        """The latest such time, over by now, that the advisor worked and the store was open."""
        today = timezone.localdate(now)
        for back in range(SLOT_SEARCH_DAYS):
            day = today - timedelta(days=back)
            times = self._demo_free_times(advisor, day, now=local_day_bounds(day)[0])
            if over := [slot for slot in times if slot + SLOT <= now]:
                return over[-1]
        raise CommandError(_("%(advisor)s worked at no time in the days before.") % {"advisor": advisor})

    @staticmethod
    def _demo_mail(lead: Lead, *, subject: str, text: str, at) -> Message:
        """The customer's mail on the lead, as mail ingestion stores it."""
        return Message.objects.create(
            lead=lead, customer=lead.customer, channel=Channel.EMAIL, direction=Direction.INBOUND,
            from_address=lead.customer.email, to_addresses=[f"internet@{EMAIL_DOMAIN}"], subject=subject,
            body_text=text, new_text=text, occurred_at=at,
        )  # fmt: skip

    def _demo_conversation(self, lead: Lead, now) -> None:
        """An answer from the supervisor, then the customer writing back: a lead under "Replied"."""
        supervisor = StaffMember.objects.get(user__username="supervisor").user
        answered = lead.received_at + timedelta(minutes=9)
        Message.objects.create(
            lead=lead, customer=lead.customer, channel=Channel.EMAIL, direction=Direction.OUTBOUND,
            author=supervisor, from_address=f"internet@{EMAIL_DOMAIN}", to_addresses=[lead.customer.email],
            subject="Re: Is it still available?", send_status=Message.SendStatus.SENT, occurred_at=answered,
            body_text="Hello Noah,\n\nYes, it is here. Would Saturday at 10 suit you for a test drive?\n",
        )  # fmt: skip
        lead_record_answer(lead=lead, answered_at=answered, actor=supervisor, channel=Channel.EMAIL)
        reply = self._demo_mail(
            lead, subject="Re: Is it still available?", at=min(now, answered + timedelta(minutes=25)),
            text="Saturday works. Can I bring my 2017 Mazda CX-5 to have it appraised as a trade-in?",
        )  # fmt: skip
        lead_customer_wrote(lead=lead, at=reply.occurred_at)

    def _demo_history(self, now):
        """Earlier business with the first customers, so timelines and loyalty tasks have something."""
        emma, olivier, noah = (Customer.objects.get(email=c[2]) for c in DEMO_CUSTOMERS[:3])
        history_item_add(
            customer=emma, kind=HistoryKind.PURCHASE, occurred_at=now - timedelta(days=3 * 365 - 10),
            summary="2023 Toyota RAV4 LE, financed", department="sales", vehicle="2023 Toyota RAV4 LE",
            price="38900.00", deal_type="finance", term_months=36, term_ends_on=(now + timedelta(days=75)).date(),
            warranty_ends_on=(now + timedelta(days=45)).date(),
        )  # fmt: skip
        history_item_add(
            customer=olivier, kind=HistoryKind.SERVICE_VISIT, occurred_at=now - timedelta(days=12),
            summary="Brakes and 160,000 km service", department="service", vehicle="2016 Honda Civic",
            vin="2HGFC2F59GH000016", odometer_km=161_250,
        )  # fmt: skip
        history_item_add(
            customer=noah, kind=HistoryKind.BODY_SHOP_JOB, occurred_at=now - timedelta(days=40),
            summary="Rear bumper repair", department="body_shop", vehicle="2022 Ford F-150",
        )  # fmt: skip
        loyalty_tasks_create()

    def _bulk_leads(self, count: int, *, prefix: str, days: int, batch: int = 5000):
        """Leads with a believable history (funnel stages, first-response times), inserted in bulk.

        Numbered customers `<prefix>N@example.net` make it idempotent: what exists is not made again.
        """
        rng = random.Random(f"{prefix}-{count}")
        advisors = list(StaffMember.objects.filter(role=Role.ADVISOR).values_list("user_id", flat=True))
        start = Customer.objects.filter(email__startswith=f"{prefix}").count()
        now = timezone.now()
        for offset in range(start, count, batch):
            size = min(batch, count - offset)
            names = [(rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)) for _ in range(size)]
            customers = Customer.objects.bulk_create(
                Customer(
                    first_name=first, last_name=last, language=language, email=f"{prefix}{n}@example.net"
                )
                for n, ((first, language), last) in zip(range(offset, offset + size), names, strict=True)
            )
            leads = [self._history_lead(rng, customer, now, days, advisors) for customer in customers]
            vehicles = [LeadVehicle(lead=lead, interest="buy", **rng.choice(DEMO_VEHICLES)) for lead in leads]
            for lead, vehicle in zip(leads, vehicles, strict=True):
                lead.vehicle_wanted = vehicle_wanted_line([vehicle])
            Lead.objects.bulk_create(leads)
            LeadVehicle.objects.bulk_create(vehicles)  # their leads have primary keys now
            LeadEvent.objects.bulk_create(
                LeadEvent(lead=lead, type=event_type, params=params)
                for lead in leads
                for event_type, params in self._history_events(lead)
            )

    @staticmethod
    def _history_lead(rng, customer, now, days, advisors) -> Lead:
        received = now - timedelta(minutes=rng.randint(30, 60 * 24 * days))
        minutes = None if rng.random() < 0.08 else int(rng.lognormvariate(3.0, 1.1))
        reached = []
        for field, chance in FUNNEL_CHANCES:
            if rng.random() >= chance or (minutes is None and field == "contacted_at"):
                break
            reached.append(field)
        stamps = {
            field: received + timedelta(hours=2 * (i + 1), minutes=minutes or 0)
            for i, field in enumerate(reached)
        }
        status = MILESTONE_STATUS[reached[-1]] if reached else LeadStatus.NEW
        lost = status not in (LeadStatus.SOLD, LeadStatus.NEW) and rng.random() < 0.3
        source = rng.choice(SOURCES)
        owner_id = rng.choice(advisors) if advisors and reached else None
        return Lead(
            customer=customer,
            source=source,
            status=LeadStatus.LOST if lost else status,
            lost_reason="No answer after follow-up" if lost else "",
            lost_at=received + timedelta(days=10) if lost else None,
            owner_id=owner_id,
            sold_by_id=owner_id if "sold_at" in stamps else None,  # sold by the advisor who has it
            received_at=received,
            first_response_at=received + timedelta(minutes=minutes) if minutes is not None else None,
            first_response_business_minutes=minutes,
            **stamps,
        )

    @staticmethod
    def _history_events(lead: Lead):
        yield "created", {"source": lead.source}
        previous = LeadStatus.NEW
        for field, status in MILESTONE_STATUS.items():
            if getattr(lead, field):
                yield "status_changed", {"from_status": previous, "to_status": status}
                previous = status
        if lead.status == LeadStatus.LOST:
            yield "status_changed", {"from_status": previous, "to_status": LeadStatus.LOST}
