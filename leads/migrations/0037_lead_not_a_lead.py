"""A lead may be closed as "not a lead" (spam, a test of the website, the wrong store), and a follow-up
plan stops for it; such an inquiry is left out of the dashboard's summary rows.

On PostgreSQL the trigger function of migration 0021 now counts a lead only while it is neither
merged into another nor closed as not a lead, follows changes of status, and the summary rows are
rebuilt once.
"""

import importlib

from django.db import migrations, models

merged = importlib.import_module("leads.migrations.0014_lead_merged_into")
by_quarter_hour = importlib.import_module("leads.migrations.0021_lead_stats_by_quarter_hour")

COUNTED = f"{by_quarter_hour.COUNTED} AND ROW.status <> 'not_a_lead'"
COLUMNS = f"{by_quarter_hour.COLUMNS}, status"


def count_leads_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            merged._trigger_sql(counted=COUNTED, columns=COLUMNS, bucket=by_quarter_hour.QUARTER_HOUR_BUCKET)
        )


def count_not_a_lead_too(apps, schema_editor):
    by_quarter_hour.by_quarter_hour(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0036_lead_sold_by"),
    ]

    operations = [
        migrations.AlterField(
            model_name="followupenrollment",
            name="stop_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("customer_replied", "The customer replied"),
                    ("appointment_booked", "An appointment was booked"),
                    ("sold", "The lead was sold"),
                    ("lost", "The lead was lost"),
                    ("not_a_lead", "The inquiry was not a lead"),
                    ("unsubscribed", "The customer unsubscribed or has no consent for commercial mail"),
                    ("by_hand", "Stopped by hand"),
                    ("completed", "Every step done"),
                ],
                max_length=30,
            ),
        ),
        migrations.AlterField(
            model_name="lead",
            name="status",
            field=models.CharField(
                choices=[
                    ("new", "New"),
                    ("contacted", "Contacted"),
                    ("appointment_set", "Appointment set"),
                    ("shown", "Shown"),
                    ("sold", "Sold"),
                    ("lost", "Lost"),
                    ("not_a_lead", "Not a lead"),
                ],
                default="new",
                max_length=20,
            ),
        ),
        migrations.RunPython(count_leads_only, count_not_a_lead_too),
    ]
