"""Customer search reads ’ as ' and hyphens and commas as spaces ("d'amours" finds "D’Amours",
"marie-eve" finds "Marie-Ève"): the trigram index of migration 0003 is built again from the search
expression as it now is, as migration 0018 did, or the inbox search would stop using it."""

import importlib

from django.db import migrations

rebuild = importlib.import_module("leads.migrations.0018_customer_search_unaccented").rebuild


class Migration(migrations.Migration):
    dependencies = [("leads", "0030_default_templates_follow_the_stock")]

    operations = [migrations.RunPython(rebuild, rebuild)]
