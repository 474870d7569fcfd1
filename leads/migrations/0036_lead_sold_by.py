"""A lead records who made its sale (sold_by): the figures by person credit a sale to its seller,
whoever owns the lead since.

A lead already sold is credited as lead_transition credits a sale: to its owner when it was sold,
read from its timeline (its owner now, followed back through the changes of owner since its sale;
with no line of its sale, its owner now); sold while nobody owned it, to whoever recorded the sale
when they may own leads.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import Q

SOLD = "sold"
LEAD_OWNER_ROLES = ("advisor", "supervisor", "manager")


def _owners_at_sale(events, owners_now: dict[int, int | None]) -> dict[int, tuple]:
    """Per lead, from its sales and changes of owner, newest first: (its owner when it was last
    sold; who recorded that sale). Followed back from its owner now along the changes that gave the
    lead to whoever had it then: a merged duplicate's changes of owner, moved onto the lead with the
    rest of its timeline, give it to someone else and are passed over."""
    leads: dict[int, dict] = {}
    for lead_id, event_type, actor_id, params in events:
        lead = leads.setdefault(lead_id, {"owner": owners_now.get(lead_id), "sale": None})
        if lead["sale"] is not None:
            continue  # the latest sale is found: what came before it does not matter
        if event_type == "status_changed":
            lead["sale"] = (lead["owner"], actor_id)
        elif params.get("owner_id") == lead["owner"]:
            lead["owner"] = params.get("previous_owner_id")
    return {lead_id: lead["sale"] for lead_id, lead in leads.items() if lead["sale"] is not None}


def sellers_fill(apps, schema_editor):
    Lead = apps.get_model("leads", "Lead")
    LeadEvent = apps.get_model("leads", "LeadEvent")
    StaffMember = apps.get_model("dealership", "StaffMember")
    User = apps.get_model(settings.AUTH_USER_MODEL)
    events = (
        LeadEvent.objects.filter(lead__status=SOLD)
        .filter(
            Q(type="status_changed", params__to_status=SOLD) | Q(type="assigned", params__has_key="owner_id")
        )
        .order_by("-created_at", "-pk")
        .values_list("lead_id", "type", "actor_id", "params")
    )
    leads = list(Lead.objects.filter(status=SOLD).only("pk", "owner_id"))
    at_sale = _owners_at_sale(events.iterator(), {lead.pk: lead.owner_id for lead in leads})
    may_own = set(StaffMember.objects.filter(role__in=LEAD_OWNER_ROLES).values_list("user_id", flat=True))
    people = set(User.objects.values_list("pk", flat=True))  # a timeline may name someone since deleted
    for lead in leads:
        owner, actor = at_sale.get(lead.pk, (lead.owner_id, None))
        seller = owner if owner is not None else actor if actor in may_own else None
        lead.sold_by_id = seller if seller in people else None
    Lead.objects.bulk_update(leads, ["sold_by"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0035_task_lead"),
        ("dealership", "0008_role_groups_in_one_language"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="lead",
            name="sold_by",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="leads_sold",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(sellers_fill, migrations.RunPython.noop),
    ]
