"""Build the demo dealership. Running it again adds nothing."""

import os
import random
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from dealership.models import Role, StaffMember
from dealership.services import departments_ensure, role_groups_ensure, staff_create
from leads.models import Customer, Lead, LeadEvent, LeadStatus, LeadVehicle
from leads.services.leads import customer_find_or_create, lead_create
from leads.services.routing import routing_rules_ensure_defaults

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
DEMO_VEHICLES = [
    {"year": 2026, "make": "Toyota", "model": "RAV4", "trim": "XLE Hybrid", "condition": "new"},
    {"year": 2025, "make": "Honda", "model": "Civic", "trim": "Sport", "condition": "new"},
    {"year": 2022, "make": "Ford", "model": "F-150", "trim": "XLT", "condition": "used"},
    {"year": 2026, "make": "Hyundai", "model": "Tucson", "trim": "Preferred", "condition": "new"},
]
SOURCES = ["AutoTrader", "Cars.com", "Kijiji Autos", "CarGurus", "Website", "Toyota.ca"]


class Command(BaseCommand):
    help = "Create the demo dealership (staff in every role, departments, customers, leads). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--leads", type=int, default=0, help="Also make this many extra leads (benchmarks)."
        )

    @transaction.atomic
    def handle(self, *args, leads: int, **options):
        password = os.environ.get("DEMO_PASSWORD", "demo-dealer-2026")
        departments = {d.code: d for d in departments_ensure(email_domain=EMAIL_DOMAIN)}
        role_groups_ensure()
        routing_rules_ensure_defaults()
        created = 0
        for username, first, last, role, department, title in DEMO_STAFF:
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
                phone=f"+1 416 555 01{len(username):02d}",
                title=title,
            )
            created += 1
        self._demo_leads()
        if leads:
            self._bulk_leads(leads)
        self.stdout.write(f"Demo dealership ready ({created} staff created, {Lead.objects.count()} leads).")
        self.stdout.write(
            "Demo logins (password: {}): {}".format(password, ", ".join(s[0] for s in DEMO_STAFF))
        )

    def _demo_leads(self):
        if Lead.objects.filter(customer__email=DEMO_CUSTOMERS[0][2]).exists():
            return
        now = timezone.now()
        advisors = list(StaffMember.objects.filter(role=Role.ADVISOR).select_related("user"))
        statuses = list(LeadStatus)
        for index, (first, last, email, phone, language) in enumerate(DEMO_CUSTOMERS):
            customer, _ = customer_find_or_create(
                email=email, phone=phone, first_name=first, last_name=last, language=language
            )
            lead = lead_create(
                customer=customer,
                source=SOURCES[index % len(SOURCES)],
                received_at=now - timedelta(minutes=7 + 45 * index),
                comments="Is this vehicle still available? What is the best price?",
                vehicles=[{**DEMO_VEHICLES[index % len(DEMO_VEHICLES)], "interest": "buy"}],
            )
            status = statuses[index % len(statuses)]
            Lead.objects.filter(pk=lead.pk).update(
                status=status,
                owner=advisors[index % len(advisors)].user if advisors and status != LeadStatus.NEW else None,
                lost_reason="Bought elsewhere" if status == LeadStatus.LOST else "",
            )

    def _bulk_leads(self, count: int, batch: int = 5000):
        """Many plain leads for benchmarks: bulk inserts, one customer each."""
        rng = random.Random(42)
        start = Customer.objects.filter(email__startswith="bulk").count()
        now = timezone.now()
        for offset in range(start, start + count, batch):
            size = min(batch, start + count - offset)
            customers = Customer.objects.bulk_create(
                Customer(first_name=f"Bulk{n}", last_name="Customer", email=f"bulk{n}@example.net")
                for n in range(offset, offset + size)
            )
            new_leads = Lead.objects.bulk_create(
                Lead(
                    customer=customer,
                    source=rng.choice(SOURCES),
                    status=rng.choice(LeadStatus.values),
                    received_at=now - timedelta(minutes=rng.randint(1, 60 * 24 * 365)),
                )
                for customer in customers
            )
            LeadVehicle.objects.bulk_create(
                LeadVehicle(lead=lead, **rng.choice(DEMO_VEHICLES)) for lead in new_leads
            )
            LeadEvent.objects.bulk_create(LeadEvent(lead=lead, type="created") for lead in new_leads)
