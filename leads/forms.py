from django import forms

from .models import Lead, LeadStatus
from .services.leads import LEAD_TRANSITIONS


class LeadTransitionForm(forms.Form):
    status = forms.ChoiceField()
    reason = forms.CharField(required=False, max_length=200, label="Reason (when lost)")

    def __init__(self, *args, lead: Lead, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = LEAD_TRANSITIONS[lead.status]
        self.fields["status"].choices = [
            (value, label) for value, label in LeadStatus.choices if value in allowed
        ]
