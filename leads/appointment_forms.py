"""Forms for booking appointments and editing follow-up plans."""

from datetime import datetime, timedelta

from django import forms
from django.forms import inlineformset_factory
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from dealership.forms import DAY_IN_REACH, DayInput

from .business_hours import store_closed_on
from .forms import choices_from
from .models import Appointment, FollowUpPlan, FollowUpStep, Lead, VehicleInterest
from .selectors.appointments import SLOT, advisor_free_slots, advisors, slots_fitting
from .services.replies import unknown_markup

DURATIONS = [(30, _("30 minutes")), (60, _("1 hour")), (90, _("1 hour 30"))]


class AdvisorForm(forms.Form):
    """Which advisor (a GET form, so it works without JS)."""

    advisor = forms.ModelChoiceField(
        queryset=advisors(), empty_label=_("Choose an advisor"), label=_("Advisor")
    )


class SlotPickerForm(AdvisorForm):
    """Which advisor, which day: the free times follow."""

    day = forms.DateField(widget=DayInput, label=_("Day"), validators=DAY_IN_REACH)


# The customer's own car, named for a trade-in or a sale, is no vehicle to book a visit for.
OWN_VEHICLE = (VehicleInterest.TRADE_IN, VehicleInterest.SELL)


class LeadVehicleField(forms.ModelChoiceField):
    def label_from_instance(self, vehicle):
        if vehicle.interest in OWN_VEHICLE:
            return _("%(vehicle)s (their %(interest)s)") % {
                "vehicle": vehicle,
                "interest": vehicle.get_interest_display().lower(),
            }
        return str(vehicle)


def _slot_choices(slots: list[datetime]) -> list[tuple[str, str]]:
    zone = timezone.get_default_timezone()
    return [(slot.isoformat(), slot.astimezone(zone).strftime("%H:%M")) for slot in slots]


class SlotField(forms.ChoiceField):
    widget = forms.RadioSelect
    default_error_messages = {
        "invalid_choice": _("That time is not free (any more). Choose one of the free times.")
    }

    def clean(self, value):
        value = super().clean(value)
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise forms.ValidationError(_("Choose one of the free times.")) from None


class BookingForm(forms.Form):
    """The times offered are those where the chosen length fits (30 minutes until one is chosen);
    a time chosen with a length that does not fit there stays chosen, and appointment_book refuses
    it under the length, saying until when the advisor is free. `initial`: what was typed so far,
    when the length changes (nothing is booked)."""

    slot = SlotField(label=_("Time"))
    duration = forms.TypedChoiceField(choices=DURATIONS, coerce=int, initial=30, label=_("Duration"))
    purpose = forms.ChoiceField(choices=Appointment.Purpose.choices, label=_("Purpose"))
    lead_vehicle = LeadVehicleField(
        queryset=None, required=False, label=_("Vehicle of interest"), empty_label=_("— none —")
    )
    vehicle_text = forms.CharField(max_length=200, required=False, label=_("Or another vehicle"))
    # Copied into the advisor's mail and calendar: a note, not a document.
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000, label=_("Notes")
    )

    def __init__(self, *args, lead: Lead, advisor, day, now, **kwargs):
        super().__init__(*args, **kwargs)
        self.advisor = advisor
        free_slots = advisor_free_slots(advisor=advisor, day=day, now=now)
        free = _slot_choices(free_slots)
        # Some free time that day, whatever the length: the form is worth showing.
        self.free_any = bool(free)
        # A day past, or one the store is closed: the page says so rather than "no free time with
        # the advisor".
        self.day_past = day < timezone.localdate(now)
        self.store_closed = store_closed_on(day)
        offered = _slot_choices(slots_fitting(free_slots, self._length_chosen()))
        # The free time chosen with a length that does not fit stays chosen; booking says why.
        chosen = self.data.get("slot") if self.is_bound else None
        self.fields["slot"].choices = [choice for choice in free if choice in offered or choice[0] == chosen]
        if free and not offered:
            self.fields["slot"].help_text = _("No free time that day is this long: choose a shorter length.")
        vehicles = list(lead.vehicles.all())
        self.fields["lead_vehicle"].queryset = lead.vehicles.all()
        self.fields["lead_vehicle"].initial = next(
            (v for v in vehicles if v.interest not in OWN_VEHICLE), None
        )

    def _length_chosen(self) -> timedelta:
        value = str(self.data.get("duration") if self.is_bound else self.initial.get("duration", ""))
        return (
            timedelta(minutes=int(value)) if value in {str(minutes) for minutes, label in DURATIONS} else SLOT
        )

    @property
    def duration_delta(self) -> timedelta:
        return timedelta(minutes=self.cleaned_data["duration"])


class RescheduleForm(forms.Form):
    """The free times for the appointment as long as it is, its own time not counting as taken."""

    slot = SlotField(label=_("New time"))

    def __init__(self, *args, appointment: Appointment, advisor, day, now, **kwargs):
        super().__init__(*args, **kwargs)
        self.day_past = day < timezone.localdate(now)
        self.store_closed = store_closed_on(day)
        self.fields["slot"].choices = _slot_choices(
            advisor_free_slots(
                advisor=advisor,
                day=day,
                now=now,
                length=appointment.ends_at - appointment.starts_at,
                exclude=appointment.pk,
            )
        )


