from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django_htmx.http import reswap, retarget

from dealership.models import oversees_store
from dealership.numbers import is_ascii_digits

from .forms import (
    STATUS_FILTERS,
    ContactLogForm,
    InboxFilterForm,
    LeadAssignForm,
    LeadMergeForm,
    LeadTransitionForm,
    ReplyForm,
    ReplyTemplateForm,
)
from .inventory_link import lead_vehicles_with_stock
from .models import Attachment, ConsentChannel, InboundMail, Lead, LeadStatus, PreferredChannel, ReplyTemplate
from .models.followup import plan_text
from .selectors.appointments import advisor_agenda, followup_due_count, sees_all_appointments
from .selectors.consent import consent_overview, consent_withdrawn
from .selectors.customers import customer_address_not_on_file
from .selectors.leads import (
    lead_counts,
    lead_duplicates,
    lead_get,
    lead_inbox_page,
    lead_list_status,
    lead_mail_waiting,
    lead_next_steps_open,
    lead_reply_address,
    lead_sources,
    lead_taken_from,
    lead_timeline,
    lead_unsent_mail,
    lead_visible_to,
    leads_waiting,
    person_name,
    response_clock,
    response_deadlines,
    sees_leads,
)
from .selectors.mail import (
    forwarded_mail_for,
    inbound_mail_counts,
    inbound_mail_get,
    inbound_mail_list,
    inbound_mail_raw,
    lead_inbound_mail,
    mailbox_status,
    mailboxes_behind,
)
from .selectors.replies import (
    can_manage_reply_templates,
    reply_language,
    reply_template_plans,
    reply_template_suggested,
    reply_templates,
    reply_templates_offered,
)
from .services.leads import (
    AssignmentError,
    ContactLogError,
    MergeError,
    TransitionError,
    contact_log,
    lead_assign,
    lead_merge,
    lead_merged_refusal,
    lead_transition,
)
from .services.mail import ReplayError, inbound_replay
from .services.replies import (
    HeldMeanwhile,
    ReplyError,
    TemplateChangedMeanwhile,
    reply_draft,
    reply_last_answer_id,
    reply_queue,
    reply_template_delete,
    reply_template_save,
    vehicles_unavailable,
)

INBOX_PAGE_SIZE = 50
# The session's last inbox filters, sort and page: a lead page's way back to the list it came from.
INBOX_QUERY_KEY = "leads:inbox-query"

# The logging form starts on the channel the customer prefers.
PREFERRED_LOG_CHANNEL = {
    PreferredChannel.PHONE: "phone",
    PreferredChannel.TEXT: "text",
    PreferredChannel.IN_PERSON: "visit",
    PreferredChannel.EMAIL: "phone",
}


def _visible_or_404(get, model, request, pk: int):
    try:
        return get(user=request.user, pk=pk)
    except model.DoesNotExist:
        raise Http404(f"No such {model._meta.verbose_name}, or it is not yours to see.") from None


def _lead_or_404(request, pk: int) -> Lead:
    return _visible_or_404(lead_get, Lead, request, pk)


def _taken_away_or_404(request, pk: int, *, written: str, name: str) -> HttpResponse:
    """For a lead _lead_or_404 refused: one this person owned and was taken off while their page was
    open says so, naming who has it now, with what they wrote (`name`: the input it came from) to
    copy; nothing was saved. Any other stays not found, and its owner unnamed."""
    lead = lead_taken_from(user=request.user, pk=pk)
    if lead is None:
        raise Http404("No such lead, or it is not yours to see.")
    refusal = forms.Form(data={})  # the reason, as _refused_input.html shows a form's
    refusal.add_error(
        None,
        _("This lead was given to %(name)s meanwhile: you may no longer work on it, and nothing was saved.")
        % {"name": person_name(lead.owner)}
        if lead.owner
        else _("This lead was unassigned meanwhile: you may no longer work on it, and nothing was saved."),
    )
    context = {"refusal": refusal, "written": written, "name": name, "inbox_url": _inbox_url(request)}
    if request.htmx:  # a form htmx sends: the whole page becomes this one, as an error is not swapped in
        return reswap(retarget(render(request, "leads/lead_taken_away.html", context), "body"), "innerHTML")
    return render(request, "leads/lead_taken_away.html", context, status=409)


