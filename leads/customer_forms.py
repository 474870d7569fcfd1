from dateutil.relativedelta import relativedelta
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .forms import choices_from
from .models import ConsentBasis, ConsentChannel, Customer, CustomerPhone, Household
from .selectors.customers import CUSTOMER_FIELDS, households_to_choose
from .services.customer_import import TARGETS
from .services.customers import clean_contact

# A phone as people type it ("(514) 555-0123 poste 12"), longer than the number it is stored as.
PHONE_TYPED_LONGEST = 40


def _household_label(household: Household) -> str:
    """ "Tremblay (household) — Jean, Marie · Lévis": two Tremblay households told apart."""
    members = list(household.members.all())
    names = ", ".join(dict.fromkeys(member.first_name or str(member) for member in members))
    cities = " / ".join(dict.fromkeys(member.city for member in members if member.city))
    return " · ".join(
        part for part in (f"{household} — {names}" if names else str(household), cities) if part
    )


class CustomerSearchForm(forms.Form):
    """The customer list's search; one it cannot take (a NUL character pasted in) is not applied,
    and the page says why, as the inbox does."""

    q = forms.CharField(required=False, label=_("Search"))


class CustomerForm(forms.ModelForm):
    phone = forms.CharField(required=False, max_length=PHONE_TYPED_LONGEST, label=_("Phone"))
    new_household = forms.CharField(
        required=False, max_length=200, label=_("Or a new household or company"), help_text=_("Its name.")
    )
    new_household_kind = forms.ChoiceField(
        choices=Household.Kind.choices, required=False, label=_("Which is a")
    )

    class Meta:
        model = Customer
        fields = CUSTOMER_FIELDS
        widgets = {"notes": forms.Textarea(attrs={"rows": 4})}
        labels = {
            "first_name": _("First name"),
            "last_name": _("Last name"),
            "email": _("Email"),
            "preferred_channel": _("Preferred channel"),
            "language": _("Language"),
            "street": _("Street"),
            "city": _("City"),
            "province": _("Province"),
            "postal_code": _("Postal code"),
            "household": _("Household"),
            "notes": _("Notes"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices_from(self.fields["household"], households_to_choose(), label=_household_label)

    def clean_phone(self) -> str:
        # Read as the number it stands for, so its extension or its spaces are not taken for its length.
        try:
            return clean_contact(phone=self.cleaned_data["phone"])[1]
        except ValidationError as error:
            raise forms.ValidationError(error.message_dict["phone"]) from None


class ContactAddForm(forms.Form):
    email = forms.CharField(required=False, max_length=254, label=_("Another email"))
    phone = forms.CharField(required=False, max_length=PHONE_TYPED_LONGEST, label=_("Another phone"))
    phone_kind = forms.ChoiceField(choices=CustomerPhone.Kind.choices, required=False, label=_("Phone type"))

    def clean(self):
        data = super().clean()
        if not data.get("email") and not data.get("phone"):
            raise forms.ValidationError(_("Enter an email or a phone number."))
        return data


# A written contract ending further off is a year typed wrong (9999 for 2029): the two years of
# consent counted from its end would even run past the calendar's last year.
CONTRACT_YEARS_AHEAD = 50


class ConsentGrantForm(forms.Form):
    channels = forms.MultipleChoiceField(
        choices=ConsentChannel.choices, widget=forms.CheckboxSelectMultiple, label=_("Channels")
    )
    basis = forms.ChoiceField(choices=ConsentBasis.choices, initial=ConsentBasis.EXPRESS, label=_("Basis"))
    at = forms.DateTimeField(
        initial=timezone.now, label=_("Given at"), help_text=_("When the customer gave it.")
    )
    source = forms.CharField(
        max_length=200, label=_("Source"), help_text=_("Where: showroom, phone call, web form…")
    )
    wording = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label=_("Wording"),
                              help_text=_("The words the customer agreed to (needed for express consent)."))  # fmt: skip
    proof_form = forms.CharField(required=False, max_length=200, label=_("Form or document (proof)"))
    relationship_ends_at = forms.DateTimeField(
        required=False, label=_("Contract ends (written contract only)")
    )

    def clean_relationship_ends_at(self):
        ends_at = self.cleaned_data["relationship_ends_at"]
        if ends_at and ends_at > timezone.now() + relativedelta(years=CONTRACT_YEARS_AHEAD):
            raise forms.ValidationError(
                _("Check the year: a contract ends within %(years)d years."),
                params={"years": CONTRACT_YEARS_AHEAD},
            )
        return ends_at


class ConsentWithdrawForm(forms.Form):
    channels = forms.MultipleChoiceField(
        choices=ConsentChannel.choices, widget=forms.CheckboxSelectMultiple, label=_("Channels")
    )
    source = forms.CharField(
        max_length=200, initial=_("Told staff"), label=_("Source"), help_text=_("How the customer asked.")
    )


class CustomerMergeForm(forms.Form):
    """Which record stays (`target`) and which is folded into it (`duplicate`)."""

    error_messages = {
        "required": _("Choose both records to merge."),
        "invalid_choice": _("That customer no longer exists; reload the duplicates list."),
    }
    target = forms.ModelChoiceField(queryset=Customer.objects.all(), error_messages=error_messages)
    duplicate = forms.ModelChoiceField(queryset=Customer.objects.all(), error_messages=error_messages)


class ImportUploadForm(forms.Form):
    file = forms.FileField(label=_("CSV export from the dealer management system"))


class ImportMappingForm(forms.Form):
    """One choice per column of the file: which field it holds, or nothing."""

    def __init__(self, *args, header: list[str], initial_mapping: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("— ignore —")), *TARGETS.items()]
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
