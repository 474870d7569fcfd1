from django import forms

from .models import Lead, LeadStatus, RoutingRule
from .services.leads import LEAD_TRANSITIONS
from .services.routing import RULE_FIELDS


class LeadTransitionForm(forms.Form):
    status = forms.ChoiceField()
    reason = forms.CharField(required=False, max_length=200, label="Reason (when lost)")

    def __init__(self, *args, lead: Lead, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = LEAD_TRANSITIONS[lead.status]
        self.fields["status"].choices = [
            (value, label) for value, label in LeadStatus.choices if value in allowed
        ]


class RoutingRuleForm(forms.ModelForm):
    class Meta:
        model = RoutingRule
        fields = list(RULE_FIELDS)
        widgets = {"text_contains": forms.Textarea(attrs={"rows": 3})}


class MailTestForm(forms.Form):
    """A raw message to triage: pasted, or an uploaded .eml file."""

    raw = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 12}), label="Raw message (headers and body)"
    )
    eml = forms.FileField(required=False, label="Or upload an .eml file")

    MAX_BYTES = 25 * 1024 * 1024

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("eml")
        if upload and upload.size > self.MAX_BYTES:
            raise forms.ValidationError("The file is larger than 25 MB.")
        if not upload and not (cleaned.get("raw") or "").strip():
            raise forms.ValidationError("Paste a message or choose an .eml file.")
        return cleaned

    def message_bytes(self) -> bytes:
        upload = self.cleaned_data.get("eml")
        if upload:
            return upload.read()
        # A pasted message: browsers send CRLF or LF; both parse.
        return self.cleaned_data["raw"].encode("utf-8")