def _query(params: dict, **changes) -> str:
    """The inbox query string with some parameters changed (None removes one); back to page 1."""
    merged = {key: value for key, value in {**params, **changes, "page": None}.items() if value}
    return "?" + urlencode(merged) if merged else "?"


def _inbox_filter_links(*, counts: dict, filters: dict, params: dict, form: InboxFilterForm) -> dict:
    """The status chips and the unanswered/overdue toggles, each with its count and its link; and
    the filters the form does not show (the dashboard's funnel stage and seller), each with a link
    without it."""
    status = lead_list_status(filters)
    unshown = {
        "reached": lambda stage: _("Stage reached: %(stage)s") % {"stage": LeadStatus(stage).label},
        # Named as the form offers them: a person who left the store is still named.
        "seller": lambda pk: _("Sold by: %(name)s") % {"name": dict(form.fields["seller"].choices)[pk]},
    }
    return {
        "chips": [
            {
                "label": label,
                "count": counts[value],
                "url": _query(params, status=value),
                "active": status == value,
            }
            for value, label in STATUS_FILTERS
        ],
        "toggles": [
            {
                "name": name,
                "label": label,
                "count": counts[name],
                "url": _query(params, **{name: None if filters.get(name) else "on"}),
                "active": bool(filters.get(name)),
            }
            for name, label in (
                ("unanswered", _("Unanswered")),
                ("overdue", _("Overdue")),
                ("replied", _("Replied")),
            )
        ],
        "removable": [
            {"label": label(filters[name]), "url": _query(params, **{name: None})}
            for name, label in unshown.items()
            if filters.get(name)
        ],
    }


@login_required
def inbox(request):
    if not sees_leads(request.user):
        # Department staff: leads are internet sales' work; what reaches them is forwarded mail.
        return render(request, "leads/lead_list.html", {"leads_elsewhere": True})
    form = InboxFilterForm(request.GET)
    filters = form.filters()
    # "after": where the page before ended (its Next link says), so that leads answered on it
    # meanwhile move no lead out of sight; the page number stays the page's name. It is this
    # page's alone: no other link keeps it, and the counts are the list's.
    after = filters.pop("after", ())
    deadlines = response_deadlines()
    params = {key: value for key, value in request.GET.items() if key in form.fields and key != "after"}
    # The counts behind the chips are shared by every inbox open on the same filters and recounted
    # at most every COUNTS_SECONDS, so the refresh brings them too.
    counts = lead_counts(user=request.user, filters=filters, deadlines=deadlines)
    page = lead_inbox_page(
        user=request.user,
        filters=filters,
        deadlines=deadlines,
        counts=counts,
        size=INBOX_PAGE_SIZE,
        after=after,
    )
    query = request.GET.copy()
    # A bookmark, or leads answered meanwhile: the page asked for is gone, and the list says so.
    asked = filters.get("page", 1)
    past_end = {"asked": asked, "last": page.number} if page.number != asked else None
    if past_end:
        query["page"] = str(page.number)
        query.pop("after", None)
    # A lead's "← Inbox" goes back to the list last opened; another tab refreshing itself is not it.
    if not request.htmx and request.session.get(INBOX_QUERY_KEY) != (listed := query.urlencode()):
        request.session[INBOX_QUERY_KEY] = listed
    context = {
        "leads": [(lead, response_clock(lead, deadlines=deadlines)) for lead in page.rows],
        "query": query.urlencode(),
        "previous_url": (_query(params) + f"&page={page.number - 1}") if page.number > 1 else "",
        "next_url": (
            _query(params) + f"&page={page.number + 1}" + (f"&after={page.after}" if page.after else "")
        )
        if page.has_next
        else "",
        "past_end": past_end,
        # No lead comes after those the page before showed any more: the list ended there. The
        # page by its number would show leads already seen again; the first page has any new ones.
        "list_ended": {"asked": page.number, "url": _query(params)} if page.ended else None,
    }
    if page.elsewhere > 0:
        context["elsewhere"] = {
            "count": page.elsewhere,
            "status": dict(STATUS_FILTERS)[lead_list_status(filters)],
            "url": _query(params, status="all"),
        }
    context |= _inbox_filter_links(counts=counts, filters=filters, params=params, form=form)
    if request.htmx:  # the table refreshing itself, with the chips: no filters or buttons
        return render(request, "leads/_inbox_refresh.html", context)
    desk = sees_all_appointments(request.user)  # templates and follow-up tasks are the desk's
    context |= {
        "form": form,
        "can_manage_templates": can_manage_reply_templates(user=request.user),
        "sources": lead_sources(),
        "followup_due": followup_due_count(user=request.user) if desk else None,
        "mailboxes_behind": mailboxes_behind(user=request.user),
    }
    return render(request, "leads/lead_list.html", context)


