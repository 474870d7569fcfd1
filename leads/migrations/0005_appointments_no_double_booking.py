"""On PostgreSQL the database itself refuses two overlapping appointments for one advisor.

SQLite has no exclusion constraints; there the booking service's check under the advisor's row
lock is the guard (it is on PostgreSQL too, this is the second line).
"""

from django.db import migrations

BLOCKING = "('booked', 'shown', 'sold')"


def add_exclusion(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    schema_editor.execute(
        "ALTER TABLE leads_appointment ADD CONSTRAINT appointment_no_overlap_per_advisor "
        "EXCLUDE USING gist (advisor_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
        f"WHERE (status IN {BLOCKING})"
    )


def drop_exclusion(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "ALTER TABLE leads_appointment DROP CONSTRAINT IF EXISTS appointment_no_overlap_per_advisor"
    )


class Migration(migrations.Migration):
    dependencies = [("leads", "0004_appointments_followup_and_appointments")]

    operations = [migrations.RunPython(add_exclusion, drop_exclusion, elidable=False)]
