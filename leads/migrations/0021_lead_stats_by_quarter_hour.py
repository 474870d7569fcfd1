"""The dashboard's summary rows count leads by quarter hour instead of by hour.

A row's time was the UTC hour, so in a zone offset by half an hour (Newfoundland, UTC−3:30) each row
straddled two local hours: the dashboard put leads in the wrong hour, and those received in the
first half hour of a day, week or month in the period before. Every zone's offset is a whole number
of quarter hours, so quarter-hour rows add up to exact local hours and days. On PostgreSQL the
trigger function is rewritten and the rows rebuilt once; other databases count leads directly.
"""

import importlib

from django.db import migrations

merged = importlib.import_module("leads.migrations.0014_lead_merged_into")

# From a UTC midnight, so that the bins fall on quarter hours whatever the session's time zone.
QUARTER_HOUR_BUCKET = "date_bin('15 minutes', {}, TIMESTAMPTZ '2000-01-01 00:00+00')"
COUNTED = "ROW.merged_into_id IS NULL"
COLUMNS = f"{merged.UPDATE_COLUMNS}, merged_into_id"


def by_quarter_hour(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            merged._trigger_sql(counted=COUNTED, columns=COLUMNS, bucket=QUARTER_HOUR_BUCKET)
        )


def by_hour(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(merged._trigger_sql(counted=COUNTED, columns=COLUMNS))


class Migration(migrations.Migration):
    dependencies = [("leads", "0020_urgent_order_open_leads_only")]

    operations = [migrations.RunPython(by_quarter_hour, by_hour)]
