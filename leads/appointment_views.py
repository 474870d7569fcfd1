"""Pages for appointments (booking, outcomes, the calendar) and follow-up plans and tasks."""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dealership.forms import day_param
from dealership.numbers import is_ascii_digits

from .appointment_forms import (
    AdvisorForm,
    BookingForm,
    DraftForm,
    FollowUpPlanForm,
    FollowUpStepFormSet,
    RescheduleForm,
    SlotPickerForm,
    TaskDoneForm,
)
from .models import Appointment, FollowUpPlan, FollowUpStepRun, StopReason
from .models.followup import plan_text
from .selectors.appointments import (
    advisors,
    appointment_calendar,
    appointment_get,
    appointments_needing_advisor,
    appointments_unrecorded,
    followup_plan_list,
    followup_plans_active,
    followup_tasks,
    lead_appointments,
    lead_followups,
    sees_all_appointments,
)
from .selectors.replies import reply_templates
from .services.appointments import (
    BookingError,
    appointment_book,
    appointment_reschedule,
    appointment_transition,
)
from .services.followup import (
    FollowUpError,
    followup_draft_approve,
    followup_enroll,
    followup_plan_save,
    followup_stop_for_lead,
    followup_task_done,
)
from .tasks import enqueue_followup_send
from .views import _lead_or_404

OUTCOMES = {
    "shown": Appointment.Status.SHOWN,
    "no_show": Appointment.Status.NO_SHOW,
    "sold": Appointment.Status.SOLD,
    "cancelled": Appointment.Status.CANCELLED,
}


def _require_desk(request) -> None:
    """Booking for others, the calendar and follow-up plans are the supervisor's and manager's."""
    if not sees_all_appointments(request.user):
        raise PermissionDenied(_("Only the internet sales supervisor and the managers can do this."))


def _appointment_or_404(request, pk: int) -> Appointment:
    try:
        return appointment_get(user=request.user, pk=pk)
    except Appointment.DoesNotExist:
        raise Http404(_("No such appointment, or it is not yours to see.")) from None


def _today() -> date:
    return timezone.localdate()


def _next(request) -> str:
    """The page to come back to (`next`), when it is a path on this site; else "". A bare word
    ("calendar") is no page: redirect() would look it up as a URL name, and fail once the change
    is saved."""
    url = request.POST.get("next") or request.GET.get("next", "")
    on_site = url.startswith("/") and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if on_site else ""


def _back(request) -> str:
    """Where the person came from: the page that sent them (`next`), else their own page for an
    advisor, the calendar for the desk."""
    return _next(request) or (
        "leads:appointment_calendar" if sees_all_appointments(request.user) else "leads:my_appointments"
    )


# --- appointments ---------------------------------------------------------------------------------


@login_required
def appointment_book_view(request, pk: int):
    _require_desk(request)
    lead = _lead_or_404(request, pk)
    now = timezone.now()
    picker = SlotPickerForm(request.GET or None, initial={"day": _today()})
    form = None
    if picker.is_valid():
        advisor, day = picker.cleaned_data["advisor"], picker.cleaned_data["day"]
        # The length changed (htmx): the times where it fits, what was typed kept, nothing booked.
        refresh = "refresh" in request.POST
        form = BookingForm(
            None if refresh else request.POST or None,
            initial=request.POST.dict() if refresh else None,
            lead=lead,
            advisor=advisor,
            day=day,
            now=now,
        )
        if request.method == "POST" and not refresh and form.is_valid():
            try:
                appointment = appointment_book(
                    lead=lead,
                    advisor=advisor,
                    starts_at=form.cleaned_data["slot"],
                    duration=form.duration_delta,
                    purpose=form.cleaned_data["purpose"],
                    lead_vehicle=form.cleaned_data["lead_vehicle"],
                    vehicle_text=form.cleaned_data["vehicle_text"],
                    notes=form.cleaned_data["notes"],
                    actor=request.user,
                    now=now,
                )
            except BookingError as error:
                form.add_error(error.field, str(error))
            else:
                messages.success(
                    request,
                    _("Booked: %(appointment)s. The invitations are on their way.")
                    % {"appointment": appointment},
                )
                return redirect("leads:lead_detail", pk=lead.pk)
    template = "leads/appointment_form.html#slots" if request.htmx else "leads/appointment_form.html"
    return render(request, template, {"lead": lead, "picker": picker, "form": form})


