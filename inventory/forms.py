import re

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from dealership.forms import DayInput
from leads.models import InquiryType
from leads.normalize import normalize_phone

from .models import Vehicle, VehicleStatus
from .services.vehicles import DESCRIPTIVE_FIELDS, VEHICLE_TRANSITIONS
from .vin import vin_validate

# "$29,995", "1,234,567.50": commas group thousands. "29 995,50 $", "29.995,50": French, the comma is
# the decimal sign. Anything else is left for the decimal field to refuse ("29.995" reads both ways).
_THOUSANDS_COMMAS = re.compile(r"\d{1,3}(,\d{3})+(\.\d*)?")
_DECIMAL_COMMA = re.compile(r"(\d{1,3}(\.\d{3})+|\d+),\d{1,2}")


class PriceField(forms.DecimalField):
    """An amount of dollars as people type it and exports write it, in English or French."""

    widget = forms.TextInput(attrs={"inputmode": "decimal"})

    def __init__(self, **kwargs):
        super().__init__(**{"max_digits": 10, "decimal_places": 2, "min_value": 0, **kwargs})

    def to_python(self, value):
        text = re.sub(r"\s|\$|CAD", "", str(value or ""), flags=re.IGNORECASE)
        if _THOUSANDS_COMMAS.fullmatch(text):
            text = text.replace(",", "")
        elif _DECIMAL_COMMA.fullmatch(text):
            text = text.replace(".", "").replace(",", ".")
        return super().to_python(text)


# "61 200 km", "61,200", "61.200": a comma or dot only groups thousands. Kilometres are whole, so
# "61.0" or "45 000,5" is refused rather than read as 61 or 450 005.
_KM_THOUSANDS = re.compile(r"\d{1,3}([.,]\d{3})+")


class KmField(forms.IntegerField):
    """A distance in whole kilometres as people type it and exports write it, in English or French."""

    widget = forms.TextInput(attrs={"inputmode": "numeric"})
    default_error_messages = {
        "invalid": _("Enter whole kilometres, e.g. 61200 or 61 200; a comma or dot may only group thousands.")
    }

    def __init__(self, **kwargs):
        super().__init__(**{"min_value": 0, "max_value": 9_999_999, **kwargs})

    def to_python(self, value):
        text = re.sub(r"km$", "", re.sub(r"\s", "", "" if value is None else str(value)), flags=re.IGNORECASE)
        if _KM_THOUSANDS.fullmatch(text):
            text = re.sub(r"[.,]", "", text)
        elif re.search(r"[.,]", text):
            # Not a group of thousands: IntegerField would read "61.0" as 61.
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(text)


class VinField(forms.CharField):
    """A VIN as copied from a windshield or papers: spaces and dashes are dropped before it is checked."""

    def __init__(self, **kwargs):
        super().__init__(**{"max_length": 40, "label": _("VIN"), **kwargs})

    def clean(self, value):
        return vin_validate(super().clean(value))


class VehicleForm(forms.ModelForm):
    vin = VinField(help_text=_("Make and model year fill themselves in from the VIN when left blank."))

    class Meta:
        model = Vehicle
        fields = ["vin", "stock_number", *DESCRIPTIVE_FIELDS, "price", "published"]
        field_classes = {"odometer_km": KmField, "price": PriceField}
        # The model's words, here so that they can be translated without a migration.
        labels = {
            "stock_number": _("Stock number"),
            "condition": _("Condition"),
            "year": _("Year"),
            "make": _("Make"),
            "model": _("Model"),
            "trim": _("Trim"),
            "body_style": _("Body style"),
            "exterior_colour": _("Exterior colour"),
            "odometer_km": _("Odometer (km)"),
            "interior_colour": _("Interior colour"),
            "description": _("Description"),
            "price": _("Price"),
            "published": _("Published"),
        }
        help_texts = {"published": _("Shown on the store's website while in stock.")}


