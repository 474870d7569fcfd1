"""One proposed or approved objective per metric, person and period. Targets already doubled stay,
rejected, with an event saying which one they doubled: the approved one is kept, else the first."""

import django.db.models.functions.comparison
from django.db import migrations, models


def doubled_objectives_reject(apps, schema_editor):
    Objective = apps.get_model("dealership", "Objective")
    ObjectiveEvent = apps.get_model("dealership", "ObjectiveEvent")
    kept = {}
    open_objectives = Objective.objects.filter(status__in=["proposed", "approved"])
    # Approved ones first (status "approved" sorts before "proposed"), then the oldest.
    for objective in open_objectives.order_by("status", "created_at", "pk"):
        scope = (objective.metric, objective.period_kind, objective.period_start, objective.person_id)
        if scope not in kept:
            kept[scope] = objective
            continue
        ObjectiveEvent.objects.create(
            objective=objective,
            type="status_changed",
            params={
                "from": objective.status,
                "to": "rejected",
                "note": f"Doubles objective {kept[scope].pk}, kept as {kept[scope].status}.",
            },
        )
        objective.status = "rejected"
        objective.save(update_fields=["status"])


class Migration(migrations.Migration):
    dependencies = [
        ("dealership", "0004_staff_role_access"),
    ]

    operations = [
        migrations.RunPython(doubled_objectives_reject, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="objective",
            constraint=models.UniqueConstraint(
                models.F("metric"),
                models.F("period_kind"),
                models.F("period_start"),
                django.db.models.functions.comparison.Coalesce(models.F("person"), models.Value(0)),
                condition=models.Q(("status__in", ["proposed", "approved"])),
                name="objective_one_open_per_metric_person_period",
            ),
        ),
    ]