@login_required
def appointment_reschedule_view(request, pk: int):
    appointment = _appointment_or_404(request, pk)
    now = timezone.now()
    day = day_param(request, default=max(timezone.localdate(appointment.starts_at), _today()))
    advisor, handover = appointment.advisor, None
    if not advisors().filter(pk=advisor.pk).exists():
        # Their advisor is no longer active: the desk chooses who takes the appointment over.
        handover = AdvisorForm(request.GET if "advisor" in request.GET else None)
        advisor = handover.cleaned_data["advisor"] if handover.is_valid() else None
    form = (
        RescheduleForm(request.POST or None, appointment=appointment, advisor=advisor, day=day, now=now)
        if advisor
        else None
    )
    if request.method == "POST" and form and form.is_valid():
        try:
            appointment_reschedule(
                appointment=appointment,
                starts_at=form.cleaned_data["slot"],
                now=now,
                actor=request.user,
                advisor=advisor,
            )
        except BookingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, _("Rescheduled; the customer and the advisor get the updated invitation.")
            )
            return redirect(_back(request))
    return render(
        request,
        "leads/appointment_reschedule.html",
        {
            "appointment": appointment,
            "advisor": advisor,
            "handover": handover,
            "form": form,
            "day": day,
            "next": _next(request),
        },
    )


@login_required
@require_POST
def appointment_outcome_view(request, pk: int):
    appointment = _appointment_or_404(request, pk)
    outcome = OUTCOMES.get(request.POST.get("outcome", ""))
    if outcome is None:
        messages.error(request, _("Choose what happened: shown, no-show, sold or cancelled."))
        return redirect(_back(request))
    try:
        appointment_transition(
            appointment=appointment, to_status=outcome, now=timezone.now(), actor=request.user
        )
    except BookingError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("%(customer)s: %(outcome)s.")
            % {"customer": appointment.lead.customer, "outcome": Appointment.Status(outcome).label.lower()},
        )
    return redirect(_back(request))


@login_required
def appointment_calendar_view(request):
    _require_desk(request)
    week = request.GET.get("view") == "week"
    grid = appointment_calendar(user=request.user, day=day_param(request), week=week)
    now = timezone.now()
    return render(
        request,
        "leads/appointment_calendar.html",
        {
            "grid": grid,
            "week": week,
            "today": _today(),
            "now": now,
            "unrecorded": appointments_unrecorded(user=request.user, now=now),
            "needs_advisor": appointments_needing_advisor(user=request.user, now=now),
        },
    )


# --- follow-up ------------------------------------------------------------------------------------


@login_required
def followupplan_list(request):
    _require_desk(request)
    return render(request, "leads/followupplan_list.html", {"plans": followup_plan_list()})


@login_required
def followupplan_form(request, pk: int | None = None):
    _require_desk(request)
    plan = get_object_or_404(FollowUpPlan, pk=pk) if pk else FollowUpPlan()
    plan_form = FollowUpPlanForm(request.POST or None, instance=plan)
    # Every step offers the same reply templates: one queryset, read once for all the forms.
    steps = FollowUpStepFormSet(
        request.POST or None, instance=plan, prefix="steps", form_kwargs={"templates": reply_templates()}
    )
    if request.method == "POST" and plan_form.is_valid() and steps.is_valid():
        try:
            plan = followup_plan_save(plan_form=plan_form, steps_formset=steps)
        except FollowUpError as error:
            plan_form.add_error(None, str(error))
        else:
            messages.success(request, _("Plan “%(plan)s” saved.") % {"plan": plan_text(plan.name)})
            return redirect("leads:followupplan_list")
    return render(request, "leads/followupplan_form.html", {"plan": plan, "form": plan_form, "steps": steps})