def _template_offered(templates: list[ReplyTemplate], pk: str) -> ReplyTemplate | None:
    """The template of that id among those the composer offers; none for "" (No template) or one
    no longer offered."""
    return next((t for t in templates if str(t.pk) == pk), None)


def _composer_form(
    request, lead: Lead, language: str, *, vehicles=None, said=None, other_emails=None
) -> ReplyForm:
    """The composer with the suggested (or picked) template's draft; `vehicles`, `said`,
    `other_emails`: the lead's vehicles beside their stock, its messages and the customer's other
    addresses, when the page has read them already."""
    templates = reply_templates_offered()
    if "template" in request.GET:  # the supervisor's pick; "" is "No template", a blank composer
        chosen = _template_offered(templates, request.GET["template"])
    else:
        chosen = reply_template_suggested(templates=templates, lead=lead, language=language)
    if vehicles is None:
        vehicles = lead_vehicles_with_stock(lead.vehicles.all())
    draft = reply_draft(
        template=chosen,
        lead=lead,
        sender=request.user,
        vehicles=vehicles,
        messages=said,
        other_emails=other_emails,
    )
    # A template picked by htmx refills the composer of a page whose conversation stays as it was
    # shown: the answers the page showed are still those it was opened with.
    shown_answer = request.GET.get("shown_answer", "") if request.htmx else ""
    return ReplyForm(
        initial={
            "template": chosen,
            "language": chosen.language if chosen else language,
            "subject": draft["subject"],
            "body": draft["body"],
            "shown_answer": int(shown_answer)
            if is_ascii_digits(shown_answer)
            else reply_last_answer_id(lead=lead, messages=said),
            "drafted_from": chosen.pk if chosen else "",
        },
        templates=templates,
        unfilled=draft["unfilled"],
        unavailable=vehicles_unavailable(vehicles),
    )


def _consent_shown(customer) -> dict:
    """The customer's consent as the card and the log form show it: commercial email, and whether
    they asked for no more calls or texts."""
    standing = {status.channel: status for status in consent_overview(customer=customer)}
    return {
        "email_consent": standing[ConsentChannel.EMAIL],
        "do_not_call": consent_withdrawn(standing[ConsentChannel.PHONE]),
        "no_texts": consent_withdrawn(standing[ConsentChannel.TEXT]),
    }


def _log_channel(customer, consent: dict) -> str:
    """The channel the log form starts on: the customer's preferred one, but a note when they
    asked for no more of it (a call or text logged then is a choice, not a default)."""
    channel = PREFERRED_LOG_CHANNEL[customer.preferred_channel]
    withdrawn = {"phone": consent["do_not_call"], "text": consent["no_texts"]}
    return "note" if withdrawn.get(channel) else channel


def _inbox_url(request) -> str:
    """The inbox as this person last listed it (filters, sort, page)."""
    query = request.session.get(INBOX_QUERY_KEY, "")
    return reverse("leads:inbox") + (f"?{query}" if query else "")


def _reply_address(lead: Lead, **read) -> dict:
    """Where an answer goes (`read`: as lead_reply_address takes it) and, when that is not the
    customer's address on file, how that address came to their record: the composer says so."""
    address = lead_reply_address(lead=lead, **read)
    return {
        "reply_address": address,
        "reply_address_not_on_file": customer_address_not_on_file(customer=lead.customer, address=address),
    }


