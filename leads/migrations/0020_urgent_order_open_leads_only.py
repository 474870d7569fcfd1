# "Most urgent first" puts only open leads still waiting on top; its index follows the new order.

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0019_lead_provider_rule_edmunds_domain'),
        ('promotions', '0002_timeline_events'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='lead',
            name='lead_urgent_idx',
        ),
        migrations.AddIndex(
            model_name='lead',
            index=models.Index(models.Case(models.When(first_response_at__isnull=True, status__in=['new', 'contacted', 'appointment_set', 'shown'], then=models.Value(0)), default=models.Value(1), output_field=models.IntegerField()), models.F('received_at'), models.F('id'), condition=models.Q(('status__in', ['new', 'contacted', 'appointment_set', 'shown'])), name='lead_urgent_idx'),
        ),
    ]