class VehicleCreateForm(VehicleForm):
    status = forms.ChoiceField(
        choices=[(s.value, s.label) for s in (VehicleStatus.IN_STOCK, VehicleStatus.ON_ORDER)],
        initial=VehicleStatus.IN_STOCK,
        label=pgettext_lazy("vehicle", "Status"),
    )

    class Meta(VehicleForm.Meta):
        fields = [*VehicleForm.Meta.fields, "status"]


class VehicleTransitionForm(forms.Form):
    status = forms.ChoiceField(
        label=pgettext_lazy("vehicle", "Status"), error_messages={"required": _("Choose a status.")}
    )
    on = forms.DateField(required=False, label=_("Date (today when blank)"), widget=DayInput())

    def __init__(self, *args, vehicle: Vehicle, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = VEHICLE_TRANSITIONS[vehicle.status]
        self.fields["status"].choices = [(v, label) for v, label in VehicleStatus.choices if v in allowed]
        # A status the page no longer offers was chosen on a page left open: say what the vehicle is now.
        self.fields["status"].error_messages["invalid_choice"] = _(
            "This vehicle is %(status)s now: check it, then choose again."
        ) % {"status": VehicleStatus(vehicle.status).label.lower()}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Many files in one field; the service checks each of them and their number."""

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        # An empty file is the service's to refuse by its name; the others still go through.
        return [file if getattr(file, "size", None) == 0 else super().clean(file, initial) for file in files]


class PhotoUploadForm(forms.Form):
    photos = MultipleFileField(
        # No `capture`: it would open the camera alone, one shot at a time; without it a phone offers
        # the camera and its photo library, several photos at once.
        widget=MultipleFileInput(attrs={"accept": "image/*", "multiple": True}),
        label=_("Photos"),
        help_text=_("JPEG, PNG, WebP or iPhone HEIC; several at once."),
    )


class PhotoOrderForm(forms.Form):
    order = forms.CharField(help_text=_("Photo ids, first (main photo) to last, separated by commas."))

    def clean_order(self):
        try:
            return [int(part) for part in self.cleaned_data["order"].split(",") if part.strip()]
        except ValueError:
            raise forms.ValidationError(_("The order must list photo numbers.")) from None


class VehicleImportForm(forms.Form):
    file = forms.FileField(label=_("CSV export of the dealer management system"))


def phone_validate(value: str) -> None:
    """A visitor's phone: one normalize_phone cannot read would be dropped, leaving a lead nobody can
    call back. The vehicle pages' and the offer pages' forms check it alike."""
    if not normalize_phone(value):
        raise forms.ValidationError(
            _("This phone number does not look complete; check it."), code="incomplete"
        )


def contact_given(form: forms.Form) -> bool:
    """An email or a phone was given: a mistyped one is missing from cleaned_data, but its own error
    says so, rather than one saying that none was given."""
    return any(form.cleaned_data.get(name) or name in form.errors for name in ("email", "phone"))


class VehicleInquiryForm(forms.Form):
    first_name = forms.CharField(max_length=100, label=_("First name"))
    last_name = forms.CharField(max_length=100, required=False, label=_("Last name"))
    email = forms.EmailField(required=False, label=_("Email"))
    phone = forms.CharField(max_length=30, required=False, validators=[phone_validate], label=_("Phone"))
    inquiry_type = forms.ChoiceField(
        choices=InquiryType.choices, initial=InquiryType.PRICE, label=_("I'd like")
    )
    message = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000, label=_("Message")
    )
    # Left empty by people; robots fill every field. Off screen (inventory.css); the input is kept out
    # of the tab order, from screen readers and from the browser's autofill (its label is still read,
    # and says to leave it empty).
    website = forms.CharField(
        required=False,
        label=_("Leave this empty"),
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off", "aria-hidden": "true"}),
    )

    def clean(self):
        cleaned = super().clean()
        if not contact_given(self):
            raise forms.ValidationError(_("Give an email address or a phone number so we can answer you."))
        if cleaned.get("website"):
            raise forms.ValidationError(_("Leave the last field empty."))
        return cleaned
