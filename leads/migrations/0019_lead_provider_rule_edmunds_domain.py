"""The default lead-provider rule named Edmunds, which is also a surname, by its domain: a store
that has the rule as it came takes "edmunds.com" instead of "edmunds". Edited rules stay as they are."""

from django.db import migrations

OLD = "autotrader, cars.com, cargurus, kijiji, edmunds, truecar, carfax, autohebdo"
NEW = "autotrader, cars.com, cargurus, kijiji, edmunds.com, truecar, carfax, autohebdo"


def edmunds_by_domain(apps, schema_editor):
    apps.get_model("leads", "RoutingRule").objects.filter(sender_contains=OLD).update(sender_contains=NEW)


class Migration(migrations.Migration):
    dependencies = [("leads", "0018_customer_search_unaccented")]

    operations = [migrations.RunPython(edmunds_by_domain, migrations.RunPython.noop)]
