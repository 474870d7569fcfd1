import re

from django import forms
from django.utils.translation import get_language, gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from dealership.forms import DayInput
from dealership.models import Department, StaffMember
from dealership.text import in_both_languages
from inventory.forms import contact_given, phone_validate
from inventory.selectors import lead_vehicle_fields, vehicles_find
from leads.models import Language

from .models import Campaign, Channel, InfoShare, Promotion, PromotionModel
from .pricing import FEE_LABELS
from .services.promotions import PROMOTION_TRANSITIONS

# The fees the form asks about, by name in Promotion.fees.
FEE_FIELDS = [(name, _(label)) for name, label in FEE_LABELS.items()]
MAKE = re.compile(r"\w[\w .&'-]*")
MODEL = re.compile(r"[\w .&'/+-]*")
# A model year, told apart from a model named by a number (Ram 1500, Ram 2500).
YEAR = re.compile(r"(19|20)\d{2}")
# The longest make and model the database keeps: a line without its commas is all a make.
NAME_LENGTHS = {name: PromotionModel._meta.get_field(name).max_length for name in ("make", "model")}


def _model_line_parse(line: str) -> dict | None:
    """ "make, model, year", "make, model", "make, year", "make, , year" or "make"; None when the line
    is none of these, e.g. "Honda Civic 2025" without its commas."""
    make, *rest = (part.strip() for part in line.split(","))
    if len(rest) == 1 and YEAR.fullmatch(rest[0]):
        rest = ["", rest[0]]
    model, year = (rest + ["", ""])[:2]
    if (
        len(rest) > 2
        or not MAKE.fullmatch(make)
        or any(YEAR.fullmatch(word) for word in make.split())
        or not MODEL.fullmatch(model)
        or YEAR.fullmatch(model)
        or (year and not YEAR.fullmatch(year))
    ):
        return None
    return {"make": make, "model": model, "year": int(year) if year else None}


def _model_line_format(covered: PromotionModel) -> str:
    """The line _model_line_parse reads back: "Toyota, , 2026" keeps a blank model's place before a year."""
    parts = [covered.make, covered.model, str(covered.year)]
    return ", ".join(parts[: 3 if covered.year else 2 if covered.model else 1])