def _lead_page(request, lead: Lead, *, reply_form: ReplyForm | None = None, **overrides):
    """The lead page's context; `reply_form`: an answer refused, back with what was written."""
    timeline = lead_timeline(lead=lead)
    said = [entry.message for entry in timeline if entry.message]
    # The card lists every address and number; most customers have one of each, read with the lead.
    extra_emails = list(lead.customer.extra_emails.all()) if lead.has_other_emails else []
    other_emails = {extra.email for extra in extra_emails}
    consent = _consent_shown(lead.customer)
    language = reply_language(lead=lead, timeline=timeline)
    vehicles = lead_vehicles_with_stock(lead.vehicles.all())
    if reply_form is None:
        reply_form = _composer_form(
            request, lead, language, vehicles=vehicles, said=said, other_emails=other_emails
        )
    else:
        reply_form.unavailable = vehicles_unavailable(vehicles)  # the page's warnings beside it
    context = {
        "lead": lead,
        "page_address": reverse("leads:lead_detail", args=[lead.pk]),
        "inbox_url": _inbox_url(request),
        "clock": response_clock(lead, deadlines=response_deadlines()),
        "vehicles": vehicles,
        "timeline": timeline,
        "unsent_mail": lead_unsent_mail(timeline=timeline),
        "waiting_mail": lead_mail_waiting(timeline=timeline),
        **_reply_address(lead, messages=said, other_emails=other_emails),
        "inbound_mail": lead_inbound_mail(lead=lead) if lead.has_inbound_mail else [],
        "reply_language": language,
        "transition_form": LeadTransitionForm(lead=lead, person=request.user),
        "reply_form": reply_form,
        "log_form": ContactLogForm(initial={"channel": _log_channel(lead.customer, consent)}),
        "next_steps": lead_next_steps_open(lead=lead) if lead.has_next_steps else [],
        # Offered only when the customer has another lead this person may fold into this one.
        "merge_form": LeadMergeForm(duplicates=lead_duplicates(user=request.user, lead=lead))
        if lead.has_duplicates and not lead.merged_into_id
        else None,
        "extra_emails": extra_emails,
        "extra_phones": list(lead.customer.extra_phones.all()) if lead.has_other_phones else [],
        "prefers_email": lead.customer.preferred_channel == PreferredChannel.EMAIL,
        # Follow-up plans and booking for others are the supervisor's and managers'.
        "oversees_store": oversees_store(request.user),
        # Who owns the lead is the supervisor's and managers' to change; advisors see it only.
        "assign_form": LeadAssignForm(lead=lead)
        if oversees_store(request.user) and not lead.merged_into_id
        else None,
        **consent,
        **overrides,
    }
    return context


@login_required
def inbox_waiting(request):
    """The menu's link to the inbox with how many leads wait for an answer: new ones not answered
    yet, and customers who wrote again. Asked for by every page once shown, then every 30 s; the
    tab's title shows it too (waiting.js), for a supervisor working in another window."""
    if not sees_leads(request.user):
        raise PermissionDenied
    return render(
        request, "base.html#leads_link", {"waiting": leads_waiting(user=request.user), "polled": True}
    )


@login_required
def lead_detail(request, pk: int):
    lead = _lead_or_404(request, pk)
    if request.htmx and "template" in request.GET:
        language = reply_language(lead=lead)
        return render(
            request,
            "leads/_composer_response.html",
            {
                "lead": lead,
                "reply_form": _composer_form(request, lead, language),
                **_reply_address(lead),
            },
        )
    return render(request, "leads/lead_detail.html", _lead_page(request, lead))


@login_required
@require_POST
def lead_transition_view(request, pk: int):
    try:
        lead = _lead_or_404(request, pk)
    except Http404:
        return _taken_away_or_404(request, pk, written=request.POST.get("reason", ""), name="status")
    form = LeadTransitionForm(request.POST, lead=lead, person=request.user)
    if form.is_valid():
        try:
            lead = lead_transition(
                lead=lead,
                to_status=form.cleaned_data["status"],
                actor=request.user,
                reason=form.cleaned_data["reason"],
                shown_status=form.cleaned_data["shown_status"] or None,
                by_hand=True,
            )
            cancelled = lead.appointments_cancelled
            messages.success(
                request,
                ngettext(
                    "Status changed; %(count)d appointment cancelled (the customer and the advisor are told).",
                    "Status changed; %(count)d appointments cancelled (the customer and the advisor are told).",
                    cancelled,
                )
                % {"count": cancelled}
                if cancelled
                else _("Status changed."),
            )
        except TransitionError as error:
            messages.error(request, str(error))
    else:
        # What was refused, field by field (a status no longer offered, a reason too long).
        messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
    return redirect("leads:lead_detail", pk=lead.pk)


