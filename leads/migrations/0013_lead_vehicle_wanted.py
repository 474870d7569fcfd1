from django.db import migrations, models
from django.db.models import CharField, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Concat, Trim


def fill_vehicle_wanted(apps, schema_editor):
    """Every existing lead's line, in one UPDATE, as the inbox worked it out until now."""
    Lead = apps.get_model("leads", "Lead")
    LeadVehicle = apps.get_model("leads", "LeadVehicle")
    first_wanted = (
        LeadVehicle.objects.filter(lead=OuterRef("pk"))
        .exclude(interest__in=["sell", "trade-in"])
        .order_by("pk")
        .annotate(
            summary=Trim(
                Concat(
                    Coalesce(Cast("year", CharField()), Value("")),
                    Value(" "),
                    "make",
                    Value(" "),
                    "model",
                    Value(" "),
                    "trim",
                    output_field=CharField(),
                )
            )
        )
        .values("summary")[:1]
    )
    Lead.objects.update(vehicle_wanted=Coalesce(Subquery(first_wanted), Value("")))


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0012_timeline_events"),
    ]

    operations = [
        migrations.AddField(
            model_name="lead",
            name="vehicle_wanted",
            field=models.CharField(blank=True, editable=False, max_length=200),
        ),
        migrations.RunPython(fill_vehicle_wanted, migrations.RunPython.noop, elidable=True),
    ]
