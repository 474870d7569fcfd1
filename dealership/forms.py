from datetime import date

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import SHARES, Objective, PeriodKind, Role, StaffMember

# Days a page may be asked for: the weeks and quarters either side of any of them are still dates,
# and so is the end of any of them, in the store's time, in UTC.
DAYS_IN_REACH = (date(1900, 1, 1), date(9998, 12, 31))
DAY_IN_REACH = [MinValueValidator(DAYS_IN_REACH[0]), MaxValueValidator(DAYS_IN_REACH[1])]


def day_param(request, default: date | None = None, *, name: str = "day") -> date:
    """The day the address asks for in its `name` parameter; `default` (else today) when it is
    missing, malformed or out of any calendar's reach."""
    default = default or timezone.localdate()
    try:
        day = date.fromisoformat(request.GET.get(name, ""))
    except ValueError:
        return default
    return day if DAYS_IN_REACH[0] <= day <= DAYS_IN_REACH[1] else default


class DayInput(forms.DateInput):
    """The browser's date picker. It shows a day given only as 2026-12-01, whatever the page's
    language: a French page's 01/12/2026 would leave it empty."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class ObjectiveForm(forms.ModelForm):
    person = forms.ModelChoiceField(
        queryset=StaffMember.objects.filter(
            role__in=[Role.SUPERVISOR, Role.ADVISOR], user__is_active=True
        ).select_related("user"),
        required=False,
        label=_("Person"),
        empty_label=_("Internet department (everyone)"),
    )
    # The date picker takes any year; the period's end must still be a date (DAYS_IN_REACH).
    period_start = forms.DateField(widget=DayInput(), validators=DAY_IN_REACH, label=_("A day in the period"))

    class Meta:
        model = Objective
        fields = ["metric", "period_kind", "period_start", "person", "target", "note"]
        labels = {
            "metric": _("Metric"),
            "period_kind": _("Period"),
            "target": _("Target"),
            "note": _("Note"),
        }

    def clean_target(self):
        return _target_checked(self.cleaned_data["target"], metric=self.cleaned_data.get("metric"))


class ObjectiveReviseForm(forms.ModelForm):
    """A proposed objective's target and note, changed before the manager decides."""

    class Meta:
        model = Objective
        fields = ["target", "note"]
        labels = {"target": _("Target"), "note": _("Note")}

    def clean_target(self):
        return _target_checked(self.cleaned_data["target"], metric=self.instance.metric)


def _target_checked(target, *, metric: str | None):
    if target < 0:
        raise forms.ValidationError(_("A target cannot be negative."))
    if metric in SHARES and target > 100:
        raise forms.ValidationError(_("A share is at most 100 %."))
    return target


class DashboardFilterForm(forms.Form):
    period = forms.ChoiceField(choices=PeriodKind.choices, required=False, label=_("Period"))
    date = forms.DateField(
        required=False, widget=DayInput(), validators=DAY_IN_REACH, label=_("Date")
    )
    source = forms.CharField(required=False, label=_("Source"))
    person = forms.CharField(required=False, label=_("Username"))