@login_required
def lead_followup(request, pk: int):
    _require_desk(request)
    lead = _lead_or_404(request, pk)
    now = timezone.now()
    # Loaded by htmx into the lead page (templates/leads/_followup_panel_slot.html): the panel alone.
    return render(
        request,
        "leads/_followup_panel.html" if request.htmx else "leads/followupplan_enrollment.html",
        {
            "lead": lead,
            "followups": lead_followups(lead=lead),
            "plans": followup_plans_active(),
            "appointments": lead_appointments(lead=lead, now=now),
            "now": now,
        },
    )


@login_required
@require_POST
def lead_followup_start(request, pk: int):
    _require_desk(request)
    lead = _lead_or_404(request, pk)
    plan_id = request.POST.get("plan", "")
    plan = followup_plans_active().filter(pk=plan_id).first() if is_ascii_digits(plan_id) else None
    if plan is None:
        messages.error(request, _("Choose a plan."))
    else:
        try:
            followup_enroll(lead=lead, plan=plan, now=timezone.now(), actor=request.user)
            messages.success(
                request, _("%(customer)s now follows “%(plan)s”.") % {"customer": lead.customer, "plan": plan}
            )
        except FollowUpError as error:
            messages.error(request, str(error))
    return redirect("leads:lead_followup", pk=lead.pk)


@login_required
@require_POST
def lead_followup_stop(request, pk: int):
    _require_desk(request)
    lead = _lead_or_404(request, pk)
    if followup_stop_for_lead(lead=lead, reason=StopReason.BY_HAND, now=timezone.now(), actor=request.user):
        messages.success(request, _("Follow-up stopped."))
    return redirect("leads:lead_followup", pk=lead.pk)


def _task_or_404(request, pk: int) -> FollowUpStepRun:
    try:
        return followup_tasks(user=request.user).get(pk=pk)
    except FollowUpStepRun.DoesNotExist:
        raise Http404(_("This task is done or gone.")) from None


@login_required
def task_list(request):
    _require_desk(request)
    tasks = [
        (task, DraftForm(initial={"subject": task.subject, "body": task.body}))
        for task in followup_tasks(user=request.user)
    ]
    return render(request, "leads/followup_task_list.html", {"tasks": tasks})


@login_required
@require_POST
def task_done(request, pk: int):
    _require_desk(request)
    task = _task_or_404(request, pk)
    form = TaskDoneForm(request.POST)
    if not form.is_valid():  # the note is kept in the message, not dropped
        messages.error(
            request,
            _("Not done: %(errors)s Your note: %(note)s")
            % {"errors": " ".join(form.errors["note"]), "note": request.POST["note"]},
        )
        return redirect("leads:task_list")
    note = form.cleaned_data["note"]
    try:
        followup_task_done(run=task, actor=request.user, now=timezone.now(), note=note)
        messages.success(request, _("Done."))
    except FollowUpError as error:
        messages.error(request, str(error))
    return redirect("leads:task_list")


@login_required
@require_POST
def task_send(request, pk: int):
    _require_desk(request)
    task = _task_or_404(request, pk)
    form = DraftForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The email needs a subject and a message; nothing was sent."))
        return redirect("leads:task_list")
    try:
        followup_draft_approve(
            run=task,
            actor=request.user,
            subject=form.cleaned_data["subject"],
            body=form.cleaned_data["body"],
            now=timezone.now(),
            enqueue_send=enqueue_followup_send,
        )
        messages.success(
            request, _("Email to %(customer)s is on its way.") % {"customer": task.enrollment.lead.customer}
        )
    except FollowUpError as error:
        messages.error(request, str(error))
    return redirect("leads:task_list")