@login_required
@require_POST
def lead_reply(request, pk: int):
    try:
        lead = _lead_or_404(request, pk)
    except Http404:
        return _taken_away_or_404(request, pk, written=request.POST.get("body", ""), name="reply")
    form = ReplyForm(request.POST, templates=reply_templates_offered())
    if form.is_valid():
        try:
            reply_queue(
                lead=lead,
                author=request.user,
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
                language=form.cleaned_data["language"],
                # The latest message the sender knows of, one sent anyway after included.
                shown_answer=form.cleaned_data["shown_answer"],
                unavailable_shown=form.cleaned_data["unavailable_shown"],
            )
        except HeldMeanwhile as error:
            form.add_error(None, str(error))
            form.answered_meanwhile = error.answer  # offers to send anyway, once that answer is read
            # An answer on another inquiry of the customer's is linked, when this person may open it.
            form.answered_on_lead = error.readable_elsewhere
        except ReplyError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, _("Your answer to %(customer)s is being sent.") % {"customer": lead.customer}
            )
            return redirect("leads:lead_detail", pk=lead.pk)
    # Nothing is lost: the page comes back with what was written and the reason.
    return render(request, "leads/lead_detail.html", _lead_page(request, lead, reply_form=form), status=400)


@login_required
@require_POST
def lead_template_use(request, pk: int):
    """The picker's "Use template" without JS: the reply form comes with the template picked. A
    composer left empty or holding the draft the page wrote takes that template's draft; words of
    the person's own are never replaced unasked: the page comes back with them, and says how to."""
    lead = _lead_or_404(request, pk)
    templates = reply_templates_offered()
    picked = request.POST.get("template", "")
    form = ReplyForm(request.POST, initial={"template": picked}, templates=templates)
    shown = _template_offered(templates, request.POST.get("drafted_from", ""))
    if not form.holds_own_words(reply_draft(template=shown, lead=lead, sender=request.user)):
        url = reverse("leads:lead_detail", args=[lead.pk])
        return redirect(f"{url}?{urlencode({'template': picked})}")
    form.words_kept = True  # shown with the template asked for, and the way to replace them
    return render(request, "leads/lead_detail.html", _lead_page(request, lead, reply_form=form))


@login_required
@require_POST
def lead_log(request, pk: int):
    try:
        lead = _lead_or_404(request, pk)
    except Http404:
        return _taken_away_or_404(request, pk, written=request.POST.get("notes", ""), name="log")
    form = ContactLogForm(request.POST)
    if form.is_valid():
        try:
            contact_log(lead=lead, author=request.user, **form.cleaned_data)
        except ContactLogError as error:
            form.add_error(error.field, str(error))
        else:
            if not request.htmx:
                messages.success(request, _("Added to the conversation."))
                return redirect("leads:lead_detail", pk=lead.pk)
            form = ContactLogForm(initial={"channel": form.cleaned_data["channel"]})
    if form.errors and not request.htmx:
        return render(request, "leads/lead_detail.html", _lead_page(request, lead, log_form=form), status=400)
    # The timeline; the form (fresh, or with its errors), the status and clock, and the status
    # form (a call may have moved the lead on) out of band.
    lead = _lead_or_404(request, pk)
    return render(
        request,
        "leads/_log_response.html",
        {
            "lead": lead,
            "inbox_url": _inbox_url(request),
            "clock": response_clock(lead, deadlines=response_deadlines()),
            "log_form": form,
            "next_steps": lead_next_steps_open(lead=lead),
            "timeline": lead_timeline(lead=lead),
            "transition_form": LeadTransitionForm(lead=lead, person=request.user),
            **_consent_shown(lead.customer),  # the log form's warnings
        },
    )


@login_required
@require_POST
def lead_merge_view(request, pk: int):
    lead = _lead_or_404(request, pk)
    if refusal := lead_merged_refusal(lead):  # merged itself since the page offered the merge
        messages.error(request, refusal)
        return redirect("leads:lead_detail", pk=lead.pk)
    form = LeadMergeForm(request.POST, duplicates=lead_duplicates(user=request.user, lead=lead))
    if form.is_valid():
        try:
            lead_merge(target=lead, duplicate=form.cleaned_data["duplicate"], actor=request.user)
            messages.success(
                request,
                _("Lead %(number)s merged into this one.") % {"number": form.cleaned_data["duplicate"].pk},
            )
        except MergeError as error:
            messages.error(request, str(error))
    else:
        messages.error(request, _("Choose a lead of this customer to merge."))
    return redirect("leads:lead_detail", pk=lead.pk)


