from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from .forms import LeadTransitionForm
from .models import InboundMail, Lead
from .selectors.leads import lead_get, lead_list
from .selectors.mail import (
    forwarded_mail_for,
    inbound_mail_counts,
    inbound_mail_get,
    inbound_mail_list,
    mailbox_status,
)
from .services.leads import TransitionError, lead_transition
from .services.mail import ReplayError, inbound_replay


def _visible_or_404(get, model, request, pk: int):
    try:
        return get(user=request.user, pk=pk)
    except model.DoesNotExist:
        raise Http404(f"No such {model._meta.verbose_name}, or it is not yours to see.") from None


def _lead_or_404(request, pk: int) -> Lead:
    return _visible_or_404(lead_get, Lead, request, pk)


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
    return render(request, "leads/my_appointments.html")


@login_required
def department_mail(request):
    forwarded = forwarded_mail_for(user=request.user)[:100]
    return render(request, "leads/department_mail.html", {"forwarded": forwarded})


def _inbound_or_404(request, pk: int) -> InboundMail:
    return _visible_or_404(inbound_mail_get, InboundMail, request, pk)


@login_required
def inbound_mail_list_view(request):
    mail = inbound_mail_list(user=request.user, filters=request.GET)[:100]
    template = "leads/inboundmail_list.html#table" if request.htmx else "leads/inboundmail_list.html"
    context = {
        "mail": mail,
        "counts": inbound_mail_counts(user=request.user),
        "mailboxes": mailbox_status(user=request.user),
        "status": request.GET.get("status", ""),
    }
    return render(request, template, context)


@login_required
def inbound_mail_detail(request, pk: int):
    return render(request, "leads/inboundmail_detail.html", {"inbound": _inbound_or_404(request, pk)})


@login_required
def inbound_mail_original(request, pk: int):
    """The message exactly as received, shown as plain text (never rendered as HTML)."""
    inbound = _inbound_or_404(request, pk)
    response = HttpResponse(bytes(inbound.raw), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="inbound-{inbound.pk}.eml"'
    return response


@login_required
@require_POST
def inbound_mail_replay_view(request, pk: int):
    inbound = _inbound_or_404(request, pk)
    try:
        inbound_replay(inbound=inbound)
        messages.success(request, "The message was queued to be processed again.")
    except ReplayError as error:
        messages.error(request, str(error))
    return redirect("leads:inbound_mail_detail", pk=inbound.pk)
