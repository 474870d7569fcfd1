"""Indexes for the inbox search: the last characters of a lead vehicle's VIN (a VIN's end read off
a windshield is looked up on them), and, on PostgreSQL, trigram indexes on the numbers and
addresses customers have besides their main ones (part of one finds the customer)."""

import django.db.models.functions.text
from django.db import migrations, models

TRIGRAM_INDEXES = {
    "customerphone_phone_trgm": ("leads_customerphone", "phone"),
    "customeremail_email_trgm": ("leads_customeremail", "email"),
}


def trigram_indexes_create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, (table, column) in TRIGRAM_INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column} gin_trgm_ops)")


def trigram_indexes_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in TRIGRAM_INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("leads", "0028_customer_names_one_character_per_letter")]

    operations = [
        migrations.AddIndex(
            model_name="leadvehicle",
            index=models.Index(
                django.db.models.functions.text.Upper(django.db.models.functions.text.Right("vin", 6)),
                name="leadvehicle_vin_tail_idx",
            ),
        ),
        migrations.RunPython(trigram_indexes_create, trigram_indexes_drop),
    ]
