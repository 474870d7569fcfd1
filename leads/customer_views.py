"""Customer pages: list, card and timeline, edit, consent, audit, duplicates, import and export,
loyalty rules and tasks; and the public unsubscribe page."""

import json
from collections.abc import Sequence
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh

from dealership.access import NO_STAFF_ROLE, staff_role_required
from dealership.client_address import client_address
from dealership.csv_download import csv_download
from dealership.numbers import is_ascii_digits

from .consent_links import unsubscribe_link_language
from .customer_forms import (
    ConsentGrantForm,
    ConsentWithdrawForm,
    ContactAddForm,
    CustomerForm,
    CustomerMergeForm,
    CustomerSearchForm,
    ImportMappingForm,
    ImportUploadForm,
)
from .models import ConsentChannel, Customer, CustomerImport, CustomerMerge, LoyaltyRule, Task
from .selectors.consent import (
    consent_channels_withdrawn,
    consent_ledger,
    consent_overview,
)
from .selectors.customers import (
    can_change_customer,
    can_manage_customers,
    can_use_customers,
    customer_audit,
    customer_data_export,
    customer_duplicates,
    customer_export_rows,
    customer_get,
    customer_search,
    customer_timeline,
    tasks_done,
    tasks_to_do,
)
from .services.consent import consent_grant, consent_withdraw, unsubscribe_customer
from .services.customer_import import RUNNING, csv_rows, import_create, import_start
from .services.customers import (
    MergeError,
    customer_contacts_add,
    customer_merge,
    customer_update,
)
from .services.loyalty import loyalty_rule_set, loyalty_rules_ensure, task_done


def manager_required(view):
    """Merging, importing and loyalty rules: supervisors, managers and admins only."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not can_manage_customers(request.user):
            raise PermissionDenied(_("Supervisors and managers only."))
        return view(request, *args, **kwargs)

    return wrapper


# Why someone may not open or change customer records, in words they can act on.
NO_CUSTOMER_PAGES = gettext_lazy(
    "Customer records are for sales advisors, supervisors and managers. Department staff see the "
    "mail forwarded to them under Department mail."
)
NO_CHANGES = gettext_lazy(
    "Only a supervisor, a manager or the advisor assigned to one of this customer's leads may "
    "change their contact details or consent."
)
MERGED_RECORD = gettext_lazy(
    "This record was merged into %(merged_into)s: make the change on that record, nothing was changed here."
)
# The list is paged: a store's whole file is thousands of customers.
CUSTOMERS_PER_PAGE = 100
EXPORT_FOR_MANAGERS = gettext_lazy("A customer's data export is for supervisors and managers only.")


def customer_pages(view):
    """Customer pages: advisors and those who oversee the store (see can_use_customers). A refusal,
    here or in the view, is the 403 page, which says why."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not can_use_customers(request.user):
            has_role = getattr(request.user, "staff", None) is not None
            raise PermissionDenied(str(NO_CUSTOMER_PAGES if has_role else NO_STAFF_ROLE))
        return view(request, *args, **kwargs)

    return wrapper


def _customer_or_404(request, pk: int) -> Customer:
    try:
        return customer_get(pk=pk, user=request.user)
    except Customer.DoesNotExist:
        raise Http404("No such customer.") from None


def _customer_to_change(request, pk: int) -> Customer:
    """The customer, when this person may correct their contact details and consent."""
    customer = _customer_or_404(request, pk)
    if customer.merged_into_id:
        raise PermissionDenied(MERGED_RECORD % {"merged_into": customer.merged_into})
    if not can_change_customer(user=request.user, customer=customer):
        raise PermissionDenied(str(NO_CHANGES))
    return customer


def _customer_page(request, template: str, customer: Customer, *, status: int = 200, **context):
    """A page of one customer, with what its menu offers this person."""
    return render(
        request,
        template,
        {
            "customer": customer,
            "can_change": can_change_customer(user=request.user, customer=customer),
            "can_manage": can_manage_customers(request.user),
            **context,
        },
        status=status,
    )