class FollowUpPlanForm(forms.ModelForm):
    sources_text = forms.CharField(
        required=False,
        label=_("Sources"),
        help_text=_(
            "New leads from these sources (comma-separated, e.g. AutoTrader, Kijiji Autos) enter this plan."
        ),
    )

    class Meta:
        model = FollowUpPlan
        fields = ["name", "active", "all_internet_leads"]
        # The model's words, here so that they can be translated without a migration.
        labels = {
            "name": _("Name"),
            "active": pgettext_lazy("plan", "Active"),
            "all_internet_leads": _("All internet leads"),
        }
        help_texts = {
            "all_internet_leads": _(
                "Every new internet lead enters this plan unless another plan names its source."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sources_text"].initial = ", ".join(self.instance.sources or [])

    def clean_sources_text(self) -> list[str]:
        return [name.strip() for name in self.cleaned_data["sources_text"].split(",") if name.strip()]


class FollowUpStepForm(forms.ModelForm):
    class Meta:
        model = FollowUpStep
        fields = [
            "position",
            "kind",
            "delay_days",
            "delay_hours",
            "anchor",
            "reply_template",
            "subject_en",
            "body_en",
            "subject_fr",
            "body_fr",
            "call_notes",
        ]
        widgets = {"body_en": forms.Textarea(attrs={"rows": 3}), "body_fr": forms.Textarea(attrs={"rows": 3})}
        labels = {
            "position": _("Position"),
            "kind": _("Kind"),
            "delay_days": _("Delay days"),
            "delay_hours": _("Delay hours"),
            "anchor": _("Anchor"),
            "reply_template": _("Reply template"),
            "subject_en": _("Subject en"),
            "body_en": _("Body en"),
            "subject_fr": _("Subject fr"),
            "body_fr": _("Body fr"),
            "call_notes": _("Call notes"),
        }
        help_texts = {
            "reply_template": _(
                "Send this reply template instead of the texts below; for a customer of the other "
                "language, its counterpart (same name, else same inquiry type) in that language."
            ),
            "call_notes": _("What to say on the call."),
        }

    def __init__(self, *args, templates, **kwargs):
        super().__init__(*args, **kwargs)
        choices_from(self.fields["reply_template"], templates, label=str)

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("kind") in (FollowUpStep.Kind.AUTO_EMAIL, FollowUpStep.Kind.DRAFT_EMAIL)
            and not cleaned.get("reply_template")
            and not (cleaned.get("subject_en") and cleaned.get("body_en"))
        ):
            raise forms.ValidationError(
                _("An email step needs a reply template, or at least its English subject and message.")
            )
        if bool((cleaned.get("subject_fr") or "").strip()) != bool((cleaned.get("body_fr") or "").strip()):
            self.add_error("subject_fr", _("Write both the French subject and message, or neither."))
        for name in ("subject_en", "body_en", "subject_fr", "body_fr"):
            if unknown := unknown_markup(cleaned.get(name) or ""):
                self.add_error(name, _("Not a merge field: %(fields)s.") % {"fields": ", ".join(unknown)})
        return cleaned


class BaseFollowUpStepFormSet(forms.BaseInlineFormSet):
    """A step deleted since the page was opened (in another tab, by a colleague) comes back as its
    hidden id refused: said in words, beside the step and above the steps, with what was typed kept
    and a way to save it without that step."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        form.fields[self.model._meta.pk.name].error_messages["invalid_choice"] = _(
            "This step was deleted since the page was opened."
        )

    def clean(self):
        super().clean()
        gone = [
            number
            for number, form in enumerate(self.forms, start=1)
            if form.has_error(self.model._meta.pk.name, "invalid_choice")
            and not self._should_delete_form(form)
        ]
        if gone:
            raise forms.ValidationError(
                ngettext(
                    "Nothing was saved: step %(steps)s was deleted since this page was opened. Your "
                    "changes are still below: tick “Delete” on that step to save the rest, or open the "
                    "plan again to see its steps as they are now.",
                    "Nothing was saved: steps %(steps)s were deleted since this page was opened. Your "
                    "changes are still below: tick “Delete” on those steps to save the rest, or open the "
                    "plan again to see its steps as they are now.",
                    len(gone),
                )
                % {"steps": ", ".join(map(str, gone))}
            )


FollowUpStepFormSet = inlineformset_factory(
    FollowUpPlan,
    FollowUpStep,
    form=FollowUpStepForm,
    formset=BaseFollowUpStepFormSet,
    extra=1,
    can_delete=True,
)


class DraftForm(forms.Form):
    subject = forms.CharField(max_length=200, label=_("Subject"))
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), label=_("Message"))


class TaskDoneForm(forms.Form):
    note = forms.CharField(max_length=500, required=False)
