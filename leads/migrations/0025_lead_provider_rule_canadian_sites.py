"""Canada's other lead providers (LesPAC, CarPages, Unhaggle, CarCostCanada) join the default
lead-provider rule of a store that has it as it came. Edited rules stay as they are."""

from django.db import migrations

OLD = "autotrader, cars.com, cargurus, kijiji, edmunds.com, truecar, carfax, autohebdo"
NEW = OLD + ", lespac, carpages, unhaggle, carcostcanada"


def canadian_providers_add(apps, schema_editor):
    apps.get_model("leads", "RoutingRule").objects.filter(sender_contains=OLD).update(sender_contains=NEW)


class Migration(migrations.Migration):
    dependencies = [("leads", "0024_inbound_outcome_unsubscribed")]

    operations = [migrations.RunPython(canadian_providers_add, migrations.RunPython.noop)]
