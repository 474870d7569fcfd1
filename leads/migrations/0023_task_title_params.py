"""A loyalty task's title is made in the reader's language from its kind and params.

Existing tasks get their params from their English title where it reads exactly as it was made
(and, for an anniversary, from the purchase or lease it is about); a title that does not, such as
one cut at 300 characters, keeps no params and is shown as it was written.
"""

import re

from django.db import migrations, models

TITLE_LENGTH = 300
ANNIVERSARY = re.compile(r"(\d+)-year anniversary of (.+)")
TERM = re.compile(r"(?:(Cash|Financing|Lease) term|Term) ends (\d{4}-\d{2}-\d{2}): (.+)")
WARRANTY = re.compile(r"Warranty ends (\d{4}-\d{2}-\d{2}): (.+)")
HIGH_MILEAGE = re.compile(r"(\d{1,3}(?:,\d{3})*) km on (.+): offer a trade-in appraisal")
LOST_LEAD = re.compile(r"Lost lead from (\d{4}-\d{2}-\d{2}) \((.*)\): worth another try")
DEALS = {"Cash": "cash", "Financing": "finance", "Lease": "lease"}


def params_from_title(task, history_items) -> dict:
    title = task.title
    if len(title) >= TITLE_LENGTH:  # possibly cut: its end is not what was written
        return {}
    if task.kind == "purchase_anniversary" and (match := ANNIVERSARY.fullmatch(title)):
        params = {"years": int(match[1]), "summary": match[2]}
        item_pk = task.moment_key.split(":")[0]
        item = history_items.filter(pk=item_pk).first() if item_pk.isdigit() else None
        if item is not None and item.summary == match[2] and item.kind in ("purchase", "lease"):
            params.update(deal=item.kind, vehicle=item.vehicle)
        return params
    if task.kind == "term_ending" and (match := TERM.fullmatch(title)):
        params = {"ends": match[2], "vehicle": match[3]}
        if match[1]:
            params["deal"] = DEALS[match[1]]
        return params
    if task.kind == "warranty_ending" and (match := WARRANTY.fullmatch(title)):
        return {"ends": match[1], "vehicle": match[2]}
    if task.kind == "high_mileage" and (match := HIGH_MILEAGE.fullmatch(title)):
        vehicle = "" if match[2] == "their vehicle" else match[2]
        return {"km": int(match[1].replace(",", "")), "vehicle": vehicle}
    if task.kind == "lost_lead_revival" and (match := LOST_LEAD.fullmatch(title)):
        return {"received": match[1], "reason": match[2]}
    return {}


def fill_params(apps, schema_editor):
    Task = apps.get_model("leads", "Task")
    CustomerHistoryItem = apps.get_model("leads", "CustomerHistoryItem")
    changed = []
    for task in Task.objects.iterator():
        task.params = params_from_title(task, CustomerHistoryItem.objects.all())
        if task.params:
            changed.append(task)
    Task.objects.bulk_update(changed, ["params"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("leads", "0022_lead_customer_waiting_since")]

    operations = [
        migrations.AddField(
            model_name="task",
            name="params",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(fill_params, migrations.RunPython.noop),
    ]