@customer_pages
def customer_list(request):
    form = CustomerSearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    page = request.GET.get("page", "")
    page = int(page) if is_ascii_digits(page) and 0 < int(page) <= 100_000 else 1
    start = (page - 1) * CUSTOMERS_PER_PAGE
    customers = list(customer_search(user=request.user, query=query)[start : start + CUSTOMERS_PER_PAGE + 1])

    def page_url(number: int) -> str:
        return "?" + urlencode({**({"q": query} if query else {}), "page": number})

    template = "leads/customer_list.html#table" if request.htmx else "leads/customer_list.html"
    context = {
        "customers": customers[:CUSTOMERS_PER_PAGE],
        "query": query,
        "form": form,
        "previous_url": page_url(page - 1) if page > 1 else "",
        "next_url": page_url(page + 1) if len(customers) > CUSTOMERS_PER_PAGE else "",
        "can_manage": can_manage_customers(request.user),
    }
    return render(request, template, context)


def _card_page(request, customer: Customer, contact_form: ContactAddForm | None = None, status: int = 200):
    """The customer's card; its "another email or phone" form comes back bound when refused."""
    return _customer_page(
        request,
        "leads/customer_detail.html",
        customer,
        status=status,
        page_address=reverse("leads:customer_detail", args=[customer.pk]),
        timeline=customer_timeline(customer=customer, user=request.user),
        consent=consent_overview(customer=customer),
        tasks=customer.tasks.filter(done_at__isnull=True).select_related("assignee"),
        contact_form=contact_form or ContactAddForm(),
        merges=CustomerMerge.objects.filter(target=customer).select_related("duplicate", "actor"),
    )


@customer_pages
def customer_detail(request, pk: int):
    return _card_page(request, _customer_or_404(request, pk))


@customer_pages
def customer_edit(request, pk: int):
    customer = _customer_to_change(request, pk)
    form = CustomerForm(request.POST or None, instance=get_object_or_404(Customer, pk=pk))
    if request.method == "POST" and form.is_valid():
        try:
            customer_update(customer=customer, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)  # a field's errors go to that field
        else:
            messages.success(request, _("Customer saved."))
            return redirect("leads:customer_detail", pk=customer.pk)
    return _customer_page(request, "leads/customer_form.html", customer, form=form)


@customer_pages
@require_POST
def customer_contact_add(request, pk: int):
    customer = _customer_to_change(request, pk)
    form = ContactAddForm(request.POST)
    if form.is_valid():
        try:
            added = customer_contacts_add(
                customer=customer,
                email=form.cleaned_data["email"],
                phone=form.cleaned_data["phone"],
                phone_kind=form.cleaned_data["phone_kind"] or "mobile",
                actor=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)  # the email's or the phone's refusal goes to that field
            # Both or neither: the one not refused was not added either.
            messages.error(request, _("Nothing was added."))
        else:
            if added:
                messages.success(request, _("Added: %(contacts)s.") % {"contacts": ", ".join(added)})
            else:
                messages.info(request, _("The customer already has these contact details."))
            return redirect("leads:customer_detail", pk=pk)
    # The card again with what was typed and why it was refused: nothing to type a second time.
    return _card_page(request, customer, contact_form=form, status=400)


def _consent_page(request, customer: Customer, grant_form=None, withdraw_form=None):
    return _customer_page(
        request,
        "leads/customer_consent.html",
        customer,
        consent=consent_overview(customer=customer),
        ledger=consent_ledger(customer=customer).select_related("copied_from"),
        grant_form=grant_form or ConsentGrantForm(),
        withdraw_form=withdraw_form or ConsentWithdrawForm(),
    )


@customer_pages
def customer_consent(request, pk: int):
    return _consent_page(request, _customer_or_404(request, pk))


@customer_pages
@require_POST
def customer_consent_grant(request, pk: int):
    customer = _customer_to_change(request, pk)
    form = ConsentGrantForm(request.POST)
    if form.is_valid():
        try:
            consent_grant(customer=customer, actor=request.user, proof_ip=None, **form.cleaned_data)
        except ValueError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Consent recorded."))
            return redirect("leads:customer_consent", pk=pk)
    return _consent_page(request, customer, grant_form=form)


@customer_pages
@require_POST
def customer_consent_withdraw(request, pk: int):
    customer = _customer_to_change(request, pk)
    form = ConsentWithdrawForm(request.POST)
    if form.is_valid():
        consent_withdraw(customer=customer, actor=request.user, **form.cleaned_data)
        messages.success(request, _("Withdrawal recorded; it takes effect now."))
        return redirect("leads:customer_consent", pk=pk)
    return _consent_page(request, customer, withdraw_form=form)


