# A person's objectives are kept: deleting their staff record is refused while it holds any.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('dealership', '0005_one_open_objective_per_period'),
    ]

    operations = [
        migrations.AlterField(
            model_name='objective',
            name='person',
            field=models.ForeignKey(blank=True, help_text='Empty: the whole internet department.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='objectives', to='dealership.staffmember'),
        ),
    ]