@login_required
@require_POST
def lead_assign_view(request, pk: int):
    lead = _lead_or_404(request, pk)
    if not oversees_store(request.user):
        raise PermissionDenied(_("Only supervisors and managers assign leads."))
    form = LeadAssignForm(request.POST, lead=lead)
    if form.is_valid():
        before = lead.owner_id
        try:
            lead = lead_assign(
                lead=lead,
                owner=form.cleaned_data["owner"],
                actor=request.user,
                shown_owner=form.cleaned_data["shown_owner"],
            )
        except AssignmentError as error:
            messages.error(request, str(error))
        else:
            if lead.owner_id == before:
                messages.info(request, _("Nothing changed: the lead already had that owner."))
            elif lead.owner:
                messages.success(
                    request,
                    _("The lead is assigned to %(name)s: it is in their inbox.")
                    % {"name": person_name(lead.owner)},
                )
            else:
                messages.success(request, _("The lead is unassigned: no advisor sees it now."))
    else:
        messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
    return redirect("leads:lead_detail", pk=lead.pk)


@login_required
def attachment_download(request, pk: int):
    attachment = get_object_or_404(
        Attachment.objects.filter(message__lead__in=lead_visible_to(user=request.user)).exclude(file=""),
        pk=pk,
    )
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type or "application/octet-stream",
    )


def _template_manager(request) -> None:
    if not can_manage_reply_templates(user=request.user):
        raise PermissionDenied(_("Only supervisors and managers manage reply templates."))


@login_required
def replytemplate_list(request):
    _template_manager(request)
    return render(request, "leads/replytemplate_list.html", {"templates": reply_templates()})


@login_required
def replytemplate_edit(request, pk: int | None = None):
    _template_manager(request)
    template = get_object_or_404(ReplyTemplate, pk=pk) if pk else None
    form = ReplyTemplateForm(request.POST or None, instance=template)
    if request.method == "POST" and form.is_valid():
        try:
            saved = reply_template_save(template=template, **form.cleaned_data)
        except TemplateChangedMeanwhile as error:
            form.add_error(None, str(error))
            form.changed_meanwhile(error.current)  # shown beside what was typed; saving again replaces it
            template = error.current  # the page names the template as it is, not as typed
        except ReplyError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Template “%(name)s” saved.") % {"name": saved.name})
            return redirect("leads:replytemplate_list")
    return render(request, "leads/replytemplate_form.html", {"form": form, "template": template})


@login_required
def replytemplate_delete(request, pk: int):
    _template_manager(request)
    template = get_object_or_404(ReplyTemplate, pk=pk)
    if request.method == "POST":
        try:
            reply_template_delete(template=template)
        except ReplyError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Template “%(name)s” deleted.") % {"name": template.name})
        return redirect("leads:replytemplate_list")
    plans = reply_template_plans(template=template)
    plan_names = ", ".join(_("“%(name)s”") % {"name": plan_text(name)} for name in plans)
    return render(
        request,
        "leads/replytemplate_confirm_delete.html",
        {"template": template, "plans": plans, "plan_names": plan_names},
    )


@login_required
def my_appointments(request):
    now = timezone.now()
    agenda = advisor_agenda(user=request.user, now=now)
    return render(
        request, "leads/my_appointments.html", {"agenda": agenda, "today": timezone.localdate(), "now": now}
    )


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
    inbound = _visible_or_404(inbound_mail_raw, InboundMail, request, pk)
    response = HttpResponse(bytes(inbound.raw), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="inbound-{inbound.pk}.eml"'
    return response


@login_required
@require_POST
def inbound_mail_replay_view(request, pk: int):
    inbound = _inbound_or_404(request, pk)
    try:
        inbound_replay(inbound=inbound)
        messages.success(request, _("The message was queued to be processed again."))
    except ReplayError as error:
        messages.error(request, str(error))
    return redirect("leads:inbound_mail_detail", pk=inbound.pk)