@customer_pages
def customer_audit_view(request, pk: int):
    customer = _customer_or_404(request, pk)
    return _customer_page(
        request, "leads/customer_audit.html", customer, entries=customer_audit(customer=customer)
    )


@customer_pages
def customer_export_json(request, pk: int):
    """A customer's data, for a request under privacy law: for those who oversee the store, like
    the store-wide CSV export."""
    if not can_manage_customers(request.user):
        raise PermissionDenied(str(EXPORT_FOR_MANAGERS))
    customer = _customer_or_404(request, pk)
    data = json.dumps(
        customer_data_export(customer=customer, user=request.user),
        cls=DjangoJSONEncoder,
        indent=2,
        ensure_ascii=False,
    )
    response = HttpResponse(data, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="customer-{customer.pk}.json"'
    return response


@manager_required
def customers_export_csv(request):
    return csv_download("customers.csv", customer_export_rows())


@manager_required
def customer_duplicates_view(request):
    return render(request, "leads/customer_duplicates.html", {"pairs": customer_duplicates()})


@manager_required
@require_POST
def customer_merge_view(request):
    form = CustomerMergeForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, " ".join(sorted({error for errors in form.errors.values() for error in errors}))
        )
        return redirect("leads:customer_duplicates")
    target, duplicate = form.cleaned_data["target"], form.cleaned_data["duplicate"]
    try:
        customer_merge(target=target, duplicate=duplicate, actor=request.user)
    except MergeError as error:
        messages.error(request, str(error))
        return redirect("leads:customer_duplicates")
    messages.success(
        request, _("%(duplicate)s merged into %(target)s.") % {"duplicate": duplicate, "target": target}
    )
    return redirect("leads:customer_detail", pk=target.pk)


@manager_required
def customer_import_upload(request):
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = import_create(filename=upload.name, data=upload.read(), actor=request.user)
        except ValidationError as error:
            form.add_error("file", error.messages)
        else:
            return redirect("leads:customer_import_mapping", pk=batch.pk)
    return render(request, "leads/customer_import.html", {"form": form})


