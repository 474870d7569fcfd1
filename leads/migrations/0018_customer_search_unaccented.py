"""The inbox's customer search compares names without their accents ("Cote" finds "Côté"): the
trigram index of migration 0003 is built again from the search expression as it now is."""

import importlib

from django.db import migrations

search_index = importlib.import_module("leads.migrations.0003_workbench_customer_search_indexes")


def rebuild(apps, schema_editor):
    search_index.drop(apps, schema_editor)
    search_index.create(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("leads", "0017_default_templates_say_availability")]

    operations = [migrations.RunPython(rebuild, rebuild)]
