"""Trigram indexes for the inbox search on PostgreSQL: "contains" matches on names, email and phone
without reading every customer. Other databases search without them."""

from django.db import migrations

COLUMNS = {
    "customer_first_name_trgm": "(UPPER(first_name::text)) gin_trgm_ops",
    "customer_last_name_trgm": "(UPPER(last_name::text)) gin_trgm_ops",
    "customer_email_trgm": "(UPPER(email::text)) gin_trgm_ops",
    "customer_phone_trgm": "phone gin_trgm_ops",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in COLUMNS.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON leads_customer USING gin ({column})")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("leads", "0002_workbench_reply_templates_first_response")]

    operations = [migrations.RunPython(create, drop)]