@manager_required
def customer_import_mapping(request, pk: int):
    batch = get_object_or_404(CustomerImport, pk=pk)
    if request.htmx:  # the page polls while a worker runs: nothing new, or reload to show the result
        return HttpResponse(status=204) if batch.state in RUNNING else HttpResponseClientRefresh()
    header, rows = csv_rows(batch.content)
    form = ImportMappingForm(request.POST or None, header=header, initial_mapping=batch.mapping)
    if request.method == "POST" and form.is_valid():
        try:
            import_start(
                batch=batch,
                mapping=form.mapping(),
                apply=request.POST.get("action") == "apply",
                actor=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            return redirect("leads:customer_import_mapping", pk=batch.pk)
    context = {
        "batch": batch,
        "form": form,
        "sample": rows[:5],
        "header": header,
        "running": batch.state in RUNNING,
        "summary": batch.summary,
        "errors": batch.summary.get("errors", []),
    }
    return render(request, "leads/customer_import_mapping.html", context)


@manager_required
def loyalty_rules(request):
    return render(request, "leads/loyaltyrule_list.html", {"rules": loyalty_rules_ensure()})


@manager_required
@require_POST
def loyalty_rule_toggle(request, pk: int):
    rule = get_object_or_404(LoyaltyRule, pk=pk)
    loyalty_rule_set(rule=rule, enabled=request.POST.get("enabled") == "on", actor=request.user)
    if request.htmx:
        return render(request, "leads/loyaltyrule_list.html#rule", {"rule": rule})
    messages.success(request, (_("%(rule)s on.") if rule.enabled else _("%(rule)s off.")) % {"rule": rule})
    return redirect("leads:loyalty_rules")


# Tasks show the customers' contact details: for people with a staff role (department staff too,
# who have no customer pages), not an account taken off the staff.
@staff_role_required
def my_tasks(request):
    return render(
        request,
        "leads/task_list.html",
        {
            "tasks": tasks_to_do(user=request.user),
            "done": tasks_done(user=request.user),
            # Department staff do their tasks from the contact details shown: no customer pages.
            "opens_customers": can_use_customers(request.user),
        },
    )


@staff_role_required
@require_POST
def task_done_view(request, pk: int):
    task = get_object_or_404(Task, pk=pk, assignee=request.user)
    task_done(task=task, user=request.user)
    messages.success(request, _("Done: %(task)s") % {"task": task.display_title})
    return redirect("leads:my_tasks")


UNSUBSCRIBE_TEXT = {
    "en": {
        "title": "Your messages from {store}",
        "intro": "Choose the messages you no longer want to receive from {store}.",
        "all": "All messages",
        "channels": {"email": "Email", "text": "Text messages", "phone": "Phone calls"},
        "submit": "Unsubscribe",
        "done": "You are unsubscribed",
        "done_detail": "{store} will no longer send you: {channels}. This takes effect now.",
        "already": "You are already unsubscribed from: {channels}.",
        "invalid": "This unsubscribe link is not valid. Please contact {store} at {phone}.",
        "choose": "Choose at least one kind of message.",
    },
    "fr": {
        "title": "Vos messages de {store}",
        "intro": "Choisissez les messages que vous ne voulez plus recevoir de {store}.",
        "all": "Tous les messages",
        "channels": {"email": "Courriels", "text": "Textos", "phone": "Appels téléphoniques"},
        "submit": "Me désabonner",
        "done": "Votre désabonnement est confirmé",
        "done_detail": "{store} ne vous enverra plus\u00a0: {channels}. Cela prend effet immédiatement.",
        "already": "Votre désabonnement est déjà en vigueur pour\u00a0: {channels}.",
        "invalid": "Ce lien de désabonnement n’est pas valide. Veuillez joindre {store} au {phone}.",
        "choose": "Choisissez au moins un type de message.",
    },
}


def _unsubscribe_text(language: str, channels: Sequence[str] = ()) -> dict:
    store, words = settings.STORE, UNSUBSCRIBE_TEXT[language]
    names = ", ".join(words["channels"][channel] for channel in channels).lower()
    return {
        key: value.format(store=store["name"], phone=store["phone"], channels=names)
        if isinstance(value, str)
        else value
        for key, value in words.items()
    }


# Public: the link in every commercial email works without logging in. The signed token is the
# credential, and mail programs' one-click POST (RFC 8058) carries no CSRF token.
@csrf_exempt
def unsubscribe(request, token: str):
    customer = unsubscribe_customer(token)
    # The page speaks the mail's language, which the link carries: the customer's record may say
    # another (a French inquiry from someone first known in English, a merge). A link without it
    # speaks the record's; a link not ours (cut off by a mail program), the visitor's.
    language = unsubscribe_link_language(request.GET.get("lang")) or (
        customer.language if customer else ("fr" if get_language().startswith("fr") else "en")
    )
    text = _unsubscribe_text(language)
    context = {
        "text": text,
        "language": language,
        "token": token,
        "customer": customer,
        "channel_choices": [(value, text["channels"][value]) for value in ConsentChannel.values],
    }
    if customer is None:
        return render(request, "leads/unsubscribe.html", context, status=404)
    # Opened again: say what is already done, and offer only what is left.
    if withdrawn := consent_channels_withdrawn(customer=customer):
        context["already"] = _unsubscribe_text(language, channels=withdrawn)["already"]
        context["channel_choices"] = [
            (value, label) for value, label in context["channel_choices"] if value not in withdrawn
        ]
    if request.method == "POST":
        if request.POST.get("List-Unsubscribe") == "One-Click":
            channels = [ConsentChannel.EMAIL]
        elif request.POST.get("all"):
            channels = list(ConsentChannel.values)
        else:
            channels = [c for c in request.POST.getlist("channels") if c in ConsentChannel.values]
        if not channels:
            context["error"] = text["choose"]
            return render(request, "leads/unsubscribe.html", context, status=400)
        consent_withdraw(
            customer=customer, channels=channels, source="unsubscribe link", ip=client_address(request)
        )
        context["confirmed"] = _unsubscribe_text(language, channels=channels)["done_detail"]
    return render(request, "leads/unsubscribe.html", context)
