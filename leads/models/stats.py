from django.db import models
from django.utils.translation import gettext_lazy as _


class LeadHourStats(models.Model):
    """Leads received in one quarter hour from one source for one owner, with how far they went.

    Kept by a PostgreSQL trigger on leads_lead (migrations 0004, 0014, 0021), so the figures follow
    every insert, update and delete whatever code made it; the dashboard adds these rows up instead
    of scanning every lead. `hour`: the start of the quarter hour; quarter hours, so that rows add
    up to whole local hours and days in any time zone, Newfoundland's half hour included.
    `answered_within_N`: first answered within N business minutes.
    """

    hour = models.DateTimeField()
    source = models.CharField(max_length=100)
    owner_key = models.IntegerField(help_text=_("The owner's user id; 0 when unassigned."))
    leads = models.IntegerField(default=0)
    contacted = models.IntegerField(default=0)
    appointment_set = models.IntegerField(default=0)
    shown = models.IntegerField(default=0)
    sold = models.IntegerField(default=0)
    answered = models.IntegerField(default=0)
    answered_within_5 = models.IntegerField(default=0)
    answered_within_15 = models.IntegerField(default=0)
    answered_within_30 = models.IntegerField(default=0)
    answered_within_60 = models.IntegerField(default=0)
    answered_within_240 = models.IntegerField(default=0)
    answered_within_1440 = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("leads of a quarter hour")
        verbose_name_plural = _("leads by quarter hour")
        constraints = [
            models.UniqueConstraint(fields=["hour", "source", "owner_key"], name="lead_hour_stats_key")
        ]

    def __str__(self):
        return f"{self.hour:%Y-%m-%d %H:%M} {self.source}: {self.leads} leads"
