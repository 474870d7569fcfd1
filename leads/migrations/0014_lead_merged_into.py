"""Merged duplicates: marked on the lead, and left out of the dashboard's hourly summary rows.

On PostgreSQL the trigger of migration 0004 now counts a lead only while it is not merged into
another, follows changes of merged_into, and the summary rows are rebuilt once.
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models

hour_stats = importlib.import_module("leads.migrations.0004_lead_hour_stats_trigger")
UPDATE_COLUMNS = (
    "received_at, source, owner_id, contacted_at, appointment_set_at, shown_at, sold_at, "
    "first_response_business_minutes"
)


def _trigger_sql(*, counted: str, columns: str, bucket: str = hour_stats.HOUR_BUCKET) -> str:
    """The trigger function and its update trigger, counting the rows where `counted` holds
    (written for NEW; OLD is put in its place), then the summary rows rebuilt from the leads.
    `bucket`: the summary row's time from received_at, as in hour_stats._values."""
    old_counted, new_counted = counted.replace("ROW.", "OLD."), counted.replace("ROW.", "NEW.")
    where = counted.replace("ROW.", "")
    return f"""
CREATE OR REPLACE FUNCTION leads_lead_hour_stats() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        IF {old_counted} THEN
            {hour_stats._values("OLD", "-", bucket)}
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        IF {new_counted} THEN
            {hour_stats._values("NEW", "", bucket)}
        END IF;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS leads_lead_hour_stats_update ON leads_lead;
CREATE TRIGGER leads_lead_hour_stats_update AFTER UPDATE OF {columns} ON leads_lead
    FOR EACH ROW EXECUTE FUNCTION leads_lead_hour_stats();

DELETE FROM leads_leadhourstats;
INSERT INTO leads_leadhourstats (hour, source, owner_key, {", ".join(hour_stats.COLUMNS)})
SELECT {bucket.format("received_at")}, source, COALESCE(owner_id, 0), count(*), count(contacted_at),
       count(appointment_set_at), count(shown_at), count(sold_at), count(first_response_business_minutes),
       {", ".join(f"count(*) FILTER (WHERE first_response_business_minutes <= {edge})" for edge in hour_stats.EDGES)}
FROM leads_lead WHERE {where} GROUP BY 1, 2, 3;
"""


def count_only_unmerged(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            _trigger_sql(counted="ROW.merged_into_id IS NULL", columns=f"{UPDATE_COLUMNS}, merged_into_id")
        )


def count_every_lead(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_trigger_sql(counted="true", columns=UPDATE_COLUMNS))


def mark_merged_duplicates(apps, schema_editor):
    """Leads merged before this field existed: their "merged" event names the lead they went into."""
    Lead = apps.get_model("leads", "Lead")
    LeadEvent = apps.get_model("leads", "LeadEvent")
    for lead_id, params in LeadEvent.objects.filter(type="merged").values_list("lead_id", "params"):
        into = (params or {}).get("into_lead")
        if into and Lead.objects.filter(pk=into).exists():
            Lead.objects.filter(pk=lead_id).update(merged_into_id=into)


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0013_lead_vehicle_wanted"),
    ]

    operations = [
        migrations.AddField(
            model_name="lead",
            name="merged_into",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="merged_leads",
                to="leads.lead",
            ),
        ),
        migrations.RunPython(mark_merged_duplicates, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(count_only_unmerged, count_every_lead),
    ]
