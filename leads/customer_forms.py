from django import forms
from django.utils import timezone

from .models import ConsentBasis, ConsentChannel, Customer, CustomerPhone
from .selectors.customers import CUSTOMER_FIELDS
from .services.customer_import import TARGETS


class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = CUSTOMER_FIELDS
        widgets = {"notes": forms.Textarea(attrs={"rows": 4})}


class ContactAddForm(forms.Form):
    email = forms.CharField(required=False, max_length=254, label="Another email")
    phone = forms.CharField(required=False, max_length=40, label="Another phone")
    phone_kind = forms.ChoiceField(choices=CustomerPhone.Kind.choices, required=False, label="Phone type")

    def clean(self):
        data = super().clean()
        if not data.get("email") and not data.get("phone"):
            raise forms.ValidationError("Enter an email or a phone number.")
        return data


class ConsentGrantForm(forms.Form):
    channels = forms.MultipleChoiceField(choices=ConsentChannel.choices, widget=forms.CheckboxSelectMultiple)
    basis = forms.ChoiceField(choices=ConsentBasis.choices, initial=ConsentBasis.EXPRESS)
    at = forms.DateTimeField(initial=timezone.now, label="Given at", help_text="When the customer gave it.")
    source = forms.CharField(max_length=200, help_text="Where: showroom, phone call, web form…")
    wording = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                              help_text="The words the customer agreed to (needed for express consent).")  # fmt: skip
    proof_form = forms.CharField(required=False, max_length=200, label="Form or document (proof)")
    relationship_ends_at = forms.DateTimeField(required=False, label="Contract ends (written contract only)")


class ConsentWithdrawForm(forms.Form):
    channels = forms.MultipleChoiceField(choices=ConsentChannel.choices, widget=forms.CheckboxSelectMultiple)
    source = forms.CharField(max_length=200, initial="Told staff", help_text="How the customer asked.")


class ImportUploadForm(forms.Form):
    file = forms.FileField(label="CSV export from the dealer management system")


class ImportMappingForm(forms.Form):
    """One choice per column of the file: which field it holds, or nothing."""

    def __init__(self, *args, header: list[str], initial_mapping: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "— ignore —"), *TARGETS.items()]
        self.columns = header
        for index, column in enumerate(header):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                choices=choices, required=False, label=column, initial=initial_mapping.get(column, "")
            )

    def mapping(self) -> dict[str, str]:
        return {
            col: self.cleaned_data[f"col_{i}"]
            for i, col in enumerate(self.columns)
            if self.cleaned_data[f"col_{i}"]
        }
