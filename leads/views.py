from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from .forms import LeadTransitionForm
from .models import Lead
from .selectors.appointments import advisor_agenda
from .selectors.leads import lead_get, lead_list
from .services.leads import TransitionError, lead_transition


def _lead_or_404(request, pk: int) -> Lead:
    try:
        return lead_get(user=request.user, pk=pk)
    except Lead.DoesNotExist:
        raise Http404("No such lead, or it is not yours to see.") from None


@login_required
def inbox(request):
    leads = lead_list(user=request.user, filters=request.GET)[:50]
    template = "leads/lead_list.html#table" if request.htmx else "leads/lead_list.html"
    return render(request, template, {"leads": leads})


@login_required
def lead_detail(request, pk: int):
    lead = _lead_or_404(request, pk)
    return render(
        request,
        "leads/lead_detail.html",
        {
            "lead": lead,
            "events": lead.events.select_related("actor"),
            "transition_form": LeadTransitionForm(lead=lead),
        },
    )


@login_required
@require_POST
def lead_transition_view(request, pk: int):
    lead = _lead_or_404(request, pk)
    form = LeadTransitionForm(request.POST, lead=lead)
    if form.is_valid():
        try:
            lead_transition(
                lead=lead,
                to_status=form.cleaned_data["status"],
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
            messages.success(request, "Status changed.")
        except TransitionError as error:
            messages.error(request, str(error))
    else:
        messages.error(request, "Choose a status.")
    return redirect("leads:lead_detail", pk=lead.pk)


@login_required
def my_appointments(request):
    agenda = advisor_agenda(user=request.user, now=timezone.now())
    return render(request, "leads/my_appointments.html", {"agenda": agenda, "today": timezone.localdate()})


@login_required
def department_mail(request):
    return render(request, "leads/department_mail.html")
