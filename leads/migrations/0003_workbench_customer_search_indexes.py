"""A trigram index for the inbox search on PostgreSQL: "contains" matches on a customer's name,
email and phone together without reading every customer. Other databases search without it.

The indexed expression is compiled from leads.selectors.leads.CUSTOMER_SEARCH_TEXT, the very
expression the search filters on, so the two cannot drift apart.
"""

from django.db import migrations
from django.db.models.sql import Query

INDEX = "customer_search_text_trgm"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from leads.selectors.leads import CUSTOMER_SEARCH_TEXT

    query = Query(apps.get_model("leads", "Customer"), alias_cols=False)
    sql, params = CUSTOMER_SEARCH_TEXT.resolve_expression(query).as_sql(
        query.get_compiler(connection=schema_editor.connection), schema_editor.connection
    )
    expression = sql % tuple(schema_editor.quote_value(param) for param in params)
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON leads_customer USING gin (({expression}) gin_trgm_ops)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("leads", "0002_workbench_reply_templates_first_response")]

    operations = [migrations.RunPython(create, drop)]
