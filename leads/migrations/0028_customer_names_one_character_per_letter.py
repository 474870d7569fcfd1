"""Names stored with an accent as a letter of its own ("e" and an acute accent, as some mailers
send them) become one character per letter, as every new name is kept: search finds them again."""

import unicodedata

from django.db import migrations


def names_composed(apps, schema_editor):
    Customer = apps.get_model("leads", "Customer")
    changed = []
    for customer in Customer.objects.only("pk", "first_name", "last_name").iterator(chunk_size=2000):
        first, last = (unicodedata.normalize("NFC", name) for name in (customer.first_name, customer.last_name))
        if (first, last) != (customer.first_name, customer.last_name):
            customer.first_name, customer.last_name = first, last
            changed.append(customer)
    Customer.objects.bulk_update(changed, ["first_name", "last_name"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("leads", "0027_urgent_order_counts_customers_waiting")]

    operations = [migrations.RunPython(names_composed, migrations.RunPython.noop)]