class PromotionForm(forms.ModelForm):
    channels = forms.MultipleChoiceField(
        choices=Channel.choices,
        widget=forms.CheckboxSelectMultiple,
        label=pgettext_lazy("promotion", "Channels"),
    )
    models_text = forms.CharField(
        label=_("Models covered"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One a line: make, model, year (model and year optional). E.g. Toyota, RAV4, 2026"),
    )
    stock_text = forms.CharField(
        label=_("Stock vehicles covered"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Stock numbers or VINs, separated by spaces or lines."),
    )

    class Meta:
        model = Promotion
        fields = [
            "name",
            "starts_on",
            "ends_on",
            "channels",
            "department",
            "is_advertising",
            "service_offers",
            "offer_kind",
            "advertised_price",
            "rate",
            "offer_description",
            "budget",
            "landing_slug",
        ]
        widgets = {
            "starts_on": DayInput(),
            "ends_on": DayInput(),
            "service_offers": forms.Textarea(attrs={"rows": 2}),
            "offer_description": forms.Textarea(attrs={"rows": 3}),
        }
        # The model's words, here so that they can be translated without a migration.
        labels = {
            "name": _("Name"),
            "starts_on": _("Starts on"),
            "ends_on": _("Ends on"),
            "department": _("Department"),
            "is_advertising": _("Is advertising"),
            "service_offers": _("Service offers"),
            "offer_kind": _("Offer kind"),
            "advertised_price": _("Advertised price"),
            "rate": _("Rate"),
            "offer_description": _("Offer description"),
            "budget": _("Budget"),
            "landing_slug": _("Landing page address (/offers/…/)"),
        }
        help_texts = {
            "is_advertising": _("An advertising campaign recorded for the calendar, not an offer."),
            "service_offers": _("Service offers covered, one a line."),
            "rate": _("Financing or lease rate, in %."),
            "advertised_price": _("The vehicle's price; for a rebate, the rebate's amount."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.all()
        # The offer kinds stay in English on the public pages; here they read in the page's language.
        self.fields["offer_kind"].choices = [
            (value, gettext(label) if value else label) for value, label in self.fields["offer_kind"].choices
        ]
        fees = self.instance.fees or {}
        for name, label in FEE_FIELDS:
            self.fields[f"fee_{name}"] = forms.DecimalField(
                label=label,
                required=False,
                min_value=0,
                max_digits=10,
                decimal_places=2,
                initial=fees.get(name, {}).get("amount"),
            )
            self.fields[f"fee_{name}_included"] = forms.BooleanField(
                label=_("%(fee)s included in the advertised price") % {"fee": label},
                required=False,
                initial=fees.get(name, {}).get("included", False),
            )
        if self.instance.pk:
            self.fields["stock_text"].initial = "\n".join(
                v.stock_number for v in self.instance.vehicles.all()
            )
            self.fields["models_text"].initial = "\n".join(
                _model_line_format(covered) for covered in self.instance.models.all()
            )

    def clean_stock_text(self) -> list:
        found, unknown = [], []
        lines = self.cleaned_data["stock_text"].split()
        # Each line may be a VIN or a stock number.
        for line, vehicle in zip(lines, vehicles_find([(line, line) for line in lines]), strict=True):
            (found if vehicle else unknown).append(vehicle or line)
        if unknown:
            raise forms.ValidationError(
                _("Not in the inventory: %(numbers)s") % {"numbers": ", ".join(unknown)}
            )
        return found

    def clean_models_text(self) -> list[dict]:
        models, bad, too_long = [], [], []
        for line in self.cleaned_data["models_text"].splitlines():
            if not line.strip():
                continue
            covered = _model_line_parse(line)
            if covered is None:
                bad.append(line.strip())
            elif any(len(covered[name]) > length for name, length in NAME_LENGTHS.items()):
                too_long.append(line.strip())
            else:
                models.append(covered)
        errors = []
        if bad:
            errors.append(_("Write each model as make, model, year: %(lines)s") % {"lines": "; ".join(bad)})
        if too_long:
            errors.append(
                _(
                    "A make is at most %(make)s characters and a model %(model)s; separate them with commas: %(lines)s"
                )
                % {**NAME_LENGTHS, "lines": "; ".join(too_long)}
            )
        if errors:
            raise forms.ValidationError(errors)
        return models

    def service_fields(self) -> dict:
        """The cleaned data as the promotion services take it."""
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        data["fees"] = {
            name: {
                "amount": str(self.cleaned_data[f"fee_{name}"]),
                "included": self.cleaned_data[f"fee_{name}_included"],
            }
            for name, _ in FEE_FIELDS
            if self.cleaned_data.get(f"fee_{name}") is not None
        }
        data["models"] = self.cleaned_data["models_text"]
        data["vehicles"] = self.cleaned_data["stock_text"]
        return data


class PromotionTransitionForm(forms.Form):
    status = forms.ChoiceField(label=pgettext_lazy("promotion", "Status"))

    def __init__(self, *args, promotion: Promotion, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = PROMOTION_TRANSITIONS[promotion.status]
        self.fields["status"].choices = [
            (value, label) for value, label in promotion._meta.get_field("status").choices if value in allowed
        ]


class CampaignForm(forms.ModelForm):
    audience_make = forms.CharField(label=_("Bought a (make)"), required=False, max_length=60)
    audience_model = forms.CharField(label=_("Model"), required=False, max_length=60)
    audience_language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", pgettext_lazy("language", "Any")), *Language.choices],
    )
    audience_lease_ending_within_days = forms.IntegerField(
        label=_("Lease ending within (days)"), required=False, min_value=1, max_value=730
    )

    class Meta:
        model = Campaign
        fields = ["name", "send_on", "subject_en", "body_en", "subject_fr", "body_fr"]
        widgets = {
            "send_on": DayInput(),
            "body_en": forms.Textarea(attrs={"rows": 5}),
            "body_fr": forms.Textarea(attrs={"rows": 5}),
        }
        labels = {
            "name": _("Name"),
            "send_on": _("Send on"),
            "subject_en": _("Subject en"),
            "body_en": _("Body en"),
            "subject_fr": _("Subject fr"),
            "body_fr": _("Body fr"),
        }
        help_texts = {
            "send_on": _("The day it goes out; campaigns of the same week are compared."),
            "body_en": _("{first_name} is replaced by the customer's first name."),
            "body_fr": _("{first_name} est remplacé par le prénom du client."),
        }

    def service_fields(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        data["audience"] = {
            key: self.cleaned_data[f"audience_{key}"].strip()
            for key in ("make", "model", "language")
            if self.cleaned_data[f"audience_{key}"].strip()
        }
        if days := self.cleaned_data["audience_lease_ending_within_days"]:
            data["audience"]["lease_ending_within_days"] = days
        return data


class PublicContactForm(forms.Form):
    first_name = forms.CharField(max_length=100, label=in_both_languages("First name", "Prénom"))
    last_name = forms.CharField(max_length=100, required=False, label=in_both_languages("Last name", "Nom"))
    email = forms.EmailField(required=False, label=in_both_languages("Email", "Courriel"))
    phone = forms.CharField(
        max_length=30,
        required=False,
        validators=[phone_validate],
        label=in_both_languages("Phone", "Téléphone"),
    )
    language = forms.ChoiceField(choices=Language.choices, label=in_both_languages("Language", "Langue"))
    vehicle = forms.ChoiceField(required=False, label=in_both_languages("Vehicle", "Véhicule"))
    comments = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}), label="Message")

    def __init__(self, *args, promotion: Promotion | None = None, stock=(), **kwargs):
        super().__init__(*args, **kwargs)
        # The page's language, unless the visitor picks the other: follow-up mail is written in it.
        self.fields["language"].initial = get_language()[:2]
        self.choices = {f"stock-{v.pk}": v for v in stock}
        if promotion:
            self.choices |= {f"model-{m.pk}": m for m in promotion.models.all()}
        if self.choices:
            self.fields["vehicle"].choices = [("", "—")] + [(key, str(v)) for key, v in self.choices.items()]
        else:
            del self.fields["vehicle"]

    def clean(self):
        data = super().clean()
        if not contact_given(self):
            raise forms.ValidationError(
                in_both_languages(
                    "Give an email or a phone number so we can answer.",
                    "Indiquez un courriel ou un téléphone.",
                )
            )
        return data

    def vehicle_dict(self) -> dict | None:
        """The vehicle chosen, as a lead names it; a stock vehicle with its stock number, VIN, odometer and price."""
        chosen = self.choices.get(self.cleaned_data.get("vehicle") or "")
        if chosen is None:
            return None
        if isinstance(chosen, PromotionModel):
            return {"make": chosen.make, "model": chosen.model, "year": chosen.year}
        return lead_vehicle_fields(chosen)


class InfoShareForm(forms.Form):
    subject = forms.CharField(max_length=200, label=_("Subject"))
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), label=_("Text"))
    link = forms.URLField(
        required=False,
        max_length=InfoShare._meta.get_field("link").max_length,
        assume_scheme="https",
        label=_("Link"),
    )
    staff = forms.ModelMultipleChoiceField(
        # Someone without an email address could not be told: not offered.
        queryset=StaffMember.objects.filter(user__is_active=True)
        .exclude(user__email="")
        .select_related("user"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("People"),
        help_text=_("Only people with an email address are listed."),
    )
    departments = forms.ModelMultipleChoiceField(
        queryset=Department.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Departments"),
    )

    def clean(self):
        data = super().clean()
        if not data.get("staff") and not data.get("departments"):
            raise forms.ValidationError(_("Choose at least one person or department."))
        return data
