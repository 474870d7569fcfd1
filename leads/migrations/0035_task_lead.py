"""A next step's lead is a link of its own, no longer an id in its params.

Each next step takes the lead its params name; one whose lead is no longer there keeps none.
Undone, the lead goes back into the params.
"""

import django.db.models.deletion
from django.db import migrations, models

NEXT_STEP = "next_step"


def lead_from_params(apps, schema_editor):
    Task = apps.get_model("leads", "Task")
    Lead = apps.get_model("leads", "Lead")
    tasks = list(Task.objects.filter(kind=NEXT_STEP, params__has_key="lead"))
    named = {task.params["lead"] for task in tasks}
    leads = set(Lead.objects.filter(pk__in=named).values_list("pk", flat=True))
    for task in tasks:
        lead_id = task.params.pop("lead")
        task.lead_id = lead_id if lead_id in leads else None
    Task.objects.bulk_update(tasks, ["lead", "params"], batch_size=500)


def lead_to_params(apps, schema_editor):
    Task = apps.get_model("leads", "Task")
    tasks = list(Task.objects.filter(kind=NEXT_STEP, lead__isnull=False))
    for task in tasks:
        task.params = {"lead": task.lead_id, **task.params}
    Task.objects.bulk_update(tasks, ["params"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("leads", "0034_consent_ends_when_a_purchase_is_undone")]

    operations = [
        migrations.AddField(
            model_name="task",
            name="lead",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="tasks",
                to="leads.lead",
            ),
        ),
        migrations.RunPython(lead_from_params, lead_to_params),
    ]
