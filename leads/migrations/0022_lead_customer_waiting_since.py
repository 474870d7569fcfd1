"""Leads whose customer wrote again after a person answered, and who still wait for an answer.

Existing leads are marked from their conversation: the customer's latest mail, when it came after
the latest answer from a person (an email or text sent, a call, a visit) and after the first one.
"""

from django.db import migrations, models
from django.db.models import OuterRef, Q, Subquery


def mark_customers_waiting(apps, schema_editor):
    Lead = apps.get_model("leads", "Lead")
    Message = apps.get_model("leads", "Message")

    def latest(which: Q) -> Subquery:
        return Subquery(
            Message.objects.filter(which, lead=OuterRef("pk"))
            .order_by("-occurred_at")
            .values("occurred_at")[:1]
        )

    waiting = (
        Lead.objects.filter(first_response_at__isnull=False, merged_into__isnull=True)
        .annotate(
            last_in=latest(Q(direction="in")),
            # The automatic acknowledgement has no author: it answers nobody.
            last_answer=latest(Q(direction="out", author__isnull=False)),
        )
        .filter(last_in__gt=models.F("first_response_at"))
        .filter(Q(last_answer__isnull=True) | Q(last_in__gt=models.F("last_answer")))
    )
    # One UPDATE, whatever the number of leads.
    Lead.objects.filter(pk__in=waiting.values("pk")).update(customer_waiting_since=latest(Q(direction="in")))


class Migration(migrations.Migration):
    dependencies = [("leads", "0021_lead_stats_by_quarter_hour")]

    operations = [
        migrations.AddField(
            model_name="lead",
            name="customer_waiting_since",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                condition=models.Q(("customer_waiting_since__isnull", False)),
                fields=["customer_waiting_since"],
                name="lead_customer_waiting_idx",
            ),
        ),
        migrations.RunPython(mark_customers_waiting, migrations.RunPython.noop, elidable=True),
    ]
